"""The dashboard a reviewer opens: it parses, covers every region's data path, and names only declared things."""

from __future__ import annotations

import json
from typing import Any

from offline.harness import Evaluation

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
RDS = "aws:rds/instance:Instance"


def body(evaluation: Evaluation) -> dict[str, Any]:
    (dashboard,) = evaluation.of_type(DASHBOARD)
    parsed: dict[str, Any] = json.loads(dashboard.inputs["dashboardBody"])
    return parsed


def metrics(evaluation: Evaluation) -> list[tuple[str, list[Any]]]:
    """(widget region, metric line) for every metric on the dashboard."""
    return [
        (widget["properties"]["region"], line)
        for widget in body(evaluation)["widgets"]
        for line in widget["properties"]["metrics"]
    ]


def dimension_values(line: list[Any]) -> dict[str, str]:
    names_and_values = [item for item in line[2:] if not isinstance(item, dict)]
    return dict(zip(names_and_values[::2], names_and_values[1::2], strict=True))


def test_one_dashboard_per_stack_in_the_primary_region(each_stack: Evaluation) -> None:
    (dashboard,) = each_stack.of_type(DASHBOARD)
    assert dashboard.region == "eu-west-1"
    assert dashboard.inputs["dashboardName"] == f"global-api-{each_stack.stack}"
    assert each_stack.outputs["dashboardName"] == dashboard.inputs["dashboardName"]


def test_every_widget_names_a_declared_resource_in_its_region(each_stack: Evaluation) -> None:
    declared: dict[str, dict[str, str | None]] = {
        "DBInstanceIdentifier": {r.inputs["identifier"]: r.region for r in each_stack.of_type(RDS)},
        "LoadBalancer": {
            r.outputs["arnSuffix"]: r.region for r in each_stack.of_type("aws:lb/loadBalancer:LoadBalancer")
        },
        "TargetGroup": {r.outputs["arnSuffix"]: r.region for r in each_stack.of_type("aws:lb/targetGroup:TargetGroup")},
        "DistributionId": {
            r.outputs["id"]: "us-east-1" for r in each_stack.of_type("aws:cloudfront/distribution:Distribution")
        },
        "InstanceId": {r.outputs["id"]: r.region for r in each_stack.of_type("aws:ec2/instance:Instance")},
    }
    lines = metrics(each_stack)
    assert lines
    for region, line in lines:
        for name, value in dimension_values(line).items():
            if name == "Region":  # CloudFront's fixed "Global" dimension
                continue
            assert value in declared[name], f"{line[1]} refers to undeclared {name}={value}"
            assert declared[name][value] == region, f"{line[1]} {name}={value} charted from {region}"


def test_dashboard_covers_the_data_path(each_stack: Evaluation) -> None:
    charted = {(line[0], line[1]) for _, line in metrics(each_stack)}
    for metric in (
        ("AWS/RDS", "ReplicaLag"),
        ("AWS/RDS", "CPUUtilization"),
        ("AWS/RDS", "DatabaseConnections"),
        ("AWS/RDS", "FreeStorageSpace"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "HealthyHostCount"),
        ("AWS/CloudFront", "Requests"),
        ("AWS/CloudFront", "5xxErrorRate"),
        ("AWS/EC2", "StatusCheckFailed"),
    ):
        assert metric in charted, metric
    lagged = {
        dimension_values(line)["DBInstanceIdentifier"] for _, line in metrics(each_stack) if line[1] == "ReplicaLag"
    }
    replicas = {r.inputs["identifier"] for r in each_stack.of_type(RDS) if r.inputs.get("replicateSourceDb")}
    assert lagged == replicas
    latency = {
        dimension_values(line)["LoadBalancer"] for _, line in metrics(each_stack) if line[1] == "TargetResponseTime"
    }
    assert len(latency) == len(each_stack.of_type("aws:lb/loadBalancer:LoadBalancer"))


def test_cache_hit_rate_is_charted_exactly_where_cloudfront_publishes_it(each_stack: Evaluation) -> None:
    """CacheHitRate is one of CloudFront's additional metrics: it exists only for a distribution with a monitoring
    subscription (CreateMonitoringSubscription, CloudFront API reference). Production subscribes; staging saves the
    cost and leaves the widget out instead of showing an empty one."""
    subscriptions = each_stack.of_type("aws:cloudfront/monitoringSubscription:MonitoringSubscription")
    charted = any(line[1] == "CacheHitRate" for _, line in metrics(each_stack))
    assert charted == bool(subscriptions) == (each_stack.stack == "production")
    [distribution] = each_stack.of_type("aws:cloudfront/distribution:Distribution")
    for subscription in subscriptions:
        assert subscription.inputs["distributionId"] == distribution.outputs["id"]
        config = subscription.inputs["monitoringSubscription"]["realtimeMetricsSubscriptionConfig"]
        assert config == {"realtimeMetricsSubscriptionStatus": "Enabled"}
