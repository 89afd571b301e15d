"""The monitor's patience with a slow probe: one late answer keeps a node up, two in a row mark it down, and a
broken connection marks it down at once. A scripted node stands in for PostgreSQL so the timing is exact; the
frozen-node tests in test_sick_nodes.py cover the same path against the real cluster."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from app.health import PROBE_TIMEOUTS_TO_MARK_DOWN, HealthMonitor

TIMEOUT_S = 0.05
HEALTHY_ROW = {"lsn": 1, "standby": False, "now": datetime.now(UTC), "has_heartbeat": False}


class ScriptedConnection:
    def __init__(self, node: "ScriptedNode") -> None:
        self.node = node
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = True
        self.node.terminated += 1

    async def fetchrow(self, _query: str) -> dict[str, Any]:
        answer = self.node.script.pop(0)
        if answer == "broken":
            raise ConnectionResetError("connection reset by peer")
        if answer == "slow":
            await asyncio.sleep(TIMEOUT_S * 4)
        return HEALTHY_ROW


class ScriptedNode:
    """A primary whose probes answer "fast", "slow" or "broken" (connection reset), in the order scripted."""

    acquire_timeout_s = TIMEOUT_S
    has_pool = True

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.terminated = 0
        self.resets = 0

    async def connect(self) -> ScriptedConnection:
        return ScriptedConnection(self)

    async def reset(self) -> None:
        self.resets += 1


async def _probed(node: ScriptedNode, probes: int) -> tuple[HealthMonitor, list[bool]]:
    monitor = HealthMonitor({"primary": node}, interval_s=1, max_lag_ms=1000)  # type: ignore[dict-item]
    seen = []
    for _ in range(probes):
        await monitor._probe("primary")
        seen.append(monitor.state["primary"].up)
    return monitor, seen


async def test_one_late_answer_keeps_an_up_node_up_and_costs_no_pool_reset() -> None:
    node = ScriptedNode("fast", "slow", "fast", "slow", "fast")
    monitor, seen = await _probed(node, 5)
    assert seen == [True, True, True, True, True]
    assert node.resets == 1  # only the first "up", which resets connections made before it
    assert node.terminated == 2  # each timed-out probe connection is replaced, its query may still run
    assert monitor.state["primary"].probe_timeouts == 0


async def test_timeouts_in_a_row_mark_the_node_down_with_the_reason() -> None:
    script = ["fast", *["slow"] * PROBE_TIMEOUTS_TO_MARK_DOWN]
    monitor, seen = await _probed(ScriptedNode(*script), len(script))
    assert seen == [True] * PROBE_TIMEOUTS_TO_MARK_DOWN + [False]
    assert PROBE_TIMEOUTS_TO_MARK_DOWN == 2
    assert monitor.state["primary"].error == "ProbeTimeout: the probe had no answer within 0.05s (2 in a row)"


async def test_a_node_never_seen_up_is_down_at_its_first_timeout() -> None:
    monitor, seen = await _probed(ScriptedNode("slow"), 1)
    assert seen == [False]
    assert monitor.state["primary"].error == "ProbeTimeout: the probe had no answer within 0.05s (1 in a row)"


async def test_a_broken_connection_marks_an_up_node_down_at_once() -> None:
    monitor, seen = await _probed(ScriptedNode("fast", "broken"), 2)
    assert seen == [True, False]
    assert monitor.state["primary"].error == "ConnectionResetError: connection reset by peer"
