"""Physical names carry `<project>-<stack>`, so two stacks in one account never claim one name.

The whole-stack check (no two resources of staging and production share a name) is tests/infra/test_naming.py;
this is the rule itself, for any project and stack the engine reports.
"""

from __future__ import annotations

import pulumi
import pytest

from components.naming import physical_name, stack_prefix


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
