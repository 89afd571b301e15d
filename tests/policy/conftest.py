"""The policy tests evaluate the same stacks as the infra tests, through the same cached fixtures."""

from tests.infra.conftest import each_stack, staging

__all__ = ["each_stack", "staging"]
