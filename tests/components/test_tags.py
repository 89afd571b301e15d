"""The tags every resource carries, against AWS's tag rules (tests/components/tag_rules.py); each rule is shown
refusing a tag set that breaks it. Every tag the two stacks declare is checked in tests/infra/test_tag_limits.py."""

from __future__ import annotations

import pytest

from components.tags import stack_tags
from contracts import tags as names
from tests.components.tag_rules import tag_problems


def test_stack_tags_name_owner_stack_tier_and_tool() -> None:
    assert stack_tags("global-api", "production", "production") == {
        names.PROJECT: "global-api",
        names.STACK: "production",
        names.ENVIRONMENT: "production",
        names.MANAGED_BY: names.MANAGED_BY_VALUE,
    }
    assert tag_problems(stack_tags("global-api", "production", "production")) == []


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({f"k{i}": "v" for i in range(51)}, "51 tags: allowed: at most 50"),
        ({"k" * 129: "v"}, "allowed: 1..128 characters"),
        ({"": "v"}, "allowed: 1..128 characters"),
        ({"Name": "v" * 257}, "value of 257 characters; allowed: at most 256"),
        ({"aws:owner": "me"}, "key starts with aws:"),
        ({"Owner": "AWS:me"}, "value starts with aws:"),
        ({"Owner": "a;b"}, "characters outside"),
        ({"Owner": "<x>"}, "characters outside"),
    ],
)
def test_each_tag_rule_can_refuse(tags: dict[str, str], problem: str) -> None:
    assert any(problem in p for p in tag_problems(tags)), tag_problems(tags)


def test_the_longest_and_widest_legal_tags_pass() -> None:
    fifty = {f"k{i}": "v" for i in range(50)}
    assert tag_problems(fifty) == []
    assert tag_problems({"k" * 128: "v" * 256, "Path": "a/b:c=d+e-f_g.h@i j"}) == []
