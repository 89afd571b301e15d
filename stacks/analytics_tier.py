"""Analytics tier wiring: the TimescaleDB cluster in the primary region and the scheduled pipeline task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.timescale import Timescale, TimescaleArgs
from stacks.app_tier import AppTier
from stacks.config import ConfigIssue, StackConfigError
from stacks.data_tier import DataTier
from stacks.foundation import Foundation


@dataclass
class AnalyticsTier:
    timescale: Timescale | None = None
    outputs: dict[str, Any] = field(default_factory=dict)


def build_analytics_tier(foundation: Foundation, data: DataTier, app: AppTier) -> AnalyticsTier:
    config = foundation.config
    primary = config.primary_region
    network = foundation.networks[primary]
    settings = config.timescale
    if settings.replicas >= config.network.az_count:
        raise StackConfigError(
            [
                ConfigIssue(
                    "global-api:timescale.replicas",
                    settings.replicas,
                    f"allowed: 0..{config.network.az_count - 1} (a primary and its standbys each need their own AZ; "
                    f"network.azCount is {config.network.az_count})",
                )
            ]
        )
    clients = {
        workload: group.id
        for workload, group in network.workload_security_groups.items()
        if workload in ("app", "pipeline")
    }
    timescale = Timescale(
        "timescale",
        TimescaleArgs(
            aws_region=config.aws_region_of(primary),
            vpc_id=network.vpc.id,
            vpc_cidr=network.args.cidr,
            subnet_ids=network.private_subnet_ids,
            availability_zones=network.availability_zones,
            client_security_groups=clients,
            monitoring=foundation.monitoring,
            zone_name=f"{foundation.prefix}.internal",
            instance_type=settings.instance_type,
            architecture=settings.architecture,
            replicas=settings.replicas,
            volume_gib=settings.volume_gib,
            volume_iops=settings.volume_iops,
            volume_throughput=settings.volume_throughput,
            postgres_major=config.database.engine_major,
            protect=config.is_production,
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
