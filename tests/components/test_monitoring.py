"""The alarm conventions an `AlarmSpec` carries, and the rule checks the other component tests apply to their specs.

The checks in tests/components/alarm_rules.py are only worth something if each one can fail, so every rule is shown
refusing a spec that breaks it (and accepting its valid neighbour).
"""

from __future__ import annotations

import dataclasses

import pytest

from components.monitoring import AlarmSpec, MetricQuery
from tests.components.alarm_rules import cloudwatch_problems, route53_problems

VALID = AlarmSpec(
    name="x-cpu", description="x", namespace="AWS/EC2", metric_name="CPUUtilization", threshold=80, period_seconds=60
)
RATE = AlarmSpec(
    name="x-rate",
    description="x",
    threshold=5,
    queries=(
        MetricQuery(id="errors", namespace="AWS/ApplicationELB", metric_name="HTTPCode_Target_5XX_Count"),
        MetricQuery(id="requests", namespace="AWS/ApplicationELB", metric_name="RequestCount"),
        MetricQuery(id="rate", expression="100 * FILL(errors, 0) / requests", return_data=True),
    ),
)


def test_an_idle_metric_is_not_a_fault_by_default() -> None:
    """Missing data defaults to notBreaching; health alarms must opt in to `breaching` (module docstring)."""
    assert VALID.treat_missing_data == "notBreaching"
    assert (VALID.comparison, VALID.statistic, VALID.extended_statistic) == ("GreaterThanThreshold", "Average", None)


def test_valid_specs_pass() -> None:
    assert cloudwatch_problems(VALID) == []
    assert cloudwatch_problems(RATE) == []
    assert route53_problems(VALID) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"period_seconds": 90}, "period 90: allowed: a multiple of 60"),
        ({"period_seconds": 30}, "period 30: allowed: a multiple of 60"),  # high resolution: not for AWS metrics
        ({"evaluation_periods": 0}, "evaluation_periods 0: allowed: at least 1"),
        ({"period_seconds": 300, "evaluation_periods": 289}, "= 86700 s: allowed: at most 86400 s"),
        ({"period_seconds": 3600, "evaluation_periods": 169}, "= 608400 s: allowed: at most 604800 s"),
        ({"evaluation_periods": 3, "datapoints_to_alarm": 4}, "datapoints_to_alarm 4: allowed: 1..3"),
        ({"datapoints_to_alarm": 0}, "datapoints_to_alarm 0: allowed: 1..3"),
        ({"metric_name": None}, "needs a namespace and a metric name"),
        ({"extended_statistic": "p99"}, "exactly one of statistic and extended_statistic"),
        ({"statistic": None}, "exactly one of statistic and extended_statistic"),
    ],
)
def test_each_cloudwatch_rule_can_refuse(changes: dict[str, object], problem: str) -> None:
    problems = cloudwatch_problems(dataclasses.replace(VALID, **changes))  # type: ignore[arg-type]
    assert any(problem in p for p in problems), problems


def test_the_longest_windows_cloudwatch_allows_pass() -> None:
    assert cloudwatch_problems(dataclasses.replace(VALID, period_seconds=300, evaluation_periods=288)) == []
    assert cloudwatch_problems(dataclasses.replace(VALID, period_seconds=3600, evaluation_periods=168)) == []


@pytest.mark.parametrize(
    ("queries", "problem"),
    [
        ((RATE.queries[0], RATE.queries[1], dataclasses.replace(RATE.queries[2], return_data=False)), "exactly one"),
        ((*RATE.queries, dataclasses.replace(RATE.queries[0], id="x", return_data=True)), "exactly one"),
        ((dataclasses.replace(RATE.queries[0], id="Errors"), *RATE.queries[1:]), "query id 'Errors'"),
        ((RATE.queries[0], RATE.queries[0], RATE.queries[2]), "distinct"),
        ((RATE.queries[0], RATE.queries[2]), "refers to requests, which is no other query"),
        ((*RATE.queries[:2], dataclasses.replace(RATE.queries[2], metric_name="M")), "exactly one of expression"),
    ],
)
def test_each_metric_math_rule_can_refuse(queries: tuple[MetricQuery, ...], problem: str) -> None:
    problems = cloudwatch_problems(dataclasses.replace(RATE, queries=queries))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (RATE, "single-metric alarms only"),
        (dataclasses.replace(VALID, statistic=None, extended_statistic="p99"), "statistic p99"),
        (dataclasses.replace(VALID, statistic="IQM"), "statistic IQM"),
    ],
)
def test_route53_refuses_what_its_health_checks_cannot_evaluate(spec: AlarmSpec, problem: str) -> None:
    assert any(problem in p for p in route53_problems(spec)), route53_problems(spec)
