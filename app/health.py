"""Background health and lag monitor: every node is probed about every HEALTH_PROBE_INTERVAL_MS.

Replica lag is measured as staleness in time, not bytes: the monitor remembers when the primary reached
each WAL position it sampled, and a replica's lag is how long ago the primary first passed the replica's
replay position. That is zero for an idle, caught-up replica (unlike now() - pg_last_xact_replay_timestamp())
and grows in real time for a paused or stuck one, independent of clock skew between hosts.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Final, Literal

from app.pools import Node, NodeName

log = logging.getLogger(__name__)

_HISTORY: Final = 4096  # primary WAL samples kept (about 30 min at 500 ms)
NodeStatus = Literal["healthy", "degraded", "down"]


@dataclass
class NodeHealth:
    """What the last probe (or a failed request) learned about one node."""

    up: bool = False
    latency_ms: float | None = None
    replay_lsn: int | None = None
    lag_ms: float | None = None
    error: str | None = None


class HealthMonitor:
    """Probes nodes in the background; requests read its state and report failures back at once."""

    def __init__(self, nodes: dict[NodeName, Node], interval_s: float, max_lag_ms: float) -> None:
        self.nodes = nodes
        self.interval_s = interval_s
        self.max_lag_ms = max_lag_ms
        self.state: dict[NodeName, NodeHealth] = {name: NodeHealth() for name in nodes}
        self._primary_wal: deque[tuple[float, int]] = deque(maxlen=_HISTORY)
        self._probe_conns: dict[NodeName, Any] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """One probe round before serving (so routing starts informed), then probe in the background."""
        await self.probe_all()
        self._task = asyncio.create_task(self._loop(), name="health-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for conn in self._probe_conns.values():
            conn.terminate()
        self._probe_conns.clear()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.probe_all()
            except Exception:  # the monitor must outlive any surprise
                log.exception("health probe round failed")

    async def probe_all(self) -> None:
        await asyncio.gather(*(self._probe(name) for name in self.nodes))

    def usable(self, name: NodeName) -> bool:
        """A replica may serve reads: up, pool open and lag known and under the bound."""
        health = self.state[name]
        return health.up and self.nodes[name].has_pool and health.lag_ms is not None and health.lag_ms < self.max_lag_ms

    def status(self, name: NodeName) -> NodeStatus:
        health = self.state[name]
        if not health.up:
            return "down"
        if name != "primary" and not self.usable(name):
            return "degraded"
        return "healthy"

    async def mark_down(self, name: NodeName, exc: BaseException) -> None:
        """Called by the request path when a query failed on the node: stop routing to it now."""
        health = self.state[name]
        if health.up:
            log.warning("node %s marked down: %s", name, exc)
        health.up = False
        health.error = f"{type(exc).__name__}: {exc}"
        conn = self._probe_conns.pop(name, None)
        if conn is not None:
            conn.terminate()
        await self.nodes[name].reset()

    async def _probe(self, name: NodeName) -> None:
        node = self.nodes[name]
        try:
            async with asyncio.timeout(node.acquire_timeout_s):
                conn = self._probe_conns.get(name)
                if conn is None or conn.is_closed():
                    conn = await node.connect()
                    self._probe_conns[name] = conn
                started = time.monotonic()
                if name == "primary":
                    row = await conn.fetchrow("SELECT pg_current_wal_lsn() AS lsn, false AS standby")
                else:
                    row = await conn.fetchrow("SELECT pg_last_wal_replay_lsn() AS lsn, pg_is_in_recovery() AS standby")
                latency_ms = (time.monotonic() - started) * 1000
                if not node.has_pool:
                    await node.open()
        except Exception as exc:
            await self.mark_down(name, exc)
            return
        lsn: int | None = row["lsn"]  # asyncpg decodes pg_lsn as an int
        if name != "primary" and not row["standby"]:
            await self.mark_down(name, RuntimeError("replica is not in recovery (promoted?)"))
            return
        await self._mark_up(name, latency_ms, lsn)

    async def _mark_up(self, name: NodeName, latency_ms: float, lsn: int | None) -> None:
        health = self.state[name]
        if not health.up:
            log.info("node %s is up", name)
            await self.nodes[name].reset()  # connections made before an outage are dead
        health.up, health.error, health.latency_ms = True, None, latency_ms
        now = time.monotonic()
        if name == "primary":
            if lsn is not None:
                self._primary_wal.append((now, lsn))
            return
        health.replay_lsn = lsn
        health.lag_ms = None if lsn is None else self._lag_ms(lsn, now)

    def _lag_ms(self, replay_lsn: int, now: float) -> float:
        """How long ago the primary first passed this replay position (0 when not passed)."""
        for sampled_at, primary_lsn in self._primary_wal:
            if primary_lsn > replay_lsn:
                return max(0.0, (now - sampled_at) * 1000)
        return 0.0

    def regional_report(self, region: str, uptime_s: float) -> tuple[dict[str, Any], int]:
        """The /health/regional JSON (original shape plus lagMs) and its HTTP status."""
        replicas = [name for name in self.nodes if name != "primary"]
        primary = self.state["primary"]
        if not primary.up:
            overall = "error"
        elif any(self.status(name) != "healthy" for name in replicas):
            overall = "degraded"
        else:
            overall = "ok"
        body = {
            "status": overall,
            "region": region,
            "services": {
                # A string, as in the original report that existing monitors compare; latency sits beside it.
                "primaryDatabase": "healthy" if primary.up else "unhealthy",
                "primaryDatabaseLatency": _ms(primary.latency_ms) if primary.up else None,
                "readReplicas": [
                    {
                        "region": name,
                        "status": "healthy" if self.status(name) == "healthy" else "unhealthy",
                        "condition": self.status(name),  # added detail: healthy, degraded (lagging) or down
                        "latency": _ms(self.state[name].latency_ms) if self.state[name].up else None,
                        "lagMs": _ms(self.state[name].lag_ms) if self.state[name].up else None,
                    }
                    for name in replicas
                ],
            },
            "replicaCount": len(replicas),
            "uptime": round(uptime_s, 1),
        }
        return body, 503 if overall == "error" else 200


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
