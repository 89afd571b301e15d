"""Background health and lag monitor: every node is probed about every HEALTH_PROBE_INTERVAL_MS, each in its
own loop (a frozen node delays only its own probes).

Replica lag is an upper bound on staleness in time, kept as `fresh_as_of`: a moment by which the replica is
known to have had everything the primary had. A read at time t from that replica is at most t - fresh_as_of
stale, so the bound holds at the time of the read, not only at the last probe. Two sources, the later wins:
- WAL samples: the monitor remembers when it read each primary WAL position (the moment the query was sent, so
  the primary had at most that position then); the replica has everything the primary had at the latest sample
  at or below its replay position. Zero clock skew involved; known only once samples cover that position.
- The heartbeat (migration 0005): the health monitor of one app task updates a row on the primary every
  second; the replica's copy of that row says when the primary wrote what the replica has replayed. This is
  what makes lag known from the very first probe of a freshly started process. The primary's clock is
  compared with ours through the offset measured by the primary probe (error: half a probe round trip).
While the primary is unreachable nothing new can be committed as far as this task can see, so a replica that
has replayed everything the primary was last seen with counts as fresh (reads keep working in an outage).
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Final, Literal

from app.pools import Node, is_node_busy
from contracts.regions import NodeName

log = logging.getLogger(__name__)

_HISTORY: Final = 4096  # primary WAL samples kept (about 30 min at 500 ms)
# Session advisory lock held by the one task whose monitor writes the heartbeat (7_240_001 is the migrations').
HEARTBEAT_LOCK: Final = 7_240_002
HEARTBEAT_MAX_INTERVAL_S: Final = 1.0
# A node that refused a connection for lack of slots (SQLSTATE 53300) is skipped this long, never marked down.
BUSY_HOLD_S: Final = 1.0
# An up node is marked down by its probe only after this many timeouts in a row. One late answer is as likely this
# task's own event loop starved (a CPU-bound moment, a GC pause) as a sick node, and a false "down" costs two
# pool resets (every pooled connection reopened) and a 503 from /health/regional. A refused or broken connection
# still marks it down at once, and so does a request that outlasts its budget on the node.
PROBE_TIMEOUTS_TO_MARK_DOWN: Final = 2
NodeStatus = Literal["healthy", "degraded", "down"]

_PRIMARY_PROBE: Final = """
    SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn() END AS lsn,
           pg_is_in_recovery() AS standby, clock_timestamp() AS now,
           to_regclass('heartbeat') IS NOT NULL AS has_heartbeat
