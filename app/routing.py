"""Where a query runs: reads to the nearest healthy, fresh replica, writes to the primary.

Inter-region distance is typical round-trip time between the AWS regions behind each logical region
(eu-west-1, us-east-1, ap-southeast-1), in milliseconds. It only orders fallbacks, so rough is fine:

|        | eu  | us  | asia |
|--------|-----|-----|------|
| eu     | 0   | 70  | 170  |
| us     | 70  | 0   | 220  |
| asia   | 170 | 220 | 0    |

Bounds and shedding (README "Decisions"): a read takes at most DATABASE_READ_TIMEOUT_MS, a write at most
DATABASE_WRITE_TIMEOUT_MS, acquire included; a statement still running then has its connection terminated (a
polite cancel would wait on the same, possibly frozen, server). A read spends at most a third of its budget on
one node, so a frozen home replica still leaves time for the next. Saturation is not an outage: a replica whose
pool is full (or that answered 53300) gets a short wait (SATURATED_WAIT_S) and is then passed over, and when every
usable replica is saturated the read is refused with 503 + Retry-After instead of spilling onto the primary. The
primary serves reads only when no replica can (down, lagging, or behind the client's token), and then at most
half its pool at a time, so writes always keep connections.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeVar

import asyncpg

from app.countries import REGIONS, Region
from app.health import HealthMonitor, StandbyAsPrimary
from app.lsn import format_lsn
from app.pools import DeadlineExceeded, Node, is_node_busy, is_node_failure
from contracts.regions import NodeName

T = TypeVar("T")
Query = Callable[[Any], Awaitable[T]]

DISTANCE_MS: Final[dict[Region, dict[Region, int]]] = {
    "eu": {"eu": 0, "us": 70, "asia": 170},
    "us": {"eu": 70, "us": 0, "asia": 220},
    "asia": {"eu": 170, "us": 220, "asia": 0},
}
READ_ATTEMPTS: Final = 3  # a read gives one node at most 1/READ_ATTEMPTS of its budget
SATURATED_WAIT_S: Final = 0.1  # longest a read queues for a full pool before it moves on


def replica_order(home: Region) -> list[Region]:
    """Regions by distance from home, home first."""
    return sorted(REGIONS, key=lambda region: DISTANCE_MS[home][region])


_ORDER: Final[dict[Region, tuple[Region, ...]]] = {home: tuple(replica_order(home)) for home in REGIONS}


class DatabaseUnavailable(Exception):
    """No node could serve the request; the API answers 503 with Retry-After."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class InvalidToken(ValueError):
    """A consistency token beyond anything the primary has written: forged or corrupted; the API answers 400."""


class _Saturated(Exception):
    """This node cannot take the read now (pool full, or no connection slot on the server)."""


class _Behind(Exception):
    """This replica has not replayed the client's token yet."""


TokenState = Literal["has", "lacks", "unknown"]


