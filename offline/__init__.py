"""Offline evaluation of the real Pulumi program under mocks: the tests, `make plan` and the diagram share it."""
