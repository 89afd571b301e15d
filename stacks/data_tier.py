"""Data tier wiring: the RDS primary and its cross-region replicas (components/database.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from stacks.config import LogicalRegion
from stacks.foundation import Foundation


@dataclass
class DataTier:
    """What later tiers read: where the databases are and how to authenticate."""

    primary_address: pulumi.Output[str] | None = None
    replica_addresses: dict[LogicalRegion, pulumi.Output[str]] = field(default_factory=dict)
    secret_arn: pulumi.Output[str] | None = None
    database_name: str = "app"
    port: int = 5432
    outputs: dict[str, Any] = field(default_factory=dict)


def build_data_tier(foundation: Foundation) -> DataTier:
    # TODO(database helper): build components.database.Database from foundation.config and fill DataTier.
    return DataTier()
