"""Scheduled tasks next to the analytics cluster: the pipeline (main database -> TimescaleDB, every 15 minutes,
then alerts) and the reports runner (every 5 minutes), both on the app image, both mailing through the stack's SES
identity. One component (components/scheduled_task.py) builds both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from app.db_roles import PIPELINE_ROLE
from components.fargate_task import ContainerSpec, FargateTaskArgs
from components.iam import Statement, connect_to_databases
from components.mail_identity import MailIdentity, MailIdentityArgs
from components.scheduled_task import ScheduledTask, ScheduledTaskArgs
from contracts import environment as env
from stacks.analytics_tier import AnalyticsTier
from stacks.app_tier import AppTier
from stacks.config import StackConfig
from stacks.data_tier import DatabaseInstance, DataTier
from stacks.foundation import Foundation

PIPELINE_SCHEDULE = "rate(15 minutes)"
REPORTS_SCHEDULE = "rate(5 minutes)"  # issue 16: the runner sends every report whose due time has passed


@dataclass
class TasksTier:
    pipeline: ScheduledTask
    reports: ScheduledTask
    mail: MailIdentity
    outputs: dict[str, Any] = field(default_factory=dict)


def build_tasks_tier(
    config: StackConfig, foundation: Foundation, data: DataTier, app: AppTier, analytics: AnalyticsTier
) -> TasksTier:
    primary = config.primary_region
    aws_region = config.aws_region_of(primary)
    network = foundation.networks[primary]
    timescale = analytics.timescale
    mail = MailIdentity(
        "mail",
        MailIdentityArgs(
            aws_region=aws_region,
            domain=config.domain.name,
            hosted_zone_id=config.domain.hosted_zone_id,
            tags=foundation.tags,
        ),
    )
    mail_environment = {env.MAIL_FROM: mail.sender, env.AWS_REGION: aws_region}

    source = _source(config, data)

    def task(
        name: str, command: tuple[str, ...], extra_statements: Sequence[Statement] = (), **extra: Any
    ) -> FargateTaskArgs:
        return FargateTaskArgs(
            aws_region=aws_region,
            image_uri=app.image_uris[aws_region],
            repository_arn=app.repository_arns[aws_region],
            containers=[ContainerSpec(name, command=command)],
            log_retention_days=config.log_retention_days,
            task_statements=[mail.send_statement(), *extra_statements],
            tags={**foundation.tags, "Name": f"{name}-task"},
            **extra,
        )

    pipeline = ScheduledTask(
        "timescale-pipeline",
        ScheduledTaskArgs(
            task=task(
                "pipeline",
                ("python", "-m", "analytics.pipeline"),
                # The source is read as the pipeline's least-privilege role (SELECT on the four tables it copies)
                # with an RDS IAM token; the task role may connect as that role to that one instance only.
                environment={
                    env.ANALYTICS_SOURCE_URL: data.url(source, PIPELINE_ROLE),
                    env.ANALYTICS_SOURCE_IAM_AUTH: "true",
                    env.ANALYTICS_BASE_CURRENCY: config.analytics.base_currency,
                    **mail_environment,
                },
                secrets={env.ANALYTICS_DATABASE_URL: pulumi.Output.concat(timescale.secret_arn, ":url::")},
                secret_arns=[timescale.secret_arn],
                extra_statements=connect_to_databases(
                    [(source.arn, source.resource_id)], PIPELINE_ROLE, "ConnectAsPipelineRole"
                ),
            ),
            schedule_expression=PIPELINE_SCHEDULE,
            subnet_ids=network.private_subnet_ids,
            security_group_id=network.workload_security_groups["pipeline"].id,
            description="Incremental copy from the main database into TimescaleDB, then alert evaluation",
            monitoring=foundation.monitoring,
            tags=foundation.tags,
        ),
    )
    reports = ScheduledTask(
        "analytics-reports",
        ScheduledTaskArgs(
            task=task(
                "reports",
                ("python", "-m", "analytics.reports"),
                # What the runner reads (contracts.environment.REPORTS_VARIABLES): figures carry their own currency.
                environment=mail_environment,
                # The runner records its runs, so it uses the primary's login (not the app's read-only one).
                secrets={env.ANALYTICS_DATABASE_URL: pulumi.Output.concat(timescale.secret_arn, ":url::")},
                secret_arns=[timescale.secret_arn],
            ),
            schedule_expression=REPORTS_SCHEDULE,
            subnet_ids=network.private_subnet_ids,
            security_group_id=network.workload_security_groups["reports"].id,
            description="Scheduled report delivery (python -m analytics.reports)",
            monitoring=foundation.monitoring,
            tags=foundation.tags,
        ),
    )
    return TasksTier(
        pipeline=pipeline,
        reports=reports,
        mail=mail,
        outputs={"mailFrom": mail.sender, "mailIdentityArn": mail.identity.arn},
    )


def _source(config: StackConfig, data: DataTier) -> DatabaseInstance:
    """The main database's replica nearest the primary (the pipeline warns when it must read the primary)."""
    replicas = data.replicas
    for region in (config.primary_region, *config.read_replica_regions):
        if region in replicas:
            return replicas[region]
    return data.primary
