"""What CloudWatch and Route 53 accept in an alarm, as checks on an `AlarmSpec` (the mocks accept anything).

Sources:
- CloudWatch API reference, PutMetricAlarm: `Period` "Valid values are 10, 20, 30, and any multiple of 60" (10/20/30
  only for high-resolution metrics, which nothing here publishes); "Period multiplied by EvaluationPeriods can't be
  more than 604,800 seconds. For alarms with a period of less than one hour (3,600 seconds), the total evaluation
  period can't be longer than one day (86,400 seconds)"; `DatapointsToAlarm` is the M of an "M out of N" alarm.
- CloudWatch API reference, MetricDataQuery: an alarm holds up to 20 queries, at most 10 with a metric; "one must
  have true as the value for ReturnData"; an Id's "first character must be a lowercase letter", the rest letters,
  numbers and underscores.
- Route 53 API reference, AlarmIdentifier: Route 53 supports alarms on "Standard-resolution metrics" with the
  "Statistics: Average, Minimum, Maximum, Sum, and SampleCount. Extended statistics aren't supported."
"""

from __future__ import annotations

import re

from components.monitoring import AlarmSpec

ONE_HOUR, ONE_DAY, ONE_WEEK = 3_600, 86_400, 604_800
QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
ROUTE53_STATISTICS = frozenset({"Average", "Minimum", "Maximum", "Sum", "SampleCount"})


def cloudwatch_problems(spec: AlarmSpec) -> list[str]:
    """Why PutMetricAlarm would refuse `spec` (standard-resolution metrics), or nothing."""
    problems = []
    period, periods = spec.period_seconds, spec.evaluation_periods
    if period <= 0 or period % 60:
        problems.append(f"period {period}: allowed: a multiple of 60 for standard-resolution metrics")
    if periods < 1:
        problems.append(f"evaluation_periods {periods}: allowed: at least 1")
    window = ONE_DAY if period < ONE_HOUR else ONE_WEEK
    if period * periods > window:
        problems.append(f"period x evaluation_periods = {period * periods} s: allowed: at most {window} s")
    if spec.datapoints_to_alarm is not None and not 1 <= spec.datapoints_to_alarm <= periods:
        problems.append(f"datapoints_to_alarm {spec.datapoints_to_alarm}: allowed: 1..{periods}")
    if spec.queries:
        ids = [q.id for q in spec.queries]
        problems += [
            f"query id {i!r}: allowed: a lowercase letter, then letters, digits, _"
            for i in ids
            if not QUERY_ID.match(i)
        ]
        if len(set(ids)) != len(ids):
            problems.append(f"query ids must be distinct: {ids}")
        if sum(q.return_data for q in spec.queries) != 1:
            problems.append("exactly one query must return data")
        if len(spec.queries) > 20 or sum(q.metric_name is not None for q in spec.queries) > 10:
            problems.append("at most 20 queries, 10 of them metrics")
        for query in spec.queries:
            if (query.expression is None) == (query.metric_name is None):
                problems.append(f"query {query.id}: exactly one of expression and metric")
            # Metric math functions are upper case (FILL, SUM, ...); a lower-case name must be another query's id.
            for name in re.findall(r"\b[a-z][A-Za-z0-9_]*\b", query.expression or ""):
                if name not in ids or name == query.id:
                    problems.append(f"query {query.id}: expression refers to {name}, which is no other query")
    else:
        if not (spec.namespace and spec.metric_name):
            problems.append("a single-metric alarm needs a namespace and a metric name")
        if (spec.statistic is None) == (spec.extended_statistic is None):
            problems.append("exactly one of statistic and extended_statistic")
    return problems


def route53_problems(spec: AlarmSpec) -> list[str]:
    """Why a Route 53 CLOUDWATCH_METRIC health check could not use `spec`, besides CloudWatch's own rules."""
    problems = cloudwatch_problems(spec)
    if spec.queries:
        problems.append("Route 53 evaluates single-metric alarms only (no metric math)")
    if spec.extended_statistic is not None or spec.statistic not in ROUTE53_STATISTICS:
        problems.append(f"statistic {spec.extended_statistic or spec.statistic}: allowed: {sorted(ROUTE53_STATISTICS)}")
    return problems
