"""Where a query runs: reads to the nearest healthy, fresh replica, writes to the primary.

Inter-region distance is typical round-trip time between the AWS regions behind each logical region
(eu-west-1, us-east-1, ap-southeast-1), in milliseconds. It only orders fallbacks, so rough is fine:

|        | eu  | us  | asia |
|--------|-----|-----|------|
| eu     | 0   | 70  | 170  |
| us     | 70  | 0   | 220  |
| asia   | 170 | 220 | 0    |
"""

from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import asyncpg

from app.countries import REGIONS, Region
from app.health import HealthMonitor
from app.lsn import format_lsn
from app.pools import Node, NodeName, is_node_failure

T = TypeVar("T")
Query = Callable[[Any], Awaitable[T]]

DISTANCE_MS: Final[dict[Region, dict[Region, int]]] = {
    "eu": {"eu": 0, "us": 70, "asia": 170},
    "us": {"eu": 70, "us": 0, "asia": 220},
    "asia": {"eu": 170, "us": 220, "asia": 0},
}


def replica_order(home: Region) -> list[Region]:
    """Regions by distance from home, home first."""
    return sorted(REGIONS, key=lambda region: DISTANCE_MS[home][region])


class DatabaseUnavailable(Exception):
    """No node could serve the request; the API answers 503."""


class Router:
    """Runs read and write callbacks on the right node, with one retry for reads on node failure."""

    def __init__(self, nodes: dict[NodeName, Node], monitor: HealthMonitor) -> None:
        self.nodes = nodes
        self.monitor = monitor

    def read_candidates(self, home: Region) -> list[NodeName]:
        """Usable replicas by distance from home, then the primary as last resort."""
        replicas: list[NodeName] = [
            region for region in replica_order(home) if region in self.nodes and self.monitor.usable(region)
        ]
        return [*replicas, "primary"]

    async def read(self, home: Region, token: int | None, query: Query[T]) -> tuple[T, NodeName]:
        """Run query on the best candidate; skip replicas behind token; retry once on a dead node."""
        tried: set[NodeName] = set()
        failed_mid_query = 0
        while True:
            remaining = [name for name in self.read_candidates(home) if name not in tried]
            if not remaining:
                raise DatabaseUnavailable("no database node could serve this read")
            name = remaining[0]
            tried.add(name)
            acquired = False
            try:
                async with self.nodes[name].connection() as conn:
                    acquired = True
                    if token is not None and name != "primary" and not await _replayed(conn, token):
                        continue
                    return await query(conn), name
            except TimeoutError:
                # Pool exhausted or node slow: not proof it is down (the monitor's probe decides that).
                failed_mid_query += acquired
            except asyncpg.TransactionRollbackError:
                # e.g. "canceling statement due to conflict with recovery": the node is fine, try the next.
                if name == "primary":
                    raise
                failed_mid_query += 1
            except Exception as exc:
                if not is_node_failure(exc):
                    raise
                await self.monitor.mark_down(name, exc)
                # A node that refused the connection ran nothing, so moving on costs nothing; a query
                # that died mid-flight is retried once on the next candidate, then we give up.
                failed_mid_query += acquired
            if failed_mid_query > 1:
                raise DatabaseUnavailable("database nodes failed during the read")

    async def write(self, query: Query[T]) -> tuple[T, str]:
        """Run query in a transaction on the primary; return its result and the commit LSN token."""
        primary = self.nodes["primary"]
        try:
            async with primary.connection() as conn:
                async with conn.transaction():
                    result = await query(conn)
                # Read after commit: the insert position is at or past our commit record, so a
                # replica that has replayed up to it has our write.
                token: int = await conn.fetchval("SELECT pg_current_wal_insert_lsn()")
        except TimeoutError as exc:
            raise DatabaseUnavailable("the primary database did not answer in time; retry later") from exc
        except Exception as exc:
            if not is_node_failure(exc):
                raise
            await self.monitor.mark_down("primary", exc)
            raise DatabaseUnavailable("the primary database is unavailable; retry later") from exc
        return result, format_lsn(token)


async def _replayed(conn: Any, token: int) -> bool:
    """True when this replica has replayed WAL up to the token, checked on the connection we will use."""
    # Sent as text: asyncpg's binary pg_lsn codec is signed 64-bit, LSNs are unsigned.
    lsn = format_lsn(token)
    return bool(await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn))