class Router:
    """Runs read and write callbacks on the right node within bounded time, shedding reads before writes."""

    def __init__(self, nodes: dict[NodeName, Node], monitor: HealthMonitor) -> None:
        self.nodes = nodes
        self.monitor = monitor
        settings = nodes["primary"].settings
        self.read_timeout_s = settings.database_read_timeout_ms / 1000
        self.write_timeout_s = settings.database_write_timeout_ms / 1000
        self._primary_reads = asyncio.Semaphore(max(1, settings.database_pool_max // 2))
        self._primary_seen = 0  # highest primary WAL position this process has seen (tokens it issued, checks)
        self._position: asyncio.Task[int | None] | None = None

    def read_candidates(self, home: Region, token: int | None = None) -> list[NodeName]:
        """Usable replicas by distance from home (minus those known to lack the token), then the primary."""
        return [*(region for region in _ORDER[home] if self._may_read(region, token)), "primary"]

    def _next_candidate(self, home: Region, token: int | None, tried: set[NodeName]) -> NodeName | None:
        """The first of read_candidates not tried yet, judging only as many replicas as it takes: the hot path
        stops at the home replica."""
        for region in _ORDER[home]:
            if region not in tried and self._may_read(region, token):
                return region
        return None if "primary" in tried else "primary"

    def _may_read(self, region: Region, token: int | None) -> bool:
        return region in self.nodes and self.monitor.usable(region) and self._token_state(region, token) != "lacks"

    def _token_state(self, name: NodeName, token: int | None) -> TokenState:
        """What the monitor already knows, without a round trip, about this replica and the token."""
        health = self.monitor.state[name]
        if token is None or (health.replay_lsn is not None and token <= health.replay_lsn):
            return "has"
        if health.primary_lsn_at_probe is not None and token <= health.primary_lsn_at_probe:
            return "lacks"  # already written when the replica was last probed, and not replayed then
        return "unknown"

    async def read(self, home: Region, token: int | None, query: Query[T]) -> tuple[T, NodeName]:
        """Run query on the best candidate within the read budget; skip replicas behind the token."""
        if token is not None:
            await self._check_token(token)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.read_timeout_s
        tried: set[NodeName] = set()
        saturated = False
        while True:
            budget = deadline - loop.time()
            name = self._next_candidate(home, token, tried)
            if budget <= 0 or name is None:
                raise DatabaseUnavailable("no database node could serve this read")
            if name == "primary" and saturated:
                raise DatabaseUnavailable("every read replica is saturated; retry shortly")
            tried.add(name)
            try:
                return await self._read_on(name, token, query, min(budget, self.read_timeout_s / READ_ATTEMPTS)), name
            except _Saturated:
                saturated = True
            except _Behind:
                pass
            except DeadlineExceeded as exc:
                await self.monitor.mark_down(name, exc)  # a statement this slow means a sick node
            except asyncpg.TransactionRollbackError:
                # e.g. "canceling statement due to conflict with recovery": the node is fine, try the next.
                if name == "primary":
                    raise
            except Exception as exc:
                if not is_node_failure(exc):
                    raise
                await self.monitor.mark_down(name, exc)

    async def _read_on(self, name: NodeName, token: int | None, query: Query[T], budget_s: float) -> T:
        node = self.nodes[name]
        if name == "primary":
            return await self._read_on_primary(node, query, budget_s)
        wait = SATURATED_WAIT_S if node.saturated or self.monitor.busy(name) else node.acquire_timeout_s
        try:
            async with node.connection(acquire_timeout_s=wait, budget_s=budget_s) as conn:
                if (
                    token is not None
                    and self._token_state(name, token) == "unknown"
                    and not await _replayed(conn, token)
                ):
                    raise _Behind
                return await query(conn)
        except DeadlineExceeded:
            raise
        except TimeoutError as exc:  # the acquire: pool full or connecting slowly, not proof it is down
            raise _Saturated from exc
        except Exception as exc:
            if is_node_busy(exc):
                self.monitor.note_busy(name, exc)
                raise _Saturated from exc
            raise

    async def _read_on_primary(self, node: Node, query: Query[T], budget_s: float) -> T:
        """A read on the primary, holding one of its read slots (half the pool) so writes keep the rest."""
        try:
            async with asyncio.timeout(SATURATED_WAIT_S):
                await self._primary_reads.acquire()
        except TimeoutError:
            raise DatabaseUnavailable("the primary's share for reads is in use; retry shortly") from None
        try:
            async with node.connection(budget_s=budget_s) as conn:
                return await query(conn)
        except DeadlineExceeded:
            raise
        except TimeoutError as exc:
            raise DatabaseUnavailable("the primary did not hand out a connection in time") from exc
        finally:
            self._primary_reads.release()

    async def _check_token(self, token: int) -> None:
        """400 for a token beyond the primary's position; costs a primary round trip only for tokens newer than
        anything this process has seen, and concurrent checks share that one query."""
        if token <= max(self.monitor.primary_lsn or 0, self._primary_seen):
            return
        if self._position is None or self._position.done():
            self._position = asyncio.create_task(self._read_primary_position())
        position = await asyncio.shield(self._position)
        if position is not None and token > position:
            raise InvalidToken(
                f"{format_lsn(token)} is beyond anything the primary has written ({format_lsn(position)}); "
                "send back a token exactly as a write returned it"
            )

    async def _read_primary_position(self) -> int | None:
        try:
            async with self.nodes["primary"].connection(budget_s=self.read_timeout_s / READ_ATTEMPTS) as conn:
                position: int = await conn.fetchval("SELECT pg_current_wal_insert_lsn()")
        except Exception:  # unknown: let the replicas' own checks decide, as before
            return None
        self._primary_seen = max(self._primary_seen, position)
        return position

    async def write(self, query: Query[T]) -> tuple[T, str]:
        """Run query in a transaction on the primary within the write budget; return its result and the
        commit LSN token."""
        primary = self.nodes["primary"]
        try:
            async with primary.connection(budget_s=self.write_timeout_s) as conn:
                async with conn.transaction():
                    result = await query(conn)
                # Read after commit: the insert position is at or past our commit record, so a
                # replica that has replayed up to it has our write.
                token: int = await conn.fetchval("SELECT pg_current_wal_insert_lsn()")
        except DeadlineExceeded as exc:
            await self.monitor.mark_down("primary", exc)
            raise DatabaseUnavailable(
                f"the primary did not answer within {self.write_timeout_s:g}s; the write's outcome is unknown"
            ) from exc
        except TimeoutError as exc:
            raise DatabaseUnavailable("the primary database did not answer in time; retry later") from exc
        except asyncpg.ReadOnlySQLTransactionError as exc:
            await self.monitor.mark_down("primary", StandbyAsPrimary(str(exc)))
            raise DatabaseUnavailable("the primary database is failing over; retry later") from exc
        except Exception as exc:
            if is_node_busy(exc):
                self.monitor.note_busy("primary", exc)
                raise DatabaseUnavailable("the primary database has no free connection; retry shortly") from exc
            if not is_node_failure(exc):
                raise
            await self.monitor.mark_down("primary", exc)
            raise DatabaseUnavailable("the primary database is unavailable; retry later") from exc
        self._primary_seen = max(self._primary_seen, token)
        return result, format_lsn(token)


async def _replayed(conn: Any, token: int) -> bool:
    """True when this replica has replayed WAL up to the token, checked on the connection we will use."""
    # Sent as text: asyncpg's binary pg_lsn codec is signed 64-bit, LSNs are unsigned.
    lsn = format_lsn(token)
    return bool(await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn))
