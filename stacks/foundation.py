"""The foundation every tier builds on: naming, tags, a VPC per region, peering and alarm topics."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from components.monitoring import Monitoring, MonitoringArgs
from components.network import DEFAULT_INTERFACE_ENDPOINTS, Network, NetworkArgs, subnet_cidrs
from components.peering import PeeringArgs, VpcPeering
from components.tags import stack_tags
from stacks.config import LogicalRegion, StackConfig

# CloudFront, its WAF and Route 53 health checks publish metrics only in us-east-1.
GLOBAL_METRICS_REGION = "us-east-1"


@dataclass
class Foundation:
    """What every tier builds on: a VPC per region, peering, alarm topics, naming and tags (each tier gets the
    stack config as its own argument)."""

    prefix: str
    tags: dict[str, str]
    networks: dict[LogicalRegion, Network]
    monitoring: Monitoring


def build_foundation(config: StackConfig, *, project: str, stack: str) -> Foundation:
    tags = stack_tags(project, stack, config.environment)
    prefix = f"{project}-{stack}"
    task_regions = {*config.app_regions, config.primary_region}  # app tasks + the analytics pipeline task
    networks = {
        region: Network(
            f"network-{region}",
            NetworkArgs(
                logical_region=region,
                aws_region=config.aws_region_of(region),
                cidr=config.network.cidrs[region],
                az_count=config.network.az_count,
                single_nat_gateway=config.network.single_nat_gateway,
                interface_endpoints=DEFAULT_INTERFACE_ENDPOINTS if region in task_regions else (),
                flow_log_retention_days=config.log_retention_days,
                workload_security_groups=_workloads(region, config),
                database_cidrs=_database_cidrs(config),
                internet_https=_internet_https(region, config),
                tags=tags,
            ),
        )
        for region in config.network_regions
    }
    peered: set[frozenset[LogicalRegion]] = set()
    for app_region, db_region in product(config.app_regions, config.database_regions):
        pair = frozenset((app_region, db_region))
        if app_region == db_region or pair in peered:
            continue
        peered.add(pair)
        VpcPeering(
            f"peering-{app_region}-{db_region}",
            PeeringArgs(requester=networks[app_region], accepter=networks[db_region], tags=tags),
        )
    alarm_regions = [config.aws_region_of(r) for r in config.network_regions] + [GLOBAL_METRICS_REGION]
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(prefix=prefix, regions=alarm_regions, alarm_email=config.alarm_email, tags=tags),
    )
    return Foundation(prefix=prefix, tags=tags, networks=networks, monitoring=monitoring)


def _workloads(region: LogicalRegion, config: StackConfig) -> tuple[str, ...]:
    """The API runs in app regions; the analytics pipeline and the reports runner run next to the primary."""
    return (
        *(("app",) if region in config.app_regions else ()),
        *(("pipeline", "reports") if region == config.primary_region else ()),
    )


def _database_cidrs(config: StackConfig) -> list[str]:
    """Private subnets of every database region (RDS primary and replicas; TimescaleDB sits in the primary's):
    tasks reach them here or over peering, on 5432 only."""
    return [
        cidr
        for region in config.database_regions
        for cidr in subnet_cidrs(config.network.cidrs[region], config.network.az_count)[0]
    ]


def _internet_https(region: LogicalRegion, config: StackConfig) -> dict[str, str]:
    """HTTPS beyond this VPC's endpoints, by workload, with the reason. An app task outside the primary's region
    gets the database's master secret (ECS injects it into the migrate container only; the app itself logs in with
    IAM tokens signed locally) from Secrets Manager in the primary's region: an interface endpoint serves only its own
    region, and Secrets Manager has no managed prefix list, so that is HTTPS through NAT. The tasks that mail
    (pipeline alerts, reports) reach the SES API the same way."""
    reasons: dict[str, str] = {}
    if region in config.app_regions and region != config.primary_region:
        primary = config.aws_region_of(config.primary_region)
        reasons["app"] = f"HTTPS to Secrets Manager in {primary} (master secret of the migrate container)"
    if region == config.primary_region:
        # Alert and report mail: the SES API has no interface endpoint (the SES one serves SMTP only,
        # github.com/aws/aws-sdk/issues/181), so analytics/mailer.py's sesv2 calls leave through NAT.
        for workload in ("pipeline", "reports"):
            reasons[workload] = "HTTPS to the SES API (alert and report mail; SES has no API endpoint in a VPC)"
    return reasons
