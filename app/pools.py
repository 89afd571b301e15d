"""One asyncpg pool per database node, opened lazily so a node that is down never fails the start."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final, Literal

import asyncpg

from app.settings import Settings

NodeName = Literal["primary", "eu", "us", "asia"]

# Longest a single statement may run; keeps a half-dead node from holding a request forever.
STATEMENT_TIMEOUT_S: Final = 10.0

# Errors that mean "this node is gone or going", as opposed to a problem with the query itself.
# (TimeoutError is an OSError too; callers handle it first, since a busy pool is not a dead node.)
_NODE_FAILURES: Final = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)


def is_node_failure(exc: BaseException) -> bool:
    """True when the node (not the query) failed, so the node should be marked down."""
    return isinstance(exc, _NODE_FAILURES)


class Node:
    """A database node and its pool; the pool is created on first successful use."""

    def __init__(self, name: NodeName, dsn: str, settings: Settings) -> None:
        self.name: NodeName = name
        self.dsn = dsn
        self._settings = settings
        self._pool: Any = None
        self._lock = asyncio.Lock()

    @property
    def acquire_timeout_s(self) -> float:
        return self._settings.database_acquire_timeout / 1000

    @property
    def has_pool(self) -> bool:
        return self._pool is not None

    async def _ensure_pool(self) -> Any:
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=self._settings.database_pool_min,
                    max_size=self._settings.database_pool_max,
                    max_inactive_connection_lifetime=self._settings.database_idle_timeout / 1000,
                    timeout=self.acquire_timeout_s,
                    command_timeout=STATEMENT_TIMEOUT_S,
                )
            return self._pool

    async def open(self) -> None:
        """Create the pool now (the health monitor calls this once the node answers)."""
        async with asyncio.timeout(self.acquire_timeout_s):
            await self._ensure_pool()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection, obtained within DATABASE_ACQUIRE_TIMEOUT or TimeoutError/OSError."""
        async with asyncio.timeout(self.acquire_timeout_s):
            pool = await self._ensure_pool()
            conn = await pool.acquire()
        try:
            yield conn
        finally:
            await pool.release(conn)

    async def reset(self) -> None:
        """Drop pooled connections (they may point at a dead server process) so new ones are made."""
        if self._pool is not None:
            await self._pool.expire_connections()

    async def close(self) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), timeout=5)
        except TimeoutError:
            pool.terminate()


def build_nodes(settings: Settings) -> dict[NodeName, Node]:
    """The primary plus every configured replica."""
    nodes: dict[NodeName, Node] = {"primary": Node("primary", settings.database_url, settings)}
    for region, url in settings.replica_urls.items():
        nodes[region] = Node(region, url, settings)
    return nodes
