"""Physical names carry `<project>-<stack>`, so two stacks in one account never claim one name.

The whole-stack check (no two resources of staging and production share a name) is tests/infra/test_naming.py;
this is the rule itself, for any project and stack the engine reports.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest

from components.naming import physical_name, stack_prefix
from tests.components.name_rules import (
    ecr_repository_problem,
    kms_alias_problem,
    log_group_problem,
    rds_identifier_problem,
)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulumi, "get_project", lambda: "global-api")
    monkeypatch.setattr(pulumi, "get_stack", lambda: "production")


@pytest.mark.usefixtures("engine")
def test_names_start_with_project_and_stack() -> None:
    assert stack_prefix() == "global-api-production"
    assert physical_name("network-eu") == "global-api-production-network-eu"
    # KMS aliases use "/" (alias/<project>-<stack>/<name>), log groups embed the prefixed name in a path.
    assert physical_name("network-eu-logs-key", separator="/") == "global-api-production/network-eu-logs-key"


def test_two_stacks_never_share_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulumi, "get_project", lambda: "global-api")
    names = {}
    for stack in ("staging", "production"):
        monkeypatch.setattr(pulumi, "get_stack", lambda stack=stack: stack)
        names[stack] = physical_name("app-task")
    assert names == {"staging": "global-api-staging-app-task", "production": "global-api-production-app-task"}


def test_prefixed_names_of_the_committed_stacks_fit_the_tightest_rule() -> None:
    """The longest RDS identifier the stacks build (<prefix>-replica-asia) stays within RDS's 63 characters."""
    assert rds_identifier_problem("global-api-production-replica-asia") is None


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (rds_identifier_problem, "a" * 63, "a" * 64),
        (rds_identifier_problem, "app-eu-1", "1app"),
        (rds_identifier_problem, "app-eu", "app--eu"),
        (rds_identifier_problem, "app-eu", "app-eu-"),
        (rds_identifier_problem, "app-eu", "app_eu"),
        (kms_alias_problem, "alias/global-api-production/db-key", "global-api-production/db-key"),
        (kms_alias_problem, "alias/" + "k" * 250, "alias/" + "k" * 251),
        (kms_alias_problem, "alias/awsome/key", "alias/aws/key"),
        (kms_alias_problem, "alias/a_b-c/d", "alias/a.b"),
        (log_group_problem, "/aws/rds/instance/app-eu/postgresql", "/vpc/app eu"),
        (log_group_problem, "/" + "g" * 511, "/" + "g" * 512),
        (ecr_repository_problem, "global-api-production/app", "Global-API/app"),
        (ecr_repository_problem, "a/b.c_d-e", "a//b"),
    ],
)
def test_each_name_rule_accepts_its_edge_and_refuses_the_next(
    check: Callable[[str], str | None], good: str, bad: str
) -> None:
    assert check(good) is None
    assert check(bad) is not None
