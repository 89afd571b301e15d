"""Data tier wiring: the RDS primary and its cross-region replicas (components/database.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.database import Database, DatabaseArgs
from components.db_site import DbPlacement
from contracts.tags import DbRole
from stacks.config import LogicalRegion, StackConfig
from stacks.foundation import Foundation

DATABASE_NAME = "app"
DATABASE_PORT = 5432
CLIENT_WORKLOADS = ("app", "pipeline")  # identity security groups admitted in the database's own region


@dataclass(frozen=True)
class DatabaseInstance:
    """One RDS instance as the other tiers see it: where it is and what names it."""

    label: str  # "primary" or "replica-<logical region>"
    role: DbRole
    logical_region: LogicalRegion
    aws_region: str
    identifier: pulumi.Output[str]  # CloudWatch's DBInstanceIdentifier dimension
    address: pulumi.Output[str]
    resource_id: pulumi.Output[str]  # what IAM database authentication (rds-db:connect) names
    arn: pulumi.Output[str]  # its partition and account, for the rds-db:connect resource


@dataclass
class DataTier:
    """What later tiers read: the instances by label, a URL builder and the master secret's ARN."""

    instances: dict[str, DatabaseInstance]  # "primary" first, then "replica-<region>" in config order
    secret_arn: pulumi.Output[str]
    database_name: str = DATABASE_NAME
    port: int = DATABASE_PORT
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> DatabaseInstance:
        return self.instances["primary"]

    @property
    def replicas(self) -> dict[LogicalRegion, DatabaseInstance]:
        return {i.logical_region: i for i in self.instances.values() if i.role == "replica"}

    def url(self, instance: DatabaseInstance, user: str | None = None) -> pulumi.Output[str]:
        """A password-free TLS URL; with `user`, the role the client logs in as (an IAM token is its password)."""
        login = f"{user}@" if user else ""
        return pulumi.Output.concat(
            f"postgresql://{login}", instance.address, ":", str(self.port), "/", self.database_name, "?sslmode=require"
        )


def backup_replication_region(config: StackConfig) -> str | None:
    """Where production copies the primary's automated backups (validated in stacks/config.py); staging: None."""
    return config.backup_replication_region


def placement(config: StackConfig, foundation: Foundation, region: LogicalRegion) -> DbPlacement:
    """A database region's VPC, its same-region workload groups, and the private CIDRs of other app regions."""
    network = foundation.networks[region]
    return DbPlacement(
        logical_region=region,
        aws_region=config.aws_region_of(region),
        vpc_id=network.vpc.id,
        subnet_ids=network.private_subnet_ids,
        client_security_group_ids={
            workload: network.workload_security_groups[workload].id
            for workload in CLIENT_WORKLOADS
            if workload in network.workload_security_groups
        },
        client_cidrs=[
            cidr
            for app_region in config.app_regions
            if app_region != region
            for cidr in foundation.networks[app_region].private_cidrs
        ],
    )


def build_data_tier(config: StackConfig, foundation: Foundation) -> DataTier:
    """Primary in primaryRegion, one replica per readReplicaRegions entry; production keeps everything safe."""
    database = config.database
    db = Database(
        "database",
        DatabaseArgs(
            identifier_prefix=foundation.prefix,
            primary=placement(config, foundation, config.primary_region),
            replicas=[placement(config, foundation, region) for region in config.read_replica_regions],
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
            protected=config.protect,
            backup_replication_region=backup_replication_region(config),
            database_name=DATABASE_NAME,
            port=DATABASE_PORT,
            log_retention_days=config.log_retention_days,
            tags=foundation.tags,
        ),
    )
    instances = {"primary": _instance("primary", "primary", config, config.primary_region, db.primary)}
    for region in config.read_replica_regions:
        label = f"replica-{region}"
        instances[label] = _instance(label, "replica", config, region, db.replicas[region])
    data = DataTier(instances=instances, secret_arn=db.secret_arn)
    data.outputs = {
        "databasePrimaryEndpoint": data.primary.address,
        "databaseReplicaEndpoints": {region: replica.address for region, replica in data.replicas.items()},
        "databaseSecretArn": db.secret_arn,
    }
    return data


def _instance(
    label: str,
    role: DbRole,
    config: StackConfig,
    region: LogicalRegion,
    instance: aws.rds.Instance,
) -> DatabaseInstance:
    return DatabaseInstance(
        label=label,
        role=role,
        logical_region=region,
        aws_region=config.aws_region_of(region),
        identifier=instance.identifier,
        address=instance.address,
        resource_id=instance.resource_id,
        arn=instance.arn,
    )
