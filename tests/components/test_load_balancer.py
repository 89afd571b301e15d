"""The ALB's error-rate alarm: a percentage of requests by metric math, built by `_error_rate` on its own.

AWS facts: ELB user guide, "CloudWatch metrics for your Application Load Balancer": HTTPCode_Target_5XX_Count and
HTTPCode_ELB_5XX_Count are published only when non-zero, RequestCount counts every request (statistic Sum); CloudWatch
metric math `FILL(m, 0)` replaces a missing datapoint of m with 0 (CloudWatch user guide, "Metric math syntax and
functions"), so a minute without errors is a 0 % rate rather than no data. Query rules: tests/components/alarm_rules.py.
"""

from __future__ import annotations

import pytest

from components.load_balancer import _error_rate
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
