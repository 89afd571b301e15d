"""The harness pauses the cyclic garbage collector while a stack evaluates, and always gives it back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from offline.harness import try_evaluate
from stacks.config import StackConfigError
from tests.infra.helpers import stack_config


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """Generations of every cyclic collection that starts while the test runs."""
    started: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(int(info["generation"]))

    gc.callbacks.append(record)
    try:
        yield started
    finally:
        gc.callbacks.remove(record)


def test_no_collection_runs_during_an_evaluation(collections: list[int]) -> None:
    assert gc.isenabled()
    evaluation, error = try_evaluate("staging")
    assert error is None
    assert len(evaluation.resources) > 100  # enough allocation to trigger hundreds of collections otherwise
    assert len(collections) <= 1, collections  # at most the one that runs once the collector is back
    assert gc.isenabled()


def test_collector_is_back_after_a_failed_evaluation() -> None:
    _, error = try_evaluate("staging", stack_config("staging", primaryRegion="mars"))
    assert isinstance(error, StackConfigError)
    assert 'global-api:primaryRegion: got "mars"' in str(error)
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        try_evaluate("staging")
        assert not gc.isenabled()
    finally:
        gc.enable()
