"""moto tests for the ops commands."""
