"""The stack's CloudWatch dashboard: one page an operator opens to see every region at once.

The body is built as plain data from references to resources the stack declares (never typed-in names) and
serialised once, so a widget cannot point at something that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from contracts.tags import DbRole

WIDTH = 24  # CloudWatch dashboards are 24 grid units wide


@dataclass(frozen=True)
class DatabaseRef:
    """An RDS instance the dashboard charts."""

    identifier: pulumi.Input[str]
    aws_region: str
    logical_region: str
    role: DbRole


@dataclass(frozen=True)
class LoadBalancerRef:
    """A regional ALB and its app target group (CloudWatch dimensions are the ARN suffixes)."""

    arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    aws_region: str
    logical_region: str


@dataclass(frozen=True)
class InstanceRef:
    """An EC2 instance (TimescaleDB node)."""

    instance_id: pulumi.Input[str]
    aws_region: str
    label: str


@dataclass(frozen=True)
class DashboardArgs:
    """Everything charted; empty sequences simply leave their widgets out."""

    dashboard_name: str
    home_region: str  # where the dashboard object lives; widgets name their own regions
    databases: Sequence[DatabaseRef] = ()
    load_balancers: Sequence[LoadBalancerRef] = ()
    distribution_id: pulumi.Input[str] | None = None
    cdn_additional_metrics: bool = False  # CacheHitRate exists only with CloudFront's additional metrics
    timescale_nodes: Sequence[InstanceRef] = ()
    max_replica_lag_seconds: float = 5.0
    p99_target_seconds: float = 0.1
    tags: Mapping[str, str] = field(default_factory=dict)


def _metric_widget(
    title: str, region: str, metrics: list[list[Any]], *, stat: str = "Average", annotations: Any = None
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": title,
        "region": region,
        "metrics": metrics,
        "stat": stat,
        "period": 60,
        "view": "timeSeries",
    }
    if annotations:
        properties["annotations"] = annotations
    return {"type": "metric", "width": 12, "height": 6, "properties": properties}


def build_body(
    args: DashboardArgs,
    databases: Sequence[str],
    load_balancers: Sequence[tuple[str, str]],
    distribution_id: str | None,
    timescale_nodes: Sequence[str],
) -> dict[str, Any]:
    """The dashboard JSON as data, with every resource reference already resolved to its name."""
    widgets: list[dict[str, Any]] = []
    replicas = [(ref, ident) for ref, ident in zip(args.databases, databases, strict=True) if ref.role == "replica"]
    primaries = [(ref, ident) for ref, ident in zip(args.databases, databases, strict=True) if ref.role == "primary"]
    for ref, ident in replicas:
        widgets.append(
            _metric_widget(
                f"Replica lag {ref.logical_region} (s)",
                ref.aws_region,
                [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", ident, {"label": ref.logical_region}]],
                stat="Maximum",
                annotations={"horizontal": [{"label": "bound", "value": args.max_replica_lag_seconds}]},
            )
        )
    for ref, ident in primaries:
        for metric, title, stat in (
            ("CPUUtilization", "Primary CPU (%)", "Average"),
            ("DatabaseConnections", "Primary connections", "Maximum"),
            ("FreeStorageSpace", "Primary free storage (bytes)", "Minimum"),
        ):
            widgets.append(
                _metric_widget(title, ref.aws_region, [["AWS/RDS", metric, "DBInstanceIdentifier", ident]], stat=stat)
            )
    for lb, (alb, target_group) in zip(args.load_balancers, load_balancers, strict=True):
        region, name = lb.aws_region, lb.logical_region
        widgets += [
            _metric_widget(
                f"ALB latency {name} (s)",
                region,
                [
                    ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", alb, {"stat": "p50", "label": "p50"}],
                    ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", alb, {"stat": "p99", "label": "p99"}],
                ],
                annotations={"horizontal": [{"label": "p99 goal", "value": args.p99_target_seconds}]},
            ),
            _metric_widget(
                f"5xx {name}",
                region,
                [
                    ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", alb],
                    ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", alb],
                ],
                stat="Sum",
            ),
            _metric_widget(
                f"Healthy targets {name}",
                region,
                [["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", target_group, "LoadBalancer", alb]],
                stat="Minimum",
            ),
        ]
    if distribution_id:
        dims = ["DistributionId", distribution_id, "Region", "Global"]
        widgets.append(
            _metric_widget("CloudFront requests", "us-east-1", [["AWS/CloudFront", "Requests", *dims]], stat="Sum")
        )
        if args.cdn_additional_metrics:  # otherwise the widget would stay empty forever
            widgets.append(
                _metric_widget(
                    "CloudFront cache hit rate (%)", "us-east-1", [["AWS/CloudFront", "CacheHitRate", *dims]]
                )
            )
        widgets.append(
            _metric_widget(
                "CloudFront error rates (%)",
                "us-east-1",
                [["AWS/CloudFront", "4xxErrorRate", *dims], ["AWS/CloudFront", "5xxErrorRate", *dims]],
            )
        )
    for node, instance_id in zip(args.timescale_nodes, timescale_nodes, strict=True):
        widgets.append(
            _metric_widget(
                f"TimescaleDB {node.label}",
                node.aws_region,
                [
                    ["AWS/EC2", "StatusCheckFailed", "InstanceId", instance_id, {"stat": "Maximum"}],
                    ["AWS/EC2", "CPUUtilization", "InstanceId", instance_id],
                ],
            )
        )
    for index, widget in enumerate(widgets):
        widget["x"], widget["y"] = (index % 2) * 12, (index // 2) * 6
    return {"widgets": widgets}


class Dashboard(pulumi.ComponentResource):
    """One CloudWatch dashboard per stack covering every region's data path."""

    dashboard: aws.cloudwatch.Dashboard

    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:monitoring:Dashboard", name, None, opts)
        inputs: dict[str, Any] = {
            "databases": pulumi.Output.all(*[d.identifier for d in args.databases]),
            "albs": pulumi.Output.all(
                *[pulumi.Output.all(lb.arn_suffix, lb.target_group_arn_suffix) for lb in args.load_balancers]
            ),
            "distribution": pulumi.Output.from_input(args.distribution_id),
            "nodes": pulumi.Output.all(*[n.instance_id for n in args.timescale_nodes]),
        }
        body = pulumi.Output.all(**inputs).apply(
            lambda resolved: json.dumps(
                build_body(
                    args,
                    resolved["databases"],
                    [tuple(pair) for pair in resolved["albs"]],
                    resolved["distribution"],
                    resolved["nodes"],
                )
            )
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            region=args.home_region,
            dashboard_name=args.dashboard_name,
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"dashboardName": self.dashboard.dashboard_name})
