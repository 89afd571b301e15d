"""Alarm plumbing: one encrypted SNS topic per region that raises alarms, and the one way to create an alarm.

CloudWatch alarms can only notify a topic in their own region, so every region that has alarms gets a topic
(plus us-east-1, where CloudFront, WAF and Route 53 health-check metrics live). Every component creates its
alarms through `Monitoring.alarm`, so names, missing-data handling and actions follow one convention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.kms import encryption_key

TreatMissingData = Literal["missing", "ignore", "breaching", "notBreaching"]
Comparison = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]


@dataclass(frozen=True)
class MetricQuery:
    """One line of a metric-math alarm (e.g. a 5xx *rate* = errors / requests)."""

    id: str
    expression: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    stat: str = "Sum"
    return_data: bool = False
    label: str | None = None


@dataclass(frozen=True)
class AlarmSpec:
    """What to watch. `name` is short and unique within its component; the helper adds the stack prefix.

    Missing data defaults to `notBreaching` (an idle metric is not a fault); health metrics such as healthy host
    counts or replica lag pass `breaching`, because silence there means the thing being watched is gone.
    """

    name: str
    description: str
    threshold: float
    comparison: Comparison = "GreaterThanThreshold"
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    statistic: str | None = "Average"
    extended_statistic: str | None = None  # e.g. "p99"; replaces statistic
    period_seconds: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int | None = None
    treat_missing_data: TreatMissingData = "notBreaching"
    queries: Sequence[MetricQuery] = ()  # metric math instead of a single metric


@dataclass(frozen=True)
class MonitoringArgs:
    """Where alarms are raised and who hears them."""

    prefix: str  # e.g. global-api-production: every alarm name starts with it
    regions: Sequence[str]  # AWS regions that raise alarms
    alarm_email: str
    tags: Mapping[str, str] = field(default_factory=dict)


class Monitoring(pulumi.ComponentResource):
    """Per-region alarm topics and the alarm factory every component uses."""

    topics: dict[str, aws.sns.Topic]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:monitoring:Monitoring", name, None, opts)
        self.prefix = args.prefix
        self.tags = dict(args.tags)
        self.topics = {}
        for region in dict.fromkeys(args.regions):
            key = encryption_key(
                f"{name}-{region}-alarms-key",
                region=region,
                description=f"Alarm topic encryption ({region}); CloudWatch may publish",
                tags=args.tags,
                parent=self,
                service_principals=["cloudwatch.amazonaws.com"],
            )
            topic = aws.sns.Topic(
                f"{name}-{region}-alarms",
                region=region,
                name=f"{args.prefix}-alarms",
                kms_master_key_id=key.arn,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.sns.TopicSubscription(
                f"{name}-{region}-alarms-email",
                region=region,
                topic=topic.arn,
                protocol="email",
                endpoint=args.alarm_email,
                opts=pulumi.ResourceOptions(parent=topic),
            )
            self.topics[region] = topic
        self.register_outputs({"alarmTopicArns": {r: t.arn for r, t in self.topics.items()}})

    def topic_arn(self, region: str) -> pulumi.Output[str]:
        if region not in self.topics:
            raise KeyError(f"no alarm topic in {region}; add it to MonitoringArgs.regions ({', '.join(self.topics)})")
        return self.topics[region].arn

    def alarm(self, spec: AlarmSpec, *, region: str, parent: pulumi.Resource) -> aws.cloudwatch.MetricAlarm:
        """Create `spec` in `region`, notifying that region's topic on ALARM and on OK."""
        topic = self.topic_arn(region)
        full_name = f"{self.prefix}-{spec.name}"
        single_metric = not spec.queries
        return aws.cloudwatch.MetricAlarm(
            full_name,
            region=region,
            name=full_name,
            alarm_description=spec.description,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            namespace=spec.namespace if single_metric else None,
            metric_name=spec.metric_name if single_metric else None,
            dimensions=dict(spec.dimensions) if single_metric and spec.dimensions else None,
            period=spec.period_seconds if single_metric else None,
            statistic=spec.statistic if single_metric and not spec.extended_statistic else None,
            extended_statistic=spec.extended_statistic if single_metric else None,
            metric_queries=[_query_args(q, spec.period_seconds) for q in spec.queries] or None,
            alarm_actions=[topic],
            ok_actions=[topic],
            tags=self.tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )


def _query_args(query: MetricQuery, period: int) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    metric = None
    if query.metric_name:
        metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=query.namespace,
            metric_name=query.metric_name,
            dimensions=dict(query.dimensions),
            period=period,
            stat=query.stat,
        )
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query.id,
        expression=query.expression,
        metric=metric,
        return_data=query.return_data,
        label=query.label,
    )
