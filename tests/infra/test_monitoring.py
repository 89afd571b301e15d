"""Alarm plumbing: an encrypted topic per alarm region, and every alarm notifying its own region's topic."""

from __future__ import annotations

from typing import Any

from components.monitoring import AlarmSpec, MetricQuery
from offline.harness import DeclaredResource, Evaluation
from tests.components.alarm_rules import cloudwatch_problems

TOPIC = "aws:sns/topic:Topic"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
# Metrics whose silence means the watched thing is gone (components/monitoring.py AlarmSpec): RDS replica lag, ALB
# healthy hosts, EC2 status checks, and the TimescaleDB node agent's job metrics. Every other alarm reads silence as
# an idle metric.
SILENCE_IS_FAILURE = frozenset({"ReplicaLag", "HealthyHostCount", "StatusCheckFailed", "FailedJobs", "OverdueJobs"})


def test_alarm_topic_in_every_network_region_and_us_east_1(each_stack: Evaluation) -> None:
    vpc_regions = {v.region for v in each_stack.of_type("aws:ec2/vpc:Vpc")}
    assert {t.region for t in each_stack.of_type(TOPIC) if t.name.startswith("monitoring-")} == vpc_regions | {
        "us-east-1"
    }


def test_topics_are_kms_encrypted_with_a_rotating_key(each_stack: Evaluation) -> None:
    keys = {k.outputs["arn"]: k for k in each_stack.of_type("aws:kms/key:Key")}
    for topic in each_stack.of_type(TOPIC):
        key = keys[topic.inputs["kmsMasterKeyId"]]
        assert key.inputs["enableKeyRotation"] is True
        assert key.region == topic.region
        assert "cloudwatch.amazonaws.com" in key.inputs["policy"]


def test_each_topic_mails_the_configured_address(each_stack: Evaluation) -> None:
    topics = {t.outputs["arn"] for t in each_stack.of_type(TOPIC) if t.name.startswith("monitoring-")}
    subscriptions = each_stack.of_type(SUBSCRIPTION)
    assert {s.inputs["topic"] for s in subscriptions} == topics
    assert {(s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions} == {("email", "ops@example.com")}


def test_every_alarm_follows_the_convention(each_stack: Evaluation) -> None:
    topic_by_region = {
        t.region: t.outputs["arn"] for t in each_stack.of_type(TOPIC) if t.name.startswith("monitoring-")
    }
    prefix = f"global-api-{each_stack.stack}-"
    for alarm in each_stack.of_type(ALARM):
        assert alarm.inputs["name"].startswith(prefix), alarm.name
        expected = "breaching" if alarm.inputs.get("metricName") in SILENCE_IS_FAILURE else "notBreaching"
        assert alarm.inputs["treatMissingData"] == expected, alarm.name
        assert alarm.inputs["alarmActions"] == [topic_by_region[alarm.region]], alarm.name
        assert alarm.inputs["okActions"] == [topic_by_region[alarm.region]], alarm.name


def test_the_silent_metrics_are_all_alarmed_on(each_stack: Evaluation) -> None:
    """Every metric named in SILENCE_IS_FAILURE is watched, so the convention test above checks each of them."""
    assert {a.inputs.get("metricName") for a in each_stack.of_type(ALARM)} >= SILENCE_IS_FAILURE


def _as_spec(alarm: DeclaredResource) -> AlarmSpec:
    """The declared alarm read back as an AlarmSpec, so CloudWatch's rules (tests/components/alarm_rules.py) apply."""
    inputs: dict[str, Any] = alarm.inputs
    queries = tuple(
        MetricQuery(
            id=q["id"],
            expression=q.get("expression"),
            namespace=(q.get("metric") or {}).get("namespace"),
            metric_name=(q.get("metric") or {}).get("metricName"),
            return_data=bool(q.get("returnData")),
        )
        for q in inputs.get("metricQueries") or []
    )
    periods = {int(q["metric"]["period"]) for q in inputs.get("metricQueries") or [] if q.get("metric")}
    assert len(periods) <= 1, f"{alarm.name}: metrics of one alarm must share a period"
    return AlarmSpec(
        name=inputs["name"],
        description=inputs["alarmDescription"],
        threshold=inputs["threshold"],
        namespace=inputs.get("namespace"),
        metric_name=inputs.get("metricName"),
        statistic=inputs.get("statistic"),
        extended_statistic=inputs.get("extendedStatistic"),
        period_seconds=int(inputs["period"]) if "period" in inputs else periods.pop(),
        evaluation_periods=int(inputs["evaluationPeriods"]),
        datapoints_to_alarm=int(inputs["datapointsToAlarm"]) if "datapointsToAlarm" in inputs else None,
        queries=queries,
    )


def test_every_alarm_is_one_cloudwatch_accepts(each_stack: Evaluation) -> None:
    """Periods, evaluation windows, M-of-N and metric math as PutMetricAlarm allows them (the mocks accept anything).
    This covers the alarms built inside component constructors (TimescaleDB nodes, CloudFront, scheduled tasks)."""
    alarms = each_stack.of_type(ALARM)
    assert alarms
    problems = {a.name: cloudwatch_problems(_as_spec(a)) for a in alarms}
    assert {name: p for name, p in problems.items() if p} == {}
