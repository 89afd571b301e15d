"""The tags every taggable resource carries; their names and values are contracts/tags.py's (the ops tool finds a
stack's databases by them)."""

from __future__ import annotations

from contracts.tags import ENVIRONMENT, MANAGED_BY, MANAGED_BY_VALUE, PROJECT, STACK


def stack_tags(project: str, stack: str, environment: str) -> dict[str, str]:
    """Tags on every taggable resource: who owns it and how safe it must be kept."""
    return {PROJECT: project, STACK: stack, ENVIRONMENT: environment, MANAGED_BY: MANAGED_BY_VALUE}
