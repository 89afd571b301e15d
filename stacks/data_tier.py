"""Data tier wiring: the RDS primary and its cross-region replicas (components/database.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.database import Database, DatabaseArgs
from components.db_site import DbPlacement
from stacks.config import LogicalRegion, StackConfig
from stacks.foundation import Foundation

DATABASE_NAME = "app"
DATABASE_PORT = 5432
CLIENT_WORKLOADS = ("app", "pipeline")  # identity security groups admitted in the database's own region


@dataclass
class DataTier:
    """What later tiers read: where the databases are and how to authenticate."""

    database: Database  # the component itself (the dashboard charts its instances)
    primary_address: pulumi.Output[str]
    replica_addresses: dict[LogicalRegion, pulumi.Output[str]]
    secret_arn: pulumi.Output[str]
    database_name: str = DATABASE_NAME
    port: int = DATABASE_PORT
    outputs: dict[str, Any] = field(default_factory=dict)


def backup_replication_region(config: StackConfig) -> str | None:
    """Where production copies the primary's automated backups (validated in stacks/config.py); staging: None."""
    return config.backup_replication_region


def placement(foundation: Foundation, region: LogicalRegion) -> DbPlacement:
    """A database region's VPC, its same-region workload groups, and the private CIDRs of other app regions."""
    network = foundation.networks[region]
    return DbPlacement(
        logical_region=region,
        aws_region=foundation.config.aws_region_of(region),
        vpc_id=network.vpc.id,
        subnet_ids=network.private_subnet_ids,
        client_security_group_ids={
            workload: network.workload_security_groups[workload].id
            for workload in CLIENT_WORKLOADS
            if workload in network.workload_security_groups
        },
        client_cidrs=[
            cidr
            for app_region in foundation.config.app_regions
            if app_region != region
            for cidr in foundation.networks[app_region].private_cidrs
        ],
    )


def build_data_tier(foundation: Foundation) -> DataTier:
    """Primary in primaryRegion, one replica per readReplicaRegions entry; production keeps everything safe."""
    config = foundation.config
    database = config.database
    production = config.is_production
    db = Database(
        "database",
        DatabaseArgs(
            identifier_prefix=foundation.prefix,
            primary=placement(foundation, config.primary_region),
            replicas=[placement(foundation, region) for region in config.read_replica_regions],
            monitoring=foundation.monitoring,
            engine_version=database.engine_version,
            parameter_group_family=database.parameter_group_family,
            instance_class=database.instance_class,
            allocated_storage_gib=database.allocated_storage,
            max_allocated_storage_gib=database.max_allocated_storage,
            backup_retention_days=database.backup_retention_days,
            max_replica_lag_seconds=database.max_replica_lag_seconds,
            # Multi-AZ is what the stack says (the committed staging stack says no); safety defaults say yes.
            multi_az=database.multi_az,
            protected=production,
            backup_replication_region=backup_replication_region(config),
            database_name=DATABASE_NAME,
            port=DATABASE_PORT,
            log_retention_days=365 if production else 30,
            tags=foundation.tags,
        ),
    )
    replica_addresses: dict[LogicalRegion, pulumi.Output[str]] = {
        region: db.replicas[region].address for region in config.read_replica_regions
    }
    return DataTier(
        primary_address=db.primary.address,
        replica_addresses=replica_addresses,
        secret_arn=db.secret_arn,
        database=db,
        outputs={
            "databasePrimaryEndpoint": db.primary.address,
            "databaseReplicaEndpoints": dict(replica_addresses),
            "databaseSecretArn": db.secret_arn,
        },
    )
