"""The dashboard body, built from resolved names: widget placement on CloudWatch's grid and what each chart shows.

AWS facts (CloudWatch API reference, "Dashboard Body Structure and Syntax"): the grid is 24 units wide, a widget's
`width` is 1..24 and `height` 1..1000, `x` 0..23; a metric line is [namespace, metric name, dimension name, value,
..., {rendering options}].
"""

from __future__ import annotations

from typing import Any

from components.dashboard import WIDTH, DashboardArgs, DatabaseRef, InstanceRef, LoadBalancerRef, build_body


def full_args(*, cdn_additional_metrics: bool = True) -> DashboardArgs:
    return DashboardArgs(
        dashboard_name="global-api-production",
        home_region="eu-west-1",
        databases=[
            DatabaseRef("x", "eu-west-1", "eu", "primary"),
            DatabaseRef("x", "us-east-1", "us", "replica"),
            DatabaseRef("x", "ap-southeast-1", "asia", "replica"),
        ],
        load_balancers=[LoadBalancerRef("x", "x", "eu-west-1", "eu")],
        distribution_id="x",
        cdn_additional_metrics=cdn_additional_metrics,
        timescale_nodes=[InstanceRef("x", "eu-west-1", "primary")],
        max_replica_lag_seconds=5.0,
        p99_target_seconds=0.1,
    )


def body(args: DashboardArgs) -> dict[str, Any]:
    return build_body(
        args,
        databases=["app-eu", "app-us", "app-asia"],
        load_balancers=[("app/alb-eu/1", "targetgroup/tg-eu/1")],
        distribution_id="E123" if args.distribution_id else None,
        timescale_nodes=["i-0abc"],
    )


def titles(args: DashboardArgs) -> list[str]:
    return [w["properties"]["title"] for w in body(args)["widgets"]]


def test_widgets_tile_the_grid_without_overlap() -> None:
    widgets = body(full_args())["widgets"]
    cells: set[tuple[int, int]] = set()
    for widget in widgets:
        assert 1 <= widget["width"] <= WIDTH == 24
        assert 1 <= widget["height"] <= 1000
        assert widget["x"] + widget["width"] <= WIDTH
        covered = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not covered & cells, widget["properties"]["title"]
        cells |= covered
    # Two per row, rows stacked: no gaps an operator has to scroll past.
    assert {(w["x"], w["y"]) for w in widgets} == {((i % 2) * 12, (i // 2) * 6) for i in range(len(widgets))}


def test_each_replica_charts_its_lag_against_the_bound_in_its_own_region() -> None:
    lags = [w["properties"] for w in body(full_args())["widgets"] if w["properties"]["title"].startswith("Replica lag")]
    assert [(p["title"], p["region"]) for p in lags] == [
        ("Replica lag us (s)", "us-east-1"),
        ("Replica lag asia (s)", "ap-southeast-1"),
    ]
    assert lags[0]["metrics"] == [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", "app-us", {"label": "us"}]]
    assert {(p["stat"], p["annotations"]["horizontal"][0]["value"]) for p in lags} == {("Maximum", 5.0)}


def test_the_primary_and_alb_charts_use_the_resolved_names() -> None:
    widgets = {w["properties"]["title"]: w["properties"] for w in body(full_args())["widgets"]}
    assert widgets["Primary CPU (%)"]["metrics"] == [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "app-eu"]]
    assert widgets["Healthy targets eu"]["metrics"] == [
        ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", "targetgroup/tg-eu/1", "LoadBalancer", "app/alb-eu/1"]
    ]
    assert widgets["ALB latency eu (s)"]["annotations"] == {"horizontal": [{"label": "p99 goal", "value": 0.1}]}
    assert widgets["TimescaleDB primary"]["metrics"][1] == ["AWS/EC2", "CPUUtilization", "InstanceId", "i-0abc"]


def test_cache_hit_rate_only_with_cloudfronts_additional_metrics() -> None:
    assert "CloudFront cache hit rate (%)" in titles(full_args(cdn_additional_metrics=True))
    without = titles(full_args(cdn_additional_metrics=False))
    assert "CloudFront cache hit rate (%)" not in without
    assert "CloudFront requests" in without


def test_nothing_declared_nothing_charted() -> None:
    empty = DashboardArgs(dashboard_name="d", home_region="eu-west-1")
    assert build_body(empty, [], [], None, []) == {"widgets": []}