"""
_REPLICA_PROBE: Final = "SELECT pg_last_wal_replay_lsn() AS lsn, pg_is_in_recovery() AS standby"
_REPLICA_PROBE_WITH_HEARTBEAT: Final = f"{_REPLICA_PROBE}, (SELECT at FROM heartbeat WHERE id = 1) AS heartbeat_at"


class StandbyAsPrimary(RuntimeError):
    """DATABASE_URL reached a node in recovery: what stale DNS looks like right after an RDS failover."""


class ProbeTimeout(TimeoutError):
    """A probe (connect, query, heartbeat) outlasted DATABASE_ACQUIRE_TIMEOUT."""


@dataclass
class NodeHealth:
    """What the last probe (or a failed request) learned about one node."""

    up: bool = False
    latency_ms: float | None = None
    replay_lsn: int | None = None
    fresh_as_of: float | None = None  # monotonic time by which the replica had all the primary had
    primary_lsn_at_probe: int | None = None  # the primary's position last sampled before this replica's probe
    busy_until: float = 0.0
    error: str | None = None
    probe_timeouts: int = 0  # consecutive probes without an answer in time


class HealthMonitor:
    """Probes nodes in the background; requests read its state and report failures back at once."""

    def __init__(self, nodes: dict[NodeName, Node], interval_s: float, max_lag_ms: float) -> None:
        self.nodes = nodes
        self.interval_s = interval_s
        self.max_lag_ms = max_lag_ms
        # Every second, or a fifth of the lag bound if that is shorter: a caught-up replica then never looks
        # staler than the interval, and RDS's ReplicaLag (from the last replayed write) stays under its alarm.
        self.heartbeat_interval_s = min(HEARTBEAT_MAX_INTERVAL_S, max_lag_ms / 5000)
        self.state: dict[NodeName, NodeHealth] = {name: NodeHealth() for name in nodes}
        self._primary_wal: deque[tuple[float, int]] = deque(maxlen=_HISTORY)
        self._clock_offset_s: float | None = None  # primary wall clock minus ours
        self._has_heartbeat = False
        self._heartbeat_lock_held = False
        self._last_heartbeat = float("-inf")
        self._probe_conns: dict[NodeName, Any] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """One probe round before serving (primary first, so replicas are judged against it), then one
        background loop per node."""
        await self.probe_all()
        self._tasks = [asyncio.create_task(self._loop(name), name=f"health-{name}") for name in self.nodes]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for conn in self._probe_conns.values():
            conn.terminate()
        self._probe_conns.clear()

    async def _loop(self, name: NodeName) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self._probe(name)
            except Exception:  # the monitor must outlive any surprise
                log.exception("health probe of %s failed", name)

    async def probe_all(self) -> None:
        if "primary" in self.nodes:
            await self._probe("primary")
        await asyncio.gather(*(self._probe(name) for name in self.nodes if name != "primary"))

    @property
    def primary_lsn(self) -> int | None:
        """The primary's WAL position at the latest sample."""
        return self._primary_wal[-1][1] if self._primary_wal else None

    def staleness_s(self, name: NodeName, now: float | None = None) -> float | None:
        """Upper bound on how stale a read from this replica would be now; None while unknown."""
        fresh_as_of = self.state[name].fresh_as_of
        if fresh_as_of is None:
            return None
        return max(0.0, (time.monotonic() if now is None else now) - fresh_as_of)

    def usable(self, name: NodeName) -> bool:
        """A replica may serve reads: up, pool open, and a read now would be fresher than the bound."""
        health = self.state[name]
        if not (health.up and self.nodes[name].has_pool):
            return False
        staleness = self.staleness_s(name)
        return staleness is not None and staleness * 1000 < self.max_lag_ms

    def busy(self, name: NodeName) -> bool:
        """The node refused a connection for lack of slots a moment ago."""
        return self.state[name].busy_until > time.monotonic()

    def note_busy(self, name: NodeName, exc: BaseException) -> None:
        """Called when a node answers 53300: skip it briefly, keep its connections and its status."""
        if not self.busy(name):
            log.warning("node %s has no free connection slot: %s", name, exc)
        self.state[name].busy_until = time.monotonic() + BUSY_HOLD_S

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
        self._drop_probe_conn(name)
        if isinstance(exc, StandbyAsPrimary):
            await self.nodes[name].drop()  # every pooled connection may sit on the old primary
        else:
            await self.nodes[name].reset()

    def _drop_probe_conn(self, name: NodeName) -> None:
        conn = self._probe_conns.pop(name, None)
        if conn is not None:
            conn.terminate()
        if name == "primary":
            self._heartbeat_lock_held = False  # a session lock dies with its connection

    async def _probe(self, name: NodeName) -> None:
        node = self.nodes[name]
        try:
            async with asyncio.timeout(node.acquire_timeout_s):
                conn = self._probe_conns.get(name)
                if conn is None or conn.is_closed():
                    self._drop_probe_conn(name)
                    conn = await node.connect()
                    self._probe_conns[name] = conn
                sent, sent_wall = time.monotonic(), time.time()
                if name == "primary":
                    row = await conn.fetchrow(_PRIMARY_PROBE)
                else:
                    row = await conn.fetchrow(_REPLICA_PROBE_WITH_HEARTBEAT if self._has_heartbeat else _REPLICA_PROBE)
                received = time.monotonic()
                if name == "primary" and not row["standby"] and row["has_heartbeat"]:
                    await self._beat(conn)
                if not node.has_pool:
                    await node.open()
        except TimeoutError:
            await self._probe_timed_out(name)
            return
        except Exception as exc:
            if is_node_busy(exc):
                self.note_busy(name, exc)
            else:
                await self.mark_down(name, exc)
            return
        if name == "primary":
            if row["standby"]:
                await self.mark_down(
                    name, StandbyAsPrimary("DATABASE_URL reaches a standby (stale DNS after a failover?)")
                )
                return
            self._has_heartbeat = row["has_heartbeat"]
            self._clock_offset_s = row["now"].timestamp() - (sent_wall + (received - sent) / 2)
            self._primary_wal.append((sent, row["lsn"]))  # asyncpg decodes pg_lsn as an int
        elif not row["standby"]:
            await self.mark_down(name, RuntimeError("replica is not in recovery (promoted?)"))
            return
        else:
            self._judge_replica(name, row, sent, sent_wall)
        await self._mark_up(name, (received - sent) * 1000)

    async def _probe_timed_out(self, name: NodeName) -> None:
        health = self.state[name]
        health.probe_timeouts += 1
        self._drop_probe_conn(name)  # its query may still be running: the next probe starts on a new connection
        timeout_s = self.nodes[name].acquire_timeout_s
        if health.up and health.probe_timeouts < PROBE_TIMEOUTS_TO_MARK_DOWN:
            log.info("node %s: probe had no answer within %gs; one more and it is marked down", name, timeout_s)
            return
        # asyncio.timeout's TimeoutError has no text: say what happened, for the log and the report.
        reason = f"the probe had no answer within {timeout_s:g}s ({health.probe_timeouts} in a row)"
        await self.mark_down(name, ProbeTimeout(reason))

    def _judge_replica(self, name: NodeName, row: Any, sent: float, sent_wall: float) -> None:
        """Record the replica's replay position and the moment it is known to be fresh as of."""
        health = self.state[name]
        replay: int | None = row["lsn"]
        health.replay_lsn = replay
        health.primary_lsn_at_probe = self.primary_lsn
        fresh: float | None = None
        if replay is not None:
            fresh = self._wal_fresh_as_of(replay)
            heartbeat_at = row.get("heartbeat_at") if self._has_heartbeat else None
            if heartbeat_at is not None and self._clock_offset_s is not None:
                age_s = max(0.0, sent_wall + self._clock_offset_s - heartbeat_at.timestamp())
                fresh = max(fresh if fresh is not None else float("-inf"), sent - age_s)
            if not self.state["primary"].up and (self.primary_lsn is None or replay >= self.primary_lsn):
                fresh = sent
        health.fresh_as_of = fresh

    def _wal_fresh_as_of(self, replay_lsn: int) -> float | None:
        """When the primary was last sampled at or below this replay position (None: before our history)."""
        for sampled_at, primary_lsn in reversed(self._primary_wal):
            if primary_lsn <= replay_lsn:
                return sampled_at
        return None

    async def _beat(self, conn: Any) -> None:
        """Write the heartbeat if this task holds the heartbeat lock (tried for, never waited for)."""
        now = time.monotonic()
        if now - self._last_heartbeat < self.heartbeat_interval_s:
            return
        self._last_heartbeat = now
        if not self._heartbeat_lock_held:
            self._heartbeat_lock_held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", HEARTBEAT_LOCK))
        if self._heartbeat_lock_held:
            await conn.execute("UPDATE heartbeat SET at = clock_timestamp() WHERE id = 1")

    async def _mark_up(self, name: NodeName, latency_ms: float) -> None:
        health = self.state[name]
        if not health.up:
            log.info("node %s is up", name)
            await self.nodes[name].reset()  # connections made before an outage are dead
        health.up, health.error, health.latency_ms, health.probe_timeouts = True, None, latency_ms, 0

    def regional_report(self, region: str, uptime_s: float) -> tuple[dict[str, Any], int]:
        """The /health/regional JSON (original shape plus added detail) and its HTTP status."""
        replicas = [name for name in self.nodes if name != "primary"]
        primary = self.state["primary"]
        if not primary.up:
            overall = "error"
        elif any(self.status(name) != "healthy" for name in replicas):
            overall = "degraded"
        else:
            overall = "ok"
        now = time.monotonic()
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
                        "lagMs": _lag_ms(self.staleness_s(name, now)) if self.state[name].up else None,
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


def _lag_ms(staleness_s: float | None) -> float | None:
    return None if staleness_s is None else round(staleness_s * 1000, 1)
