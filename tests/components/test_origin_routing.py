"""The origin's health alarms: what Route 53 can evaluate, and how silence is read (components/origin_routing.py).

Route 53 API reference, AlarmIdentifier: health checks support alarms on standard-resolution metrics with the
statistics Average, Minimum, Maximum, Sum or SampleCount; no extended statistics (so no p99) and no metric math
(checked by tests/components/alarm_rules.py `route53_problems`).
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from components.monitoring import Monitoring
from components.origin_routing import (
    INSUFFICIENT_DATA_STATUS,
    OriginRoutingArgs,
    RegionalOrigin,
    health_alarm_specs,
)
from tests.components.alarm_rules import route53_problems

EU = RegionalOrigin(
    logical_region="eu",
    aws_region="eu-west-1",
    alb_dns_name="alb.eu",
    alb_zone_id="Z1",
    alb_arn_suffix="app/alb/1",
    target_group_arn_suffix="targetgroup/tg/1",
)
US = RegionalOrigin("us", "us-east-1", "alb.us", "Z2", "app/alb/2", "targetgroup/tg/2")


def routing(**overrides: Any) -> OriginRoutingArgs:
    # The alarm specs never touch the Monitoring component (only the constructor creates alarms through it).
    base: dict[str, Any] = {
        "host": "origin.example.com",
        "zone_id": "Z0",
        "origins": [EU, US],
        "monitoring": cast(Monitoring, object()),
    }
    return OriginRoutingArgs(**{**base, **overrides})


def test_two_alarms_per_region_on_that_regions_alb() -> None:
    healthy, errors = health_alarm_specs("routing", routing(), US)
    assert (healthy.name, errors.name) == ("routing-us-healthy-targets", "routing-us-app-5xx")
    assert healthy.dimensions == {"LoadBalancer": "app/alb/2", "TargetGroup": "targetgroup/tg/2"}
    assert errors.dimensions == {"LoadBalancer": "app/alb/2"}
    assert "out of origin.example.com" in healthy.description


def test_thresholds_and_window_come_from_the_args() -> None:
    args = routing(min_healthy_targets=2, max_5xx_per_minute=10, evaluation_minutes=5)
    healthy, errors = health_alarm_specs("r", args, EU)
    assert (healthy.metric_name, healthy.statistic, healthy.comparison, healthy.threshold) == (
        "HealthyHostCount",
        "Minimum",
        "LessThanThreshold",
        2,
    )
    assert (errors.metric_name, errors.statistic, errors.comparison, errors.threshold) == (
        "HTTPCode_Target_5XX_Count",
        "Sum",
        "GreaterThanThreshold",
        10,
    )
    # "per minute": one-minute periods, over the configured number of consecutive minutes.
    assert {(s.period_seconds, s.evaluation_periods) for s in (healthy, errors)} == {(60, 5)}


def test_silence_means_gone_for_targets_and_fine_for_errors() -> None:
    """No HealthyHostCount data: the target group or ALB is gone. No 5xx data: the ALB publishes the count only
    when it is non-zero (ELB user guide), so silence is health."""
    healthy, errors = health_alarm_specs("r", routing(), EU)
    assert (healthy.treat_missing_data, errors.treat_missing_data) == ("breaching", "notBreaching")


def test_every_alarm_kind_has_an_insufficient_data_status() -> None:
    kinds = {spec.name.removeprefix("r-eu-") for spec in health_alarm_specs("r", routing(), EU)}
    assert kinds == set(INSUFFICIENT_DATA_STATUS)
    assert INSUFFICIENT_DATA_STATUS == {"healthy-targets": "LastKnownStatus", "app-5xx": "Healthy"}


@pytest.mark.parametrize("minutes", [1, 3, 10])
def test_route53_can_evaluate_every_health_alarm(minutes: int) -> None:
    for spec in health_alarm_specs("r", routing(evaluation_minutes=minutes), EU):
        assert route53_problems(spec) == [], spec.name


def test_origins_are_required_and_distinct() -> None:
    with pytest.raises(ValueError, match="origins: got none; allowed: at least one app region"):
        routing(origins=[])
    with pytest.raises(ValueError, match=r"each region at most once \(got eu, us, eu\)"):
        routing(origins=[EU, US, EU])
