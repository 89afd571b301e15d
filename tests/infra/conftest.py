"""Shared mocks fixtures: every infra test reads what the real `__main__.py` declared for a stack.

Evaluations are cached per (stack, config) for the session, so a dozen test modules cost one run per stack.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from offline.harness import Evaluation, evaluate, load_stack_yaml

STACKS = ("staging", "production")
_cache: dict[str, Evaluation] = {}


def evaluate_cached(stack: str, config: dict[str, Any] | None = None) -> Evaluation:
    key = json.dumps([stack, config], sort_keys=True, default=str)
    if key not in _cache:
        _cache[key] = evaluate(stack, config)
    return _cache[key]


def stack_config(stack: str, **overrides: Any) -> dict[str, Any]:
    """The stack's YAML config with `<project>:<key>` overrides (keyword `aws_region` -> `aws:region`)."""
    config = copy.deepcopy(load_stack_yaml(stack))
    for key, value in overrides.items():
        full_key = "aws:region" if key == "aws_region" else f"global-api:{key}"
        if value is None:
            config.pop(full_key, None)
        else:
            config[full_key] = value
    return config


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
