"""Analytics tier wiring: the TimescaleDB cluster in the primary region, and what the app tasks need to read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.regional_secret import RegionalSecret, RegionalSecretArgs
from components.timescale import Timescale, TimescaleArgs
from contracts import environment as env
from stacks.config import StackConfig
from stacks.foundation import Foundation


@dataclass
class AnalyticsTier:
    timescale: Timescale
    outputs: dict[str, Any] = field(default_factory=dict)


def build_analytics_tier(config: StackConfig, foundation: Foundation) -> AnalyticsTier:
    """The cluster, reachable from the pipeline and reports tasks (same VPC) and from every app region's tasks
    (the primary's VPC by security group, the others by their private task subnets over the existing peering)."""
    primary = config.primary_region
    network = foundation.networks[primary]
    settings = config.timescale
    clients = {
        workload: group.id
        for workload, group in network.workload_security_groups.items()
        if workload in ("app", "pipeline", "reports")
    }
    remote_app_regions = [region for region in config.app_regions if region != primary]
    timescale = Timescale(
        "timescale",
        TimescaleArgs(
            aws_region=config.aws_region_of(primary),
            vpc_id=network.vpc.id,
            vpc_cidr=network.args.cidr,
            subnet_ids=network.private_subnet_ids,
            availability_zones=network.availability_zones,
            client_security_groups=clients,
            client_cidrs=[cidr for region in remote_app_regions for cidr in foundation.networks[region].private_cidrs],
            client_vpcs=[
                (foundation.networks[region].vpc.id, config.aws_region_of(region)) for region in remote_app_regions
            ],
            monitoring=foundation.monitoring,
            zone_name=f"{foundation.prefix}.internal",
            instance_type=settings.instance_type,
            architecture=settings.architecture,
            replicas=settings.replicas,
            volume_gib=settings.volume_gib,
            volume_iops=settings.volume_iops,
            volume_throughput=settings.volume_throughput,
            postgres_major=config.database.engine_major,
            protect=config.protect,
            secret_recovery_window_days=config.secret_recovery_window_days,
            tags=foundation.tags,
        ),
    )
    return AnalyticsTier(
        timescale=timescale,
        outputs={
            "timescalePrimaryHost": timescale.args.primary_host,
            "timescaleReplicaHost": timescale.args.replica_host,
            "timescaleBackupBucket": timescale.backup_bucket,
        },
    )


def app_analytics_secrets(
    config: StackConfig, foundation: Foundation, analytics: AnalyticsTier
) -> dict[str, RegionalSecret]:
    """ECS secrets of the app tasks (INTERFACES.md section 6), copied into every app region: the read-only URL of
    the TimescaleDB standbys, the writer URL of its primary, a generated API token, and a generated key for the
    dashboard's session cookies."""
    regions = [config.aws_region_of(region) for region in config.app_regions]

    def secret(name: str, description: str, value: Any = None) -> RegionalSecret:
        return RegionalSecret(
            name,
            RegionalSecretArgs(
                secret_name=f"{foundation.prefix}/{name}",
                description=description,
                aws_regions=regions,
                value=value,
                recovery_window_days=config.secret_recovery_window_days,
                tags=foundation.tags,
            ),
        )

    return {
        env.ANALYTICS_DATABASE_URL: secret(
            "analytics-reader-url",
            f"Read-only TimescaleDB standby URL with credentials ({env.ANALYTICS_DATABASE_URL} of the app)",
            analytics.timescale.reader_url,
        ),
        # What the app writes (alerts, reports, request metrics) goes to the primary as its writer login.
        env.ANALYTICS_WRITE_DATABASE_URL: secret(
            "analytics-writer-url",
            f"TimescaleDB primary URL of the app's writer login ({env.ANALYTICS_WRITE_DATABASE_URL} of the app)",
            analytics.timescale.writer_url,
        ),
        # One generated token; operators add more by writing a comma-separated list into the secret.
        env.ANALYTICS_API_TOKENS: secret("analytics-api-tokens", "Bearer tokens of /api/analytics (comma-separated)"),
        env.SESSION_SECRET: secret("session-secret", "Signing key of the dashboard's session cookies"),
    }
