"""`make plan` (offline/plan.py), the per-resource listing the architecture picture leaves out: every declared
resource once, indented under its parent component, with its region and protection, and a count per type."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from offline.harness import DeclaredResource, Evaluation
from offline.plan import main, render_counts, render_tree


def depth(resource: DeclaredResource, by_urn: dict[str, DeclaredResource]) -> int:
    """How many declared components stand above the resource."""
    steps = 0
    while resource.parent_urn in by_urn:
        resource, steps = by_urn[resource.parent_urn], steps + 1
    return steps


def line(resource: DeclaredResource) -> str:
    region = f"  [{resource.region}]" if resource.region else ""
    protected = "  (protected)" if resource.protect else ""
    return f"{resource.type}  {resource.name}{region}{protected}"


def test_the_tree_lists_every_resource_once_under_its_parent(each_stack: Evaluation) -> None:
    by_urn = {r.urn: r for r in each_stack.resources}
    lines = render_tree(each_stack)
    shown = Counter(((len(text) - len(text.lstrip(" "))) // 2, text.strip()) for text in lines)
    assert shown == Counter((depth(r, by_urn), line(r)) for r in each_stack.resources)
    # A child directly follows its parent or a sibling's subtree: never deeper than one below the line before.
    indents = [(len(text) - len(text.lstrip(" "))) // 2 for text in lines]
    assert indents[0] == 0
    assert all(after <= before + 1 for before, after in itertools.pairwise(indents))


def test_protected_resources_are_marked(production: Evaluation) -> None:
    protected = [r for r in production.resources if r.protect]
    assert protected  # production keeps its data
    assert sum("(protected)" in text for text in render_tree(production)) == len(protected)


def test_counts_per_type_add_up_to_every_resource(each_stack: Evaluation) -> None:
    *rows, total = render_counts(each_stack)
    counted = {row.split()[0]: int(row.split()[1]) for row in rows}
    assert counted == Counter(r.type for r in each_stack.resources)
    assert total.split() == ["total", str(len(each_stack.resources))]


def test_an_unknown_stack_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nosuchstack"]) == 2
    assert "Pulumi.nosuchstack.yaml does not exist" in capsys.readouterr().err
