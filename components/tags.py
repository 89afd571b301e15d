"""Tag names every component sets. ops/tags.py reads the same names to find a stack's databases
(tests/infra/test_tag_contract.py fails if the two drift apart)."""

from __future__ import annotations

PROJECT = "Project"
STACK = "Stack"
ENVIRONMENT = "Environment"
DB_ROLE = "DbRole"  # primary | replica
LOGICAL_REGION = "LogicalRegion"  # eu | us | asia
MAX_REPLICA_LAG_SECONDS = "MaxReplicaLagSeconds"


def stack_tags(project: str, stack: str, environment: str) -> dict[str, str]:
    """Tags on every taggable resource: who owns it and how safe it must be kept."""
    return {PROJECT: project, STACK: stack, ENVIRONMENT: environment, "ManagedBy": "pulumi"}
