"""Evaluate the real `__main__.py` of a stack under Pulumi mocks and return what it declared.

One function, `evaluate`, used by the infra tests, the policy tests, `make plan` and `make diagram`, so what a reader
sees offline is exactly what the tests check.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import runpy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from offline import acyclic_unknowns
from offline.mocks import AwsLikeMocks

ROOT = Path(__file__).resolve().parent.parent
PROJECT: str = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]


@dataclass(frozen=True)
class DeclaredResource:
    """One resource as the engine would see it in a preview."""

    type: str
    name: str
    urn: str
    parent_urn: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool
    custom: bool
    depends_on: tuple[str, ...]

    @property
    def region(self) -> str | None:
        """The AWS region the resource lives in (pulumi-aws 7 `region` input), None for global/non-AWS ones."""
        region = self.inputs.get("region")
        return str(region) if region else None


@dataclass
class Evaluation:
    """What one stack declared: resources in registration order and the resolved stack outputs."""

    stack: str
    config: dict[str, Any]
    resources: list[DeclaredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str) -> DeclaredResource:
        matches = [r for r in self.resources if r.type == type_token and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_token} named {name}, found {len(matches)}")
        return matches[0]

    def by_urn(self, urn: str) -> DeclaredResource | None:
        return next((r for r in self.resources if r.urn == urn), None)

    def children_of(self, parent: DeclaredResource) -> list[DeclaredResource]:
        return [r for r in self.resources if r.parent_urn == parent.urn]


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The stock mock monitor, plus the options a reviewer checks in a preview (parent, protect, dependsOn)."""

    def __init__(self, mocks: AwsLikeMocks) -> None:
        super().__init__(mocks)
        self.options: dict[str, tuple[str, bool, bool, tuple[str, ...]]] = {}
        self.inputs: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.options[response.urn] = (
                request.parent,
                bool(request.protect),
                bool(request.custom),
                tuple(request.dependencies),
            )
            self.inputs[response.urn] = pulumi.runtime.rpc.deserialize_properties(request.object)
            self.order.append(response.urn)
        return response


def stack_file(stack: str) -> Path:
    return ROOT / f"Pulumi.{stack}.yaml"


def load_stack_yaml(stack: str) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml."""
    document = yaml.safe_load(stack_file(stack).read_text()) or {}
    return dict(document.get("config") or {})


def _as_engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    """The engine hands the program strings; structured values arrive as JSON text."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def _resolve(value: Any) -> Any:
    return _sync_await(pulumi.Output.from_input(value).future())


def try_evaluate(
    stack: str, config: Mapping[str, Any] | None = None, *, preview: bool = False
) -> tuple[Evaluation, BaseException | None]:
    """Run `__main__.py` for `stack` (its YAML config unless `config` is given).

    Returns what was declared even when the program fails, so tests can show a bad config creates nothing.
    """
    with cyclic_gc_paused():
        return _run_in_own_loop(stack, dict(load_stack_yaml(stack) if config is None else config), preview)


def _run_in_own_loop(stack: str, effective: dict[str, Any], preview: bool) -> tuple[Evaluation, BaseException | None]:
    # Each run gets its own event loop, restored afterwards: the caller may be inside pytest-asyncio (whose loop is
    # gone between tests) or may have none; Pulumi's runtime needs a current, idle loop.
    try:
        previous_loop: asyncio.AbstractEventLoop | None = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        previous_loop = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return _run(stack, effective, preview)
    finally:
        asyncio.set_event_loop(previous_loop)
        loop.close()


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one evaluation (it is restored after, and then collects what is
    left). An evaluation allocates hundreds of thousands of short-lived objects (outputs, futures, tasks) beside the
    tens of thousands of classes pulumi_aws defines, and the collector's passes over all of them cost about half of an
    evaluation's CPU time (`make bench` measures it); reference counting still frees everything acyclic."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(stack: str, effective: dict[str, Any], preview: bool) -> tuple[Evaluation, BaseException | None]:
    acyclic_unknowns.install()  # same answers, no garbage cycle per call (offline/acyclic_unknowns.py)
    mocks = AwsLikeMocks(default_region=str(effective.get("aws:region", "us-east-1")))
    monitor = _RecordingMonitor(mocks)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    set_all_config(_as_engine_config(effective), [])
    pulumi_settings.SETTINGS.rpc_manager.clear()

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    error: BaseException | None = None
    try:
        _sync_await(run_pulumi_func(program))
    except Exception as raised:  # reported to the caller with whatever was declared before it
        error = raised
    evaluation = Evaluation(stack=stack, config=effective)
    registered = monitor.get_registered_resources()
    for urn in monitor.order:
        parent, protect, custom, depends_on = monitor.options[urn]
        type_token, name = urn.split("::")[-2].split("$")[-1], urn.split("::")[-1]
        evaluation.resources.append(
            DeclaredResource(
                type=type_token,
                name=name,
                urn=urn,
                parent_urn=parent,
                inputs=monitor.inputs[urn],
                outputs=dict(registered[urn].state),
                protect=protect,
                custom=custom,
                depends_on=depends_on,
            )
        )
    if error is None:
        root = pulumi_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) or {}
        evaluation.outputs = {key: _resolve(value) for key, value in exported.items()}
    return evaluation, error


def evaluate(stack: str, config: Mapping[str, Any] | None = None, *, preview: bool = False) -> Evaluation:
    """Like `try_evaluate`, but raises what the program raised."""
    evaluation, error = try_evaluate(stack, config, preview=preview)
    if error is not None:
        raise error
    return evaluation
