"""Analytics tier wiring: the TimescaleDB cluster in the primary region and the scheduled pipeline task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.fargate_task import ContainerSpec, FargateTaskArgs
from components.scheduled_task import ScheduledTask, ScheduledTaskArgs
from components.timescale import Timescale, TimescaleArgs
from stacks.app_tier import AppTier, postgres_url
from stacks.data_tier import DataTier
from stacks.foundation import Foundation


@dataclass
class AnalyticsTier:
    timescale: Timescale
    pipeline: ScheduledTask
    outputs: dict[str, Any] = field(default_factory=dict)


def build_analytics_tier(foundation: Foundation, data: DataTier, app: AppTier) -> AnalyticsTier:
    config = foundation.config
    primary = config.primary_region
    network = foundation.networks[primary]
    settings = config.timescale
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
        pipeline=_pipeline(foundation, data, app, timescale),
        outputs={
            "timescalePrimaryHost": timescale.args.primary_host,
            "timescaleReplicaHost": timescale.args.replica_host,
            "timescaleBackupBucket": timescale.backup_bucket,
        },
    )


def _pipeline(foundation: Foundation, data: DataTier, app: AppTier, timescale: Timescale) -> ScheduledTask:
    """The scheduled extractor: the app image (published in the primary's region too), reading from the main
    database's replica nearest the primary, writing to the TimescaleDB primary."""
    config = foundation.config
    primary = config.primary_region
    aws_region = config.aws_region_of(primary)
    replicas: list[pulumi.Output[str]] = [
        data.replica_addresses[region]
        for region in (primary, *config.read_replica_regions)
        if region in data.replica_addresses
    ]
    source = replicas[0] if replicas else data.primary_address  # the pipeline warns when it reads a primary
    network = foundation.networks[primary]
    name = "timescale-pipeline"
    return ScheduledTask(
        name,
        ScheduledTaskArgs(
            task=FargateTaskArgs(
                aws_region=aws_region,
                image_uri=app.image_uris[aws_region],
                repository_arn=app.repository_arns[aws_region],
                containers=[ContainerSpec("pipeline", command=("python", "-m", "analytics.pipeline"))],
                environment={"ANALYTICS_SOURCE_URL": postgres_url(source, data.port, data.database_name)},
                secrets={
                    "ANALYTICS_DATABASE_URL": pulumi.Output.concat(timescale.secret_arn, ":url::"),
                    "PGUSER": pulumi.Output.concat(data.secret_arn, ":username::"),
                    "PGPASSWORD": pulumi.Output.concat(data.secret_arn, ":password::"),
                },
                secret_arns=[timescale.secret_arn, data.secret_arn],
                log_retention_days=365 if config.is_production else 30,
                tags={**foundation.tags, "Name": name},
            ),
            schedule_expression="rate(15 minutes)",
            subnet_ids=network.private_subnet_ids,
            security_group_id=network.workload_security_groups["pipeline"].id,
            description="Incremental copy from the main database into TimescaleDB",
            tags=foundation.tags,
        ),
    )
