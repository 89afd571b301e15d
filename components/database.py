"""RDS PostgreSQL: an encrypted primary, read replicas in other regions, managed credentials, backups, alarms.

The master password is generated and rotated by RDS in Secrets Manager (`manage_master_user_password`), so no
password is ever in config or state; readers get the secret's ARN. Every instance carries the tags the ops
commands discover databases by (contracts/tags.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.db_alarms import instance_alarms
from components.db_site import POSTGRES_PORT, DbPlacement, DbSite, DbSiteArgs
from components.iam import service_trust_policy
from components.kms import encryption_key
from components.monitoring import Monitoring
from contracts import tags as tag_names
from contracts.tags import DbRole as Role

ENGINE = "postgres"
MASTER_USERNAME = "app_admin"
BACKUP_WINDOW = "02:00-03:00"  # UTC, quiet hours for the primary's region
MAINTENANCE_WINDOW = "sun:03:30-sun:04:30"  # UTC, after the backup window (they must not overlap)
LOG_EXPORTS = ("postgresql", "upgrade")
SLOW_STATEMENT_MS = 500
MONITORING_INTERVAL_SECONDS = 30
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier
# AWS-managed and scoped to exactly this job: publishing OS metrics to the RDSOSMetrics log group.
ENHANCED_MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of the database tier. Defaults are the safe choice; a stack opts out of protection explicitly."""

    identifier_prefix: str  # e.g. global-api-production: RDS identifiers are <prefix>-primary, <prefix>-replica-us
    primary: DbPlacement
    replicas: Sequence[DbPlacement]  # one read replica each; the primary's own placement gives an in-region one
    monitoring: Monitoring  # alarms go through its helper, to its topic in each instance's region
    engine_version: str  # "16" or "16.4": with auto minor upgrades RDS keeps the minor current
    parameter_group_family: str  # e.g. postgres16, matching engine_version
    instance_class: str = "db.t4g.medium"
    allocated_storage_gib: int = 50
    max_allocated_storage_gib: int = 500  # storage autoscaling ceiling
    backup_retention_days: int = 7
    max_replica_lag_seconds: float = 5.0  # the ReplicaLag alarm bound and the replicas' tag
    multi_az: bool = True
    protected: bool = True  # deletion protection, final snapshot, protect=True on instances and keys
    backup_replication_region: str | None = None  # AWS region receiving copies of the primary's automated backups
    database_name: str = "app"
    port: int = POSTGRES_PORT
    log_retention_days: int = 365
    tags: Mapping[str, str] = field(default_factory=dict)


def parameters(role: Role) -> list[aws.rds.ParameterGroupParameterArgs]:
    """TLS only, slow statements logged; replicas tell the primary what they read so vacuum does not cancel it."""
    values = {"rds.force_ssl": "1", "log_min_duration_statement": str(SLOW_STATEMENT_MS), "log_lock_waits": "1"}
    if role == "replica":
        values["hot_standby_feedback"] = "1"
    return [aws.rds.ParameterGroupParameterArgs(name=key, value=value) for key, value in values.items()]


def _first_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    if not secrets or not secrets[0].secret_arn:
        raise ValueError("the primary has no RDS-managed master user secret (manage_master_user_password is off)")
    return secrets[0].secret_arn


