"""One asyncpg pool per database node, opened lazily so a node that is down never fails the start."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final, TypeVar

import asyncpg

from app.credentials import CredentialsError, RotatingCredentials, node_credentials
from app.settings import Settings
from contracts.regions import NodeName

log = logging.getLogger(__name__)
T = TypeVar("T")

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
    # Still refused after re-reading the secret, or the secret cannot be read: the node cannot serve.
    asyncpg.InvalidAuthorizationSpecificationError,
    CredentialsError,
)


async def _skip_reset_query(conn: Any) -> None:
    """Pool release hook in place of asyncpg's default reset query (`SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL;`), which costs one more round trip on every release (about a fifth of a routed read).

    asyncpg still rolls back a transaction left open and drops listeners before calling this. The app leaves no other
    session state on pooled connections: single statements and managed transactions only, so settings go in
    `SET LOCAL` inside a transaction, and advisory locks, LISTEN and WITH HOLD cursors use their own connection."""


# The node is alive but cannot take another connection now (SQLSTATE 53300): saturation, not an outage.
_NODE_BUSY: Final = (asyncpg.TooManyConnectionsError,)


def is_node_failure(exc: BaseException) -> bool:
    """True when the node (not the query) failed, so the node should be marked down."""
    return isinstance(exc, _NODE_FAILURES)


def is_node_busy(exc: BaseException) -> bool:
    """True when the node refused a new connection for lack of slots (max_connections reached)."""
    return isinstance(exc, _NODE_BUSY)


class DeadlineExceeded(TimeoutError):
    """A statement outlived its deadline; its connection was terminated rather than politely cancelled
    (a cancel request waits on the same, possibly frozen, server)."""


class Node:
    """A database node and its pool; the pool is created on first successful use.

    With `credentials`, every new connection takes its user and password from that rotating source
    (explicit arguments win over the DSN's), and a refused login re-reads the secret and tries once more.
    """

    def __init__(
        self, name: NodeName, dsn: str, settings: Settings, credentials: RotatingCredentials | None = None
    ) -> None:
        self.name: NodeName = name
        self.dsn = dsn
        self._settings = settings
        self._credentials = credentials
        self._pool: Any = None
        self._lock = asyncio.Lock()
        self._in_use = 0  # connections handed out by connection() and not yet released

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def acquire_timeout_s(self) -> float:
        return self._settings.database_acquire_timeout / 1000

    @property
    def has_pool(self) -> bool:
        return self._pool is not None

    async def _connect_kwargs(self) -> dict[str, Any]:
        """Arguments for every new connection: timeouts, plus the current user and the password source."""
        kwargs: dict[str, Any] = {"timeout": self.acquire_timeout_s, "command_timeout": STATEMENT_TIMEOUT_S}
        if self._credentials is not None:
            current = await self._credentials.get()
            kwargs.update(user=current.username, password=self._credentials.password)
        return kwargs

    async def _ensure_pool(self) -> Any:
        if self._pool is not None:  # every acquire passes here: no lock once the pool exists
            return self._pool
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=self._settings.database_pool_min,
                    max_size=self._settings.database_pool_max,
                    max_inactive_connection_lifetime=self._settings.database_idle_timeout / 1000,
                    reset=_skip_reset_query,
                    **await self._connect_kwargs(),
                )
            return self._pool

    async def _retry_refused(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt`; if the server refused our login, re-read the credentials and run it once more."""
        if self._credentials is None:
            return await attempt()
        generation = self._credentials.generation
        try:
            return await attempt()
        except asyncpg.InvalidAuthorizationSpecificationError as exc:  # InvalidPasswordError is one
            log.warning("node %s refused the login (%s); re-reading the credentials", self.name, exc)
            self._credentials.invalidate(generation)
            if self._pool is not None:  # the user may have changed too; the password is read per connection
                self._pool.set_connect_args(self.dsn, **await self._connect_kwargs())
            return await attempt()

    async def connect(self) -> Any:
        """A single connection outside the pool (the health probe's), with the same credentials and retry."""
        return await self._retry_refused(self._connect_once)

    async def _connect_once(self) -> Any:
        return await asyncpg.connect(self.dsn, **await self._connect_kwargs())

    async def _acquire(self) -> Any:
        pool = await self._ensure_pool()
        return pool, await pool.acquire()

    async def open(self) -> None:
        """Create the pool now (the health monitor calls this once the node answers)."""
        async with asyncio.timeout(self.acquire_timeout_s):
            await self._ensure_pool()

    @property
    def saturated(self) -> bool:
        """Every connection of the pool is in use and it may open no more: an acquire would queue.

        Counted by connection() (every acquire goes through it) because asyncpg's get_idle_size() walks every
        holder, on the hot path of each read."""
        return self._pool is not None and self._in_use >= self._settings.database_pool_max

    @contextlib.asynccontextmanager
    async def connection(
        self, *, acquire_timeout_s: float | None = None, budget_s: float | None = None
    ) -> AsyncIterator[Any]:
        """A pooled connection, obtained within the acquire timeout (default DATABASE_ACQUIRE_TIMEOUT) or
        TimeoutError/OSError. With `budget_s`, acquire and block together get that long: then the connection
        is terminated, which fails its pending query at once, and the block raises DeadlineExceeded."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        acquire_s = self.acquire_timeout_s if acquire_timeout_s is None else acquire_timeout_s
        async with asyncio.timeout(acquire_s if budget_s is None else min(acquire_s, budget_s)):
            pool, conn = await self._retry_refused(self._acquire)
        self._in_use += 1
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            conn.terminate()

        timer = None if budget_s is None else loop.call_at(started + budget_s, expire)
        try:
            yield conn
        except Exception as exc:
            if expired:
                raise DeadlineExceeded(f"node {self.name} did not answer within {budget_s:g}s") from exc
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._in_use -= 1
            await pool.release(conn)

    async def reset(self) -> None:
        """Drop pooled connections (they may point at a dead server process) so new ones are made."""
        if self._pool is not None:
            await self._pool.expire_connections()

    async def drop(self) -> None:
        """Close the pool at once (connections terminated), so the next connection resolves the host again:
        after an RDS failover a stale DNS answer can leave every pooled connection on the old, now standby, node."""
        async with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    async def close(self) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), timeout=5)
        except TimeoutError:
            pool.terminate()


def build_nodes(settings: Settings) -> dict[NodeName, Node]:
    """The primary plus every configured replica, each logging in as app/credentials.py says (one shared secret
    source with DATABASE_SECRET_ARN, an IAM token source per node with DATABASE_IAM_AUTH, else the URL)."""
    credentials = node_credentials(settings)
    nodes: dict[NodeName, Node] = {
        "primary": Node("primary", settings.database_url, settings, credentials(settings.database_url))
    }
    for region, url in settings.replica_urls.items():
        nodes[region] = Node(region, url, settings, credentials(url))
    return nodes
