"""Resolve Pulumi Outputs built from plain values, for component tests that need no engine and no mocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pulumi


def resolved(build: Callable[[], Any]) -> Any:
    """The plain value of what `build()` returns, every nested Output resolved (dicts and lists included).

    Outputs attach to the running event loop when created, so `build` runs inside the loop that resolves them."""

    async def run() -> Any:
        return await pulumi.Output.from_input(build()).future()

    return asyncio.run(run())
