"""Stack config and the composition of components per region."""
