"""Every hand-set physical name both stacks declare is one AWS accepts (tests/components/name_rules.py): the mocks
accept any name, and a too-long or malformed one fails only when that resource is first created. Uniqueness of the
same names across the two stacks is tests/infra/test_naming.py."""

from __future__ import annotations

from offline.harness import Evaluation
from tests.components.name_rules import NAME_RULES


def test_every_hand_set_name_follows_its_services_rules(each_stack: Evaluation) -> None:
    checked: dict[str, int] = {}
    problems = []
    for resource in each_stack.resources:
        if resource.type not in NAME_RULES:
            continue
        field, rule = NAME_RULES[resource.type]
        name = resource.inputs.get(field)
        if isinstance(name, str):  # None: Pulumi generates it
            checked[resource.type] = checked.get(resource.type, 0) + 1
            problems.append(rule(name))
    assert set(checked) == set(NAME_RULES), f"no hand-set names seen for {set(NAME_RULES) - set(checked)}"
    assert [p for p in problems if p] == []
