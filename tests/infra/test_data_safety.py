"""The data-safety tier is derived once (StackConfig.protect, log_retention_days, secret_recovery_window_days) and
every resource that keeps logs, secrets or data follows it: a tier that re-derived its own value would fail here."""

from __future__ import annotations

from typing import Any

import pytest

from offline.harness import Evaluation
from stacks.config import parse_stack_config
from tests.infra.helpers import config_of, stack_config

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
SECRET = "aws:secretsmanager/secret:Secret"
RDS_INSTANCE = "aws:rds/instance:Instance"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"


@pytest.mark.parametrize(
    ("environment", "protect", "log_days", "secret_days"),
    [("production", True, 365, 30), ("staging", False, 30, 7)],
)
def test_derived_values_per_environment(environment: str, protect: bool, log_days: int, secret_days: int) -> None:
    """README "Stack configuration": production keeps logs a year and secrets restorable for the Secrets Manager
    maximum of 30 days; staging keeps logs a month and secrets for the minimum of 7."""
    config = parse_stack_config(stack_config("staging", environment=environment), "global-api")
    assert config.protect is protect
    assert config.log_retention_days == log_days
    assert config.secret_recovery_window_days == secret_days


def _input_by_name(stack: Evaluation, resource_type: str, key: str) -> dict[str, Any]:
    """`key`'s value on every resource of the type, by name; at least one must exist."""
    resources = stack.of_type(resource_type)
    assert resources, resource_type
    return {r.name: r.inputs[key] for r in resources}


def test_every_log_group_keeps_logs_for_the_stack_retention(each_stack: Evaluation) -> None:
    retention = _input_by_name(each_stack, LOG_GROUP, "retentionInDays")
    assert retention == dict.fromkeys(retention, config_of(each_stack).log_retention_days)


def test_every_expiring_log_bucket_expires_at_the_stack_retention(each_stack: Evaluation) -> None:
    days = config_of(each_stack).log_retention_days
    expiring = {
        lifecycle.name: rule["expiration"]["days"]
        for lifecycle in each_stack.of_type(LIFECYCLE)
        for rule in lifecycle.inputs["rules"]
        if rule.get("expiration")
    }
    assert expiring  # ALB access logs and CloudFront/WAF logs
    assert expiring == dict.fromkeys(expiring, days)


def test_every_secret_has_the_stack_recovery_window(each_stack: Evaluation) -> None:
    windows = _input_by_name(each_stack, SECRET, "recoveryWindowInDays")
    assert windows == dict.fromkeys(windows, config_of(each_stack).secret_recovery_window_days)


def test_protection_follows_the_stack(each_stack: Evaluation) -> None:
    protect = config_of(each_stack).protect
    for instance in each_stack.of_type(RDS_INSTANCE):
        assert instance.protect is protect, instance.name
        assert instance.inputs["deletionProtection"] is protect, instance.name
    for alb in each_stack.of_type(LOAD_BALANCER):
        assert alb.inputs["enableDeletionProtection"] is protect, alb.name
