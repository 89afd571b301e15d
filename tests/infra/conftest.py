"""Shared mocks fixtures: every infra test reads what the real `__main__.py` declared for a stack.

Evaluations are cached per (stack, config) for the session, so a dozen test modules cost one run per stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from offline.harness import Evaluation
from tests.infra.helpers import STACKS, evaluate_cached, stack_config


@pytest.fixture(scope="session")
def staging() -> Evaluation:
    return evaluate_cached("staging")


@pytest.fixture(scope="session")
def production() -> Evaluation:
    return evaluate_cached("production")


@pytest.fixture(scope="session", params=STACKS)
def each_stack(request: pytest.FixtureRequest) -> Evaluation:
    """Parametrizes a test over every committed stack."""
    return evaluate_cached(str(request.param))


@pytest.fixture(scope="session")
def variant() -> Callable[..., Evaluation]:
    """Evaluate a stack's config with overrides: `variant("staging", appRegions=["eu", "us", "asia"])`."""

    def build(stack: str, **overrides: Any) -> Evaluation:
        return evaluate_cached(stack, stack_config(stack, **overrides))

    return build
