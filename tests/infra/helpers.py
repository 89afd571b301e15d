"""Evaluation cache and config builders shared by the infra and policy tests."""

from __future__ import annotations

import copy
import json
from typing import Any

from offline.harness import Evaluation, evaluate, load_stack_yaml
from stacks.config import StackConfig, parse_stack_config

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


def config_of(evaluation: Evaluation) -> StackConfig:
    """The typed config the evaluated program saw, for expectations derived from it (retention, counts, sizes)."""
    return parse_stack_config(evaluation.config, "global-api")
