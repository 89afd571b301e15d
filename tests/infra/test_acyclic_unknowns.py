"""offline/acyclic_unknowns.py answers as pulumi's own contains_unknowns, leaves no garbage cycle, and is what
evaluations under mocks use."""

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from offline import acyclic_unknowns
from offline.harness import evaluate


def _unknown() -> Any:
    return Unknown()  # type: ignore[no-untyped-call]


def _values() -> list[Any]:
    shared = [1, 2]
    looped: list[Any] = ["a"]
    looped.append(looped)
    looped_with_unknown: dict[str, Any] = {"x": 1}
    looped_with_unknown["self"] = looped_with_unknown
    looped_with_unknown["later"] = [_unknown()]
    return [
        None, 0, "text", 1.5, _unknown(), [], {},
        [1, "a", None], [1, [2, [3, _unknown()]]], {"a": {"b": [{"c": _unknown()}]}}, {"a": [1, 2], "b": {"c": "d"}},
        (_unknown(),),  # tuples are not searched, by pulumi or by us
        {_unknown(): 1},  # nor dict keys
        [shared, shared, _unknown()], looped, looped_with_unknown,
    ]  # fmt: skip


@pytest.mark.parametrize("value", _values(), ids=lambda value: type(value).__name__)  # stable across workers
def test_same_answer_as_pulumis(value: Any) -> None:
    assert acyclic_unknowns.contains_unknowns(value) == acyclic_unknowns.PULUMI_CONTAINS_UNKNOWNS(value)


def test_the_answers_differ_between_values() -> None:
    """The parametrised cases are not all one answer (which a constant function would also give)."""
    answers = {acyclic_unknowns.contains_unknowns(value) for value in _values()}
    assert answers == {True, False}


@pytest.fixture
def collector_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _cycles_left_by(function: Any) -> int:
    for _ in range(100):
        function({"a": [1, {"b": 2}]})
    return gc.collect()


@pytest.mark.usefixtures("collector_paused")
def test_no_garbage_cycle_per_call() -> None:
    assert _cycles_left_by(acyclic_unknowns.PULUMI_CONTAINS_UNKNOWNS) >= 100  # what it replaces: one per call
    assert _cycles_left_by(acyclic_unknowns.contains_unknowns) == 0


def test_evaluations_use_it() -> None:
    evaluate("staging")
    assert rpc.contains_unknowns is acyclic_unknowns.contains_unknowns
