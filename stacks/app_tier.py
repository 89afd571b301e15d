"""App tier wiring: the image, an ECS Fargate service per app region, latency-routed origin records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from app.db_roles import APP_ROLE
from components.iam import connect_to_databases
from components.image import AppImage, AppImageArgs
from components.origin_routing import OriginRouting, OriginRoutingArgs, RegionalOrigin
from components.service import Service, ServiceArgs
from contracts import environment as env
from stacks.analytics_tier import AnalyticsTier, app_analytics_secrets
from stacks.config import StackConfig
from stacks.data_tier import DataTier
from stacks.edge_tier import EdgeTier
from stacks.foundation import Foundation

ROOT = Path(__file__).resolve().parent.parent  # the build context: the Dockerfile installs from uv.lock
DOCKERFILE = ROOT / "app" / "Dockerfile"
# Per-task pool sizes and timeouts (DESIGN.md names). With maxCount tasks in every app region, the primary sees at
# most maxCount x regions x DATABASE_POOL_MAX connections, well inside RDS's max_connections for the classes used.
POOL_SETTINGS = {
    env.DATABASE_POOL_MIN: "2",
    env.DATABASE_POOL_MAX: "10",
    env.DATABASE_ACQUIRE_TIMEOUT: "2000",
    env.DATABASE_IDLE_TIMEOUT: "300000",
}


@dataclass
class AppTier:
    """What the analytics tier reads: the image the pipeline task runs too."""

    image_uris: dict[str, pulumi.Output[str]] = field(default_factory=dict)  # AWS region -> image URI by digest
    repository_arns: dict[str, pulumi.Output[str]] = field(default_factory=dict)  # AWS region -> ECR repository ARN
    services: dict[str, Service] = field(default_factory=dict)  # logical region -> Service
    outputs: dict[str, Any] = field(default_factory=dict)


def database_environment(config: StackConfig, data: DataTier) -> dict[str, pulumi.Input[str]]:
    """The app contract's database variables (DESIGN.md), built from the data tier; no secret values in here.
    The app logs in as its least-privilege role (APP_ROLE, migration 0006_roles) with RDS IAM tokens."""
    environment: dict[str, pulumi.Input[str]] = {
        env.DATABASE_URL: data.url(data.primary, APP_ROLE),
        env.DATABASE_PRIMARY_REGION: config.primary_region,
        env.DATABASE_IAM_AUTH: "true",
        env.DATABASE_MAX_REPLICA_LAG_MS: str(round(config.database.max_replica_lag_seconds * 1000)),
        **POOL_SETTINGS,
    }
    for region, replica in data.replicas.items():
        environment[env.DATABASE_READ_REPLICA[region]] = data.url(replica, APP_ROLE)
    return environment


def migrate_login(data: DataTier) -> tuple[dict[str, pulumi.Input[str]], dict[str, pulumi.Input[str]]]:
    """The migrate container's own environment and secrets: the master user of the RDS-managed secret, injected by
    ECS (the execution role reads it) into that container only; the app container and the task role never can."""
    environment: dict[str, pulumi.Input[str]] = {
        env.DATABASE_URL: data.url(data.primary),
        env.DATABASE_IAM_AUTH: "false",
    }
    secrets: dict[str, pulumi.Input[str]] = {  # asyncpg takes the user and password from these when the URL has none
        env.PGUSER: pulumi.Output.concat(data.secret_arn, ":username::"),
        env.PGPASSWORD: pulumi.Output.concat(data.secret_arn, ":password::"),
    }
    return environment, secrets


def database_instances(data: DataTier) -> list[tuple[pulumi.Output[str], pulumi.Output[str]]]:
    """(ARN, DbiResourceId) of the primary and every replica: where the app's role may connect with IAM."""
    return [(instance.arn, instance.resource_id) for instance in data.instances.values()]


def build_app_tier(
    config: StackConfig, foundation: Foundation, data: DataTier, edge: EdgeTier, analytics: AnalyticsTier
) -> AppTier:
    # The analytics pipeline task runs the same image next to the primary, which need not be an app region.
    image_regions = [config.aws_region_of(r) for r in dict.fromkeys([*config.app_regions, config.primary_region])]
    image = AppImage(
        "app-image",
        AppImageArgs(
            context=ROOT,
            dockerfile=DOCKERFILE,
            aws_regions=image_regions,
            repository_name=f"{foundation.prefix}/app",
            force_delete=not config.protect,
            tags=foundation.tags,
        ),
    )
    # The app answers 413 above the same body limit the WAF enforces at the edge (INTERFACES.md section 6).
    environment = {
        **database_environment(config, data),
        env.REQUEST_MAX_BODY_BYTES: str(config.cdn.max_body_bytes),
        env.ANALYTICS_BASE_CURRENCY: config.analytics.base_currency,
    }
    analytics_secrets = app_analytics_secrets(config, foundation, analytics)
    migrate_environment, migrate_secrets = migrate_login(data)
    services: dict[str, Service] = {}
    for region in config.app_regions:
        aws_region = config.aws_region_of(region)
        network, lb = foundation.networks[region], edge.load_balancers[region]
        services[region] = Service(
            f"app-{region}",
            ServiceArgs(
                logical_region=region,
                aws_region=aws_region,
                image_uri=image.image_uris[aws_region],
                repository_arn=image.repositories[aws_region].arn,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.workload_security_groups["app"].id,
                target_group_arn=lb.target_group.arn,
                load_balancer_arn_suffix=lb.alb.arn_suffix,
                target_group_arn_suffix=lb.target_group.arn_suffix,
                cpu=config.service.cpu,
                memory=config.service.memory,
                desired_count=config.service.desired_count,
                min_count=config.service.min_count,
                max_count=config.service.max_count,
                environment=environment,
                secrets={
                    env.ORIGIN_VERIFY_SECRET: edge.origin_secret.secret_arns[aws_region],
                    **{name: secret.secret_arns[aws_region] for name, secret in analytics_secrets.items()},
                },
                task_statements=connect_to_databases(database_instances(data), APP_ROLE, "ConnectAsAppRole"),
                migrate_environment=migrate_environment,
                migrate_secrets=migrate_secrets,
                migrate_secret_arns=[data.secret_arn],
                log_retention_days=config.log_retention_days,
                # The target group must be attached (listener rule) before a service can register into it.
                depends_on=[lb],
                protect=config.protect,
                tags=foundation.tags,
            ),
        )
    OriginRouting(
        "origin",
        OriginRoutingArgs(
            host=edge.origin_host,
            zone_id=config.domain.hosted_zone_id,
            origins=[
                RegionalOrigin(
                    logical_region=region,
                    aws_region=lb.aws_region,
                    alb_dns_name=lb.alb.dns_name,
                    alb_zone_id=lb.alb.zone_id,
                    alb_arn_suffix=lb.alb.arn_suffix,
                    target_group_arn_suffix=lb.target_group.arn_suffix,
                )
                for region, lb in edge.load_balancers.items()
            ],
            monitoring=foundation.monitoring,
            tags=foundation.tags,
        ),
    )
    return AppTier(
        image_uris=image.image_uris,
        repository_arns={region: repository.arn for region, repository in image.repositories.items()},
        services=services,
        outputs={
            "appImageUris": image.image_uris,
            "serviceNames": {region: service.service.name for region, service in services.items()},
        },
    )
