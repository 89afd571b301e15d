"""The API service's arguments: what it refuses before any resource exists.

The service's task definition, autoscaling and deployment settings are tested on the declared stacks in
tests/infra/test_service.py; its task size rules are the Fargate task block's (tests/components/test_fargate_task.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from components.service import ServiceArgs


def args(**overrides: Any) -> ServiceArgs:
    base: dict[str, Any] = {
        "logical_region": "eu",
        "aws_region": "eu-west-1",
        "image_uri": "repo@sha256:0",
        "repository_arn": "arn:aws:ecr:eu-west-1:1:repository/app",
        "subnet_ids": ["subnet-a"],
        "security_group_id": "sg-app",
        "target_group_arn": "arn:tg",
        "load_balancer_arn_suffix": "app/alb/1",
        "target_group_arn_suffix": "targetgroup/tg/1",
        "cpu": 512,
        "memory": 1024,
        "desired_count": 2,
        "min_count": 2,
        "max_count": 10,
    }
    return ServiceArgs(**{**base, **overrides})


@pytest.mark.parametrize(("low", "desired", "high"), [(1, 1, 1), (2, 2, 10), (1, 5, 10), (3, 10, 10)])
def test_counts_in_order_are_accepted(low: int, desired: int, high: int) -> None:
    service = args(min_count=low, desired_count=desired, max_count=high)
    assert (service.min_count, service.desired_count, service.max_count) == (low, desired, high)


@pytest.mark.parametrize(("low", "desired", "high"), [(0, 1, 1), (2, 1, 10), (1, 11, 10), (5, 5, 4)])
def test_counts_out_of_order_are_refused_naming_all_three(low: int, desired: int, high: int) -> None:
    counts = rf"1 <= min <= desired <= max \(got min {low}, desired {desired}, max {high}\)$"
    with pytest.raises(ValueError, match=counts):
        args(min_count=low, desired_count=desired, max_count=high)


@pytest.mark.parametrize("user", ["0", "0:0", "root", "", ":1"])
def test_the_service_never_runs_as_root(user: str) -> None:
    with pytest.raises(ValueError, match=rf"run_as_user: got '{user}'; allowed: a non-root uid\[:gid\]"):
        args(run_as_user=user)


def test_a_name_is_either_plain_environment_or_a_secret() -> None:
    with pytest.raises(ValueError, match=r"^ServiceArgs: DATABASE_URL given both as plain environment and as a secret"):
        args(environment={"DATABASE_URL": "postgres://"}, secrets={"DATABASE_URL": "arn:s"})