class Database(pulumi.ComponentResource):
    """The primary, its replicas, the regional sites they live in, backup replication and every alarm."""

    sites: dict[str, DbSite]
    primary: aws.rds.Instance
    replicas: dict[str, aws.rds.Instance]
    backup_replication: aws.rds.InstanceAutomatedBackupsReplication | None
    secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:database:Database", name, None, opts)
        self.name, self.args = name, args
        self.sites = {}
        self.monitoring_role = self._monitoring_role()
        self.primary = self._primary()
        self.secret_arn = self.primary.master_user_secrets.apply(_first_secret_arn)
        self.replicas = {placement.logical_region: self._replica(placement) for placement in args.replicas}
        self.backup_replication = self._backup_replication()
        self.register_outputs(
            {
                "primaryAddress": self.primary.address,
                "replicaAddresses": {region: replica.address for region, replica in self.replicas.items()},
                "secretArn": self.secret_arn,
            }
        )

    def _site(self, placement: DbPlacement) -> DbSite:
        """One site per logical region, shared by the primary and an in-region replica."""
        if placement.logical_region not in self.sites:
            self.sites[placement.logical_region] = DbSite(
                f"{self.name}-{placement.logical_region}",
                DbSiteArgs(
                    placement=placement,
                    port=self.args.port,
                    protect=self.args.protected,
                    log_retention_days=self.args.log_retention_days,
                    tags=self.args.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self.sites[placement.logical_region]

    def _monitoring_role(self) -> aws.iam.Role:
        """The role enhanced monitoring assumes to publish OS metrics (IAM is global: no region)."""
        role = aws.iam.Role(
            f"{self.name}-monitoring-role",
            assume_role_policy=service_trust_policy("monitoring.rds.amazonaws.com"),
            tags=self.args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicyAttachment(
            f"{self.name}-monitoring-policy",
            role=role.name,
            policy_arn=ENHANCED_MONITORING_POLICY_ARN,
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role

    def _common(self, role: Role, site: DbSite, identifier: str, resource_name: str) -> dict[str, Any]:
        """Settings every instance shares: placement, encryption, exposure, observability, upgrades, tags."""
        args, region = self.args, site.aws_region
        parameter_group = aws.rds.ParameterGroup(
            f"{resource_name}-params",
            region=region,
            family=args.parameter_group_family,
            description=f"{ENGINE} {role}: TLS only, slow statements logged",
            parameters=parameters(role),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=site),
        )
        log_groups = [
            site.log_group(f"{resource_name}-{kind}-logs", f"/aws/rds/instance/{identifier}/{kind}")
            for kind in LOG_EXPORTS
        ]
        instance_tags = {
            **args.tags,
            "Name": identifier,
            tag_names.DB_ROLE: role,
            tag_names.LOGICAL_REGION: site.logical_region,
        }
        if role == "replica":
            instance_tags[tag_names.MAX_REPLICA_LAG_SECONDS] = f"{args.max_replica_lag_seconds:g}"
        return {
            "region": region,
            "identifier": identifier,
            "instance_class": args.instance_class,
            "storage_type": "gp3",
            "max_allocated_storage": args.max_allocated_storage_gib,
            "storage_encrypted": True,
            "db_subnet_group_name": site.subnet_group_name,
            "vpc_security_group_ids": [site.security_group_id],
            "publicly_accessible": False,
            "port": args.port,
            "parameter_group_name": parameter_group.name,
            "iam_database_authentication_enabled": True,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": site.storage_key_arn,
            "performance_insights_retention_period": PERFORMANCE_INSIGHTS_RETENTION_DAYS,
            "monitoring_interval": MONITORING_INTERVAL_SECONDS,
            "monitoring_role_arn": self.monitoring_role.arn,
            "enabled_cloudwatch_logs_exports": list(LOG_EXPORTS),
            "auto_minor_version_upgrade": True,
            "allow_major_version_upgrade": False,
            "maintenance_window": MAINTENANCE_WINDOW,
            "copy_tags_to_snapshot": True,
            "deletion_protection": args.protected,
            "tags": instance_tags,
            "opts": pulumi.ResourceOptions(parent=self, protect=args.protected, depends_on=log_groups),
        }

    def _primary(self) -> aws.rds.Instance:
        args = self.args
        site = self._site(args.primary)
        resource_name, identifier = f"{self.name}-primary", f"{args.identifier_prefix}-primary"
        primary = aws.rds.Instance(
            resource_name,
            engine=ENGINE,
            engine_version=args.engine_version,
            db_name=args.database_name,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=site.storage_key_arn,
            allocated_storage=args.allocated_storage_gib,
            kms_key_id=site.storage_key_arn,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            backup_window=BACKUP_WINDOW,
            skip_final_snapshot=not args.protected,
            final_snapshot_identifier=f"{identifier}-final" if args.protected else None,
            delete_automated_backups=not args.protected,
            **self._common("primary", site, identifier, resource_name),
        )
        self._alarms(resource_name, primary, site, lag_bound=None)
        return primary

    def _replica(self, placement: DbPlacement) -> aws.rds.Instance:
        """Cross-region: source by ARN, encrypted with this region's key. In-region: source by identifier, and RDS
        requires the primary's key (a key may not be given), which already lives in this region."""
        args = self.args
        site = self._site(placement)
        in_region = placement.aws_region == args.primary.aws_region
        resource_name = f"{self.name}-replica-{placement.logical_region}"
        identifier = f"{args.identifier_prefix}-replica-{placement.logical_region}"
        replica = aws.rds.Instance(
            resource_name,
            replicate_source_db=self.primary.identifier if in_region else self.primary.arn,
            kms_key_id=None if in_region else site.storage_key_arn,
            multi_az=False,  # a replica is itself the standby for reads; Multi-AZ is the primary's concern
            backup_retention_period=args.backup_retention_days,  # so a promoted replica is backed up at once
            skip_final_snapshot=True,  # RDS cannot take a final snapshot of a read replica
            **self._common("replica", site, identifier, resource_name),
        )
        self._alarms(resource_name, replica, site, lag_bound=args.max_replica_lag_seconds)
        return replica

    def _alarms(self, name: str, instance: aws.rds.Instance, site: DbSite, lag_bound: float | None) -> None:
        for spec in instance_alarms(
            name,
            instance.identifier,
            allocated_storage_gib=self.args.allocated_storage_gib,
            max_replica_lag_seconds=lag_bound,
        ):
            # Parented to the component, not the instance: alarms must stay editable when instances are protected.
            self.args.monitoring.alarm(spec, region=site.aws_region, parent=self)

    def _backup_replication(self) -> aws.rds.InstanceAutomatedBackupsReplication | None:
        """Copies of the primary's automated backups in a second region, under a key of that region."""
        region = self.args.backup_replication_region
        if region is None:
            return None
        key = encryption_key(
            f"{self.name}-backups-{region}-key",
            region=region,
            description=f"replicated automated backups of the primary in {region}",
            tags=self.args.tags,
            parent=self,
            protect=self.args.protected,
        )
        return aws.rds.InstanceAutomatedBackupsReplication(
            f"{self.name}-backup-replication",
            region=region,
            source_db_instance_arn=self.primary.arn,
            kms_key_id=key.arn,
            retention_period=self.args.backup_retention_days,
            opts=pulumi.ResourceOptions(parent=self, protect=self.args.protected),
        )
