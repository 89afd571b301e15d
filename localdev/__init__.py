"""Local data plane for `make run` and the tests: one implementation of the PostgreSQL cluster."""
