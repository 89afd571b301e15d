"""The ALB's alarms on their own: the error rates as a percentage of requests (metric math), unhealthy targets and
p99 latency, with thresholds from the arguments.

AWS facts: ELB user guide, "CloudWatch metrics for your Application Load Balancer": HTTPCode_Target_5XX_Count and
HTTPCode_ELB_5XX_Count are published only when non-zero, RequestCount counts every request (statistic Sum); CloudWatch
metric math `FILL(m, 0)` replaces a missing datapoint of m with 0 (CloudWatch user guide, "Metric math syntax and
functions"), so a minute without errors is a 0 % rate rather than no data. Query rules: tests/components/alarm_rules.py.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from components.load_balancer import LoadBalancerArgs, _error_rate, alarm_specs
from components.monitoring import Monitoring
from tests.components.alarm_rules import cloudwatch_problems

DIMENSIONS = {"LoadBalancer": "app/alb-eu/0123"}


def test_the_rate_is_errors_over_requests_in_percent_with_missing_errors_as_zero() -> None:
    spec = _error_rate("alb-eu-target-5xx-rate", "d", "HTTPCode_Target_5XX_Count", 5.0, DIMENSIONS)
    errors, requests, rate = spec.queries
    assert (errors.id, errors.metric_name, errors.stat) == ("errors", "HTTPCode_Target_5XX_Count", "Sum")
    assert (requests.id, requests.metric_name, requests.stat) == ("requests", "RequestCount", "Sum")
    assert {errors.namespace, requests.namespace} == {"AWS/ApplicationELB"}
    assert errors.dimensions == requests.dimensions == DIMENSIONS
    assert rate.expression == "100 * FILL(errors, 0) / requests"
    assert [q.return_data for q in spec.queries] == [False, False, True]


@pytest.mark.parametrize("percent", [0.5, 1.0, 5.0])
def test_the_threshold_is_the_percentage_and_the_alarm_is_one_cloudwatch_accepts(percent: float) -> None:
    spec = _error_rate("n", "d", "HTTPCode_ELB_5XX_Count", percent, DIMENSIONS)
    assert (spec.threshold, spec.comparison) == (percent, "GreaterThanThreshold")
    assert spec.treat_missing_data == "notBreaching"  # no requests at all is not an error rate
    assert (spec.namespace, spec.metric_name) == (None, None)  # metric math only
    assert cloudwatch_problems(spec) == []


def lb_args(**overrides: Any) -> LoadBalancerArgs:
    base: dict[str, Any] = {
        "logical_region": "us",
        "aws_region": "us-east-1",
        "vpc_id": "vpc-1",
        "public_subnet_ids": ["subnet-a"],
        "app_security_group": cast(Any, object()),  # used by the constructor only
        "origin_host": "origin.example.com",
        "hosted_zone_id": "Z1",
        "origin_verify_value": "secret",
        "monitoring": cast(Monitoring, object()),
    }
    return LoadBalancerArgs(**{**base, **overrides})


def specs(**overrides: Any) -> dict[str, Any]:
    built = alarm_specs("alb-us", lb_args(**overrides), alb="app/alb-us/1", target_group="targetgroup/tg-us/1")
    return {spec.name.removeprefix("alb-us-"): spec for spec in built}


def test_four_alarms_on_this_albs_dimensions() -> None:
    alarms = specs()
    assert set(alarms) == {"unhealthy-hosts", "target-5xx-rate", "elb-5xx-rate", "p99-latency"}
    assert alarms["unhealthy-hosts"].dimensions == {
        "LoadBalancer": "app/alb-us/1",
        "TargetGroup": "targetgroup/tg-us/1",
    }
    assert alarms["p99-latency"].dimensions == {"LoadBalancer": "app/alb-us/1"}
    assert {q.dimensions["LoadBalancer"] for q in alarms["elb-5xx-rate"].queries if q.metric_name} == {"app/alb-us/1"}


def test_thresholds_come_from_the_arguments() -> None:
    alarms = specs(target_5xx_rate_percent=2.5, elb_5xx_rate_percent=0.5, p99_response_seconds=0.25)
    assert alarms["target-5xx-rate"].threshold == 2.5
    assert alarms["elb-5xx-rate"].threshold == 0.5
    p99 = alarms["p99-latency"]
    assert (p99.metric_name, p99.extended_statistic, p99.statistic, p99.threshold) == (
        "TargetResponseTime",
        "p99",
        None,
        0.25,
    )
    assert (p99.datapoints_to_alarm, p99.evaluation_periods) == (3, 5)  # 3 bad minutes out of 5, not one slow spike
    assert "over 0.25 s" in p99.description


def test_any_unhealthy_target_alarms() -> None:
    unhealthy = specs(health_check_path="/live")["unhealthy-hosts"]
    assert (unhealthy.metric_name, unhealthy.statistic, unhealthy.threshold) == ("UnHealthyHostCount", "Maximum", 0)
    assert unhealthy.comparison == "GreaterThanThreshold"
    assert "failed /live" in unhealthy.description


def test_every_alb_alarm_is_one_cloudwatch_accepts() -> None:
    for name, spec in specs().items():
        assert cloudwatch_problems(spec) == [], name
