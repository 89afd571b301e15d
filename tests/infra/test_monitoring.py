"""Alarm plumbing: an encrypted topic per alarm region, and every alarm notifying its own region's topic."""

from __future__ import annotations

from offline.harness import Evaluation

TOPIC = "aws:sns/topic:Topic"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


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
        assert alarm.inputs["treatMissingData"] in {"missing", "ignore", "breaching", "notBreaching"}
        assert alarm.inputs["alarmActions"] == [topic_by_region[alarm.region]], alarm.name
        assert alarm.inputs["okActions"] == [topic_by_region[alarm.region]], alarm.name
