"""The scheduled task's own rules: which schedule expressions EventBridge Scheduler takes, and which stopped tasks
count as failed runs.

AWS facts: Scheduler API reference (CreateSchedule, ScheduleExpression): "at(yyyy-mm-ddThh:mm:ss)", "rate(value
unit)" with "a value as a positive integer, and a unit with the following options: minute | minutes | hour | hours |
day | days", "cron(fields)" with "six fields separated by white spaces: (minutes hours day_of_month month day_of_week
year)"; EventBridge user guide, "Rate expressions reference": "If the value is equal to 1, then the unit must be
singular. If the value is greater than 1, the unit must be plural." ECS developer guide, "Amazon ECS task state
change events": a stopped task's `lastStatus` is STOPPED, `stopCode` TaskFailedToStart when it never ran, and each
container carries its `exitCode`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from components.fargate_task import ContainerSpec, FargateTaskArgs
from components.scheduled_task import ScheduledTaskArgs, failed_run_pattern, schedule_expression_error
from stacks.tasks_tier import PIPELINE_SCHEDULE, REPORTS_SCHEDULE


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(30 days)",
        "cron(0 12 * * ? *)",
        "cron(15 10 ? * MON-FRI 2030)",
        "cron(0/5 * * * ? *)",
        "at(2030-02-28T23:59:00)",
        "at(2027-01-01T00:00:00)",
    ],
)
def test_documented_forms_are_accepted(expression: str) -> None:
    assert schedule_expression_error(expression) is None


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("rate(5 minute)", "allowed: rate(5 minutes) (the unit is singular exactly when the value is 1)"),
        ("rate(1 hours)", "allowed: rate(1 hour) (the unit is singular exactly when the value is 1)"),
        ("rate(0 minutes)", "allowed: rate(value unit) with a positive value"),
        ("rate(5 seconds)", "allowed: rate(value minute|minutes|hour|hours|day|days), cron(<6 fields>)"),
        ("rate(1.5 hours)", "allowed: rate(value minute|minutes|hour|hours|day|days)"),
        ("rate(5  minutes)", "allowed: rate(value minute|minutes|hour|hours|day|days)"),
        ("cron(0 12 * * ?)", "allowed: cron(minutes hours day-of-month month day-of-week year), 6 fields"),
        ("cron(0 0 12 * * ? *)", "6 fields"),
        ("at(2030-02-30T10:00:00)", "allowed: at(yyyy-mm-ddThh:mm:ss) naming a real date and time"),
        ("at(2030-02-28 10:00:00)", "or at(yyyy-mm-ddThh:mm:ss)"),
        ("*/5 * * * *", "allowed: rate(value minute|minutes|hour|hours|day|days), cron(<6 fields>) or at("),
        ("", "allowed: rate("),
        ("every 5 minutes", "allowed: rate("),
        ("rate(5 minutes", "allowed: rate("),
    ],
)
def test_malformed_expressions_name_the_allowed_form(expression: str, problem: str) -> None:
    assert problem in (schedule_expression_error(expression) or "")


def test_the_stacks_schedules_are_valid() -> None:
    assert schedule_expression_error(PIPELINE_SCHEDULE) is None
    assert schedule_expression_error(REPORTS_SCHEDULE) is None


def task() -> FargateTaskArgs:
    return FargateTaskArgs(
        aws_region="eu-west-1", image_uri="r@sha256:0", repository_arn="arn:r", containers=[ContainerSpec("run")]
    )


def test_a_bad_schedule_fails_before_any_resource_naming_the_value() -> None:
    with pytest.raises(ValueError, match=r"^ScheduledTaskArgs.schedule_expression: got 'rate\(5 minute\)'; allowed"):
        ScheduledTaskArgs(task(), "rate(5 minute)", subnet_ids=["s"], security_group_id="sg", description="d")
    args = ScheduledTaskArgs(task(), "rate(5 minutes)", subnet_ids=["s"], security_group_id="sg", description="d")
    assert args.container_insights == "enabled"


@pytest.mark.parametrize("expression", ["*/5 * * * *", "every 5 minutes", "rate(5 minutes", "cron(0 12 * * ?)"])
def test_the_args_refuse_every_form_scheduler_refuses_naming_the_value(expression: str) -> None:
    with pytest.raises(ValueError, match="schedule_expression") as error:
        ScheduledTaskArgs(task(), expression, subnet_ids=["s"], security_group_id="sg", description="d")
    assert repr(expression) in str(error.value)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """EventBridge content filtering for the operators the pattern uses (EventBridge user guide, "Event patterns"):
    a list matches when the event's value (or any element of an array value) equals one entry or satisfies an
    `anything-but`; a nested object matches into the event's object (any element of an array of objects); `$or`
    matches when one alternative does; a field missing from the event never matches."""

    def value_matches(allowed: list[Any], value: Any) -> bool:
        values = value if isinstance(value, list) else [value]
        for candidate in values:
            for rule in allowed:
                if isinstance(rule, dict) and "anything-but" in rule:
                    if candidate != rule["anything-but"]:
                        return True
                elif candidate == rule:
                    return True
        return False

    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(alternative, event) for alternative in rule):
                return False
            continue
        if not isinstance(event, dict) or key not in event:
            return False
        value = event[key]
        if isinstance(rule, dict):
            objects = value if isinstance(value, list) else [value]
            if not any(matches(rule, item) for item in objects):
                return False
        elif not value_matches(rule, value):
            return False
    return True


CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/pipeline"


def stopped(**detail: Any) -> dict[str, Any]:
    return {
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "detail": {"clusterArn": CLUSTER, "lastStatus": "STOPPED", **detail},
    }


@pytest.mark.parametrize(
    ("event", "failed"),
    [
        (stopped(stopCode="EssentialContainerExited", containers=[{"exitCode": 0}]), False),
        (stopped(stopCode="EssentialContainerExited", containers=[{"exitCode": 0}, {"exitCode": 0}]), False),
        (stopped(stopCode="EssentialContainerExited", containers=[{"exitCode": 1}]), True),
        (stopped(stopCode="EssentialContainerExited", containers=[{"exitCode": 0}, {"exitCode": 137}]), True),
        (stopped(stopCode="TaskFailedToStart", containers=[{"name": "run"}]), True),
        ({**stopped(containers=[{"exitCode": 1}]), "detail-type": "ECS Container Instance State Change"}, False),
        (
            {**stopped(), "detail": {**stopped()["detail"], "lastStatus": "RUNNING", "containers": [{"exitCode": 1}]}},
            False,
        ),
        (
            {**stopped(), "detail": {**stopped(containers=[{"exitCode": 1}])["detail"], "clusterArn": "arn:other"}},
            False,
        ),
    ],
)
def test_failed_runs_are_this_clusters_stopped_tasks_that_exited_non_zero_or_never_started(
    event: dict[str, Any], failed: bool
) -> None:
    assert matches(failed_run_pattern(CLUSTER), event) is failed


def test_the_matcher_itself_distinguishes() -> None:
    """The matcher must be able to say no for each operator, or the test above proves nothing."""
    assert not matches({"a": [{"anything-but": 0}]}, {"a": 0})
    assert not matches({"a": [{"anything-but": 0}]}, {})
    assert matches({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": "y"})
    assert not matches({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": "z"})
    assert not matches({"o": {"a": ["x"]}}, {"o": [{"a": "y"}]})
