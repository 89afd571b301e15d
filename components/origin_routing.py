"""One origin name for CloudFront (origin.<domain>), answered by the nearest healthy app region.

Route 53 latency records, one per app region, alias the name to that region's ALB; each record carries a health
check, so a failed region drops out of DNS and CloudFront's next lookups go to the next-nearest region. This is
the API's regional failover: CloudFront origin groups fail over only GET/HEAD/OPTIONS.

Health checks are CloudWatch-metric checks on alarms in the ALB's region, not HTTP probes: the ALB admits only
CloudFront (and only requests carrying the secret origin header), and Route 53 health checkers can send neither,
so probing would mean opening the ALB wider. Per region, two alarms feed two metric checks, combined by a
calculated check that is healthy only when both are:
- healthy targets: fewer than `min_healthy_targets` healthy tasks in the target group (no data counts as failing);
- app 5xx: more than `max_5xx_per_minute` HTTP 5xx responses from the tasks per minute. Route 53 evaluates only
  single-metric, standard-resolution alarms (no metric math), so this is a count, not the rate the ALB's own
  alarms use.

When an alarm has too little data, Route 53 applies the check's `insufficient_data_health_status` (Route 53 API,
HealthCheckConfig.InsufficientDataHealthStatus). That matters for the 5xx check: the ALB publishes metrics only
while requests flow and `HTTPCode_Target_5XX_Count` only when it is non-zero (ELB user guide, "CloudWatch metrics
for your Application Load Balancer"), and a region taken out of DNS gets no traffic at all. With LastKnownStatus
its check would stay unhealthy forever after one bad spell, so the region could never come back: sparse metrics
count silence as Healthy. The healthy-targets alarm treats missing data as breaching, so silence there is ALARM
(never INSUFFICIENT_DATA) and its check keeps LastKnownStatus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.monitoring import AlarmSpec, Monitoring

ALB_NAMESPACE = "AWS/ApplicationELB"
InsufficientDataStatus = Literal["Healthy", "Unhealthy", "LastKnownStatus"]
# What each alarm's health check reports while CloudWatch lacks data, by the alarm name's suffix (module docstring).
INSUFFICIENT_DATA_STATUS: dict[str, InsufficientDataStatus] = {
    "healthy-targets": "LastKnownStatus",  # missing data is breaching: the alarm never lacks data
    "app-5xx": "Healthy",  # published only when non-zero, and not at all while the region has no traffic
}


@dataclass(frozen=True)
class RegionalOrigin:
    """One app region's ALB as the routing needs it."""

    logical_region: str  # eu | us | asia: the record's set identifier and alarm names
    aws_region: str  # latency is measured to this region; the alarms live here
    alb_dns_name: pulumi.Input[str]
    alb_zone_id: pulumi.Input[str]
    alb_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]


@dataclass(frozen=True)
class OriginRoutingArgs:
    """The origin name, its zone, and the regions that answer for it."""

    host: str  # origin.<domain>
    zone_id: str  # the stack's public hosted zone
    origins: Sequence[RegionalOrigin]
    monitoring: Monitoring  # alarms are created only through it (names, topics, conventions)
    min_healthy_targets: int = 1
    max_5xx_per_minute: int = 60
    evaluation_minutes: int = 3  # consecutive bad minutes before a region is taken out
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.origins:
            raise ValueError("OriginRoutingArgs.origins: got none; allowed: at least one app region")
        regions = [origin.logical_region for origin in self.origins]
        if len(set(regions)) != len(regions):
            raise ValueError(f"OriginRoutingArgs.origins: each region at most once (got {', '.join(regions)})")


class OriginRouting(pulumi.ComponentResource):
    """Per app region: two alarms, three Route 53 health checks and one latency alias record."""

    health_checks: dict[str, aws.route53.HealthCheck]  # logical region -> the calculated check on its record
    records: dict[str, aws.route53.Record]

    def __init__(self, name: str, args: OriginRoutingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:app:OriginRouting", name, None, opts)
        self.args = args
        self.health_checks, self.records = {}, {}
        for origin in args.origins:
            check = self._health_check(name, origin)
            self.health_checks[origin.logical_region] = check
            self.records[origin.logical_region] = aws.route53.Record(
                f"{name}-{origin.logical_region}",
                zone_id=args.zone_id,
                name=args.host,
                type="A",
                set_identifier=origin.logical_region,
                latency_routing_policies=[aws.route53.RecordLatencyRoutingPolicyArgs(region=origin.aws_region)],
                health_check_id=check.id,
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=origin.alb_dns_name, zone_id=origin.alb_zone_id, evaluate_target_health=True
                    )
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"host": args.host, "healthCheckIds": {r: c.id for r, c in self.health_checks.items()}})

    def _health_check(self, name: str, origin: RegionalOrigin) -> aws.route53.HealthCheck:
        """Healthy only while every alarm of the region is OK."""
        region, child = origin.logical_region, pulumi.ResourceOptions(parent=self)
        children = []
        for spec in health_alarm_specs(name, self.args, origin):
            kind = spec.name.removeprefix(f"{name}-{region}-")
            alarm = self.args.monitoring.alarm(spec, region=origin.aws_region, parent=self)
            children.append(
                aws.route53.HealthCheck(
                    f"{spec.name}-check",
                    type="CLOUDWATCH_METRIC",
                    cloudwatch_alarm_name=alarm.name,
                    cloudwatch_alarm_region=origin.aws_region,
                    insufficient_data_health_status=INSUFFICIENT_DATA_STATUS[kind],
                    tags={**self.args.tags, "Name": spec.name},
                    opts=pulumi.ResourceOptions(parent=alarm),
                )
            )
        return aws.route53.HealthCheck(
            f"{name}-{region}-check",
            type="CALCULATED",
            child_healthchecks=[check.id for check in children],
            child_health_threshold=len(children),
            tags={**self.args.tags, "Name": f"{name}-{region}"},
            opts=child,
        )


def health_alarm_specs(name: str, args: OriginRoutingArgs, origin: RegionalOrigin) -> list[AlarmSpec]:
    """The two alarms whose health checks decide whether `origin` answers for the origin name (module docstring)."""
    region = origin.logical_region
    return [
        AlarmSpec(
            name=f"{name}-{region}-healthy-targets",
            description=f"App {region}: fewer than {args.min_healthy_targets} healthy tasks behind the ALB; "
            f"Route 53 takes {region} out of {args.host}",
            namespace=ALB_NAMESPACE,
            metric_name="HealthyHostCount",
            dimensions={
                "LoadBalancer": origin.alb_arn_suffix,
                "TargetGroup": origin.target_group_arn_suffix,
            },
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=args.min_healthy_targets,
            evaluation_periods=args.evaluation_minutes,
            treat_missing_data="breaching",  # no datapoints: the target group or the ALB is gone
        ),
        AlarmSpec(
            name=f"{name}-{region}-app-5xx",
            description=f"App {region}: more than {args.max_5xx_per_minute} 5xx responses per minute; "
            f"Route 53 takes {region} out of {args.host}",
            namespace=ALB_NAMESPACE,
            metric_name="HTTPCode_Target_5XX_Count",
            dimensions={"LoadBalancer": origin.alb_arn_suffix},
            statistic="Sum",
            threshold=args.max_5xx_per_minute,
            evaluation_periods=args.evaluation_minutes,
            treat_missing_data="notBreaching",  # the metric is absent while there are no errors
        ),
    ]
