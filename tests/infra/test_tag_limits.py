"""Every tag both stacks declare is one AWS accepts (count, lengths, characters, no `aws:` prefix): the mocks accept
any tags, and a bad one fails the first `up` of that resource only."""

from __future__ import annotations

from offline.harness import Evaluation
from tests.components.tag_rules import tag_problems


def test_every_declared_tag_set_is_one_aws_accepts(each_stack: Evaluation) -> None:
    tagged = [r for r in each_stack.resources if r.custom and isinstance(r.inputs.get("tags"), dict)]
    assert len(tagged) > 100  # the check sees the stack, not an empty list
    problems = {f"{r.type} {r.name}": tag_problems(r.inputs["tags"]) for r in tagged}
    assert {name: p for name, p in problems.items() if p} == {}
