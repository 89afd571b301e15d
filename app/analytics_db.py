"""The analytics database the /api/analytics endpoints read: one asyncpg pool, opened on first use.

The analytics side is optional for the app: unset, down or slow, it answers `AnalyticsUnavailable` (503 JSON on
the analytics endpoints) and nothing else notices, because this pool shares nothing with the main-database nodes.
After a failed connect, calls fail fast for `RETRY_AFTER_S` instead of each waiting out the connect timeout.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Final

import asyncpg
from fastapi import Request
from fastapi.responses import JSONResponse

from app.pools import STATEMENT_TIMEOUT_S, is_node_failure
from app.settings import Settings

log = logging.getLogger(__name__)

RETRY_AFTER_S: Final = 1.0
# A pooled connection whose server process was terminated while idle can surface as this client-state error.
_LOST_CONNECTION: Final = (asyncpg.exceptions._base.InternalClientError,)


class AnalyticsUnavailable(Exception):
    """The analytics database is not configured or cannot serve; the analytics endpoints answer 503."""


class AnalyticsDatabase:
    """A lazily created pool on ANALYTICS_DATABASE_URL; `connection()` raises AnalyticsUnavailable, never hangs."""

    def __init__(self, settings: Settings) -> None:
        self.dsn = settings.analytics_database_url
        self._settings = settings
        self._pool: Any = None
        self._lock = asyncio.Lock()
        self._down_until = 0.0

    @property
    def timeout_s(self) -> float:
        return self._settings.database_acquire_timeout / 1000

    async def _ensure_pool(self) -> Any:
        if self._pool is not None:
            return self._pool
        if self.dsn is None:
            raise AnalyticsUnavailable("the analytics database is not configured (ANALYTICS_DATABASE_URL)")
        if time.monotonic() < self._down_until:
            raise AnalyticsUnavailable("the analytics database is unavailable; retry later")
        async with self._lock:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self.dsn,
                        min_size=1,
                        max_size=self._settings.database_pool_max,
                        max_inactive_connection_lifetime=self._settings.database_idle_timeout / 1000,
                        timeout=self.timeout_s,
                        command_timeout=STATEMENT_TIMEOUT_S,
                        server_settings={"application_name": "app-analytics"},
                    )
                except Exception as exc:
                    failure = self._failed(exc)
                    if failure is exc:
                        raise
                    raise failure from exc
            return self._pool

    def _failed(self, exc: BaseException) -> BaseException:
        """AnalyticsUnavailable for a connection failure (and a short fail-fast window); other errors unchanged."""
        if not (isinstance(exc, (TimeoutError, *_LOST_CONNECTION)) or is_node_failure(exc)):
            return exc
        self._down_until = time.monotonic() + RETRY_AFTER_S
        log.warning("analytics database unavailable: %s", exc)
        return AnalyticsUnavailable("the analytics database is unavailable; retry later")

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection; connection loss before or during the caller's queries -> AnalyticsUnavailable."""
        pool = await self._ensure_pool()
        try:
            async with asyncio.timeout(self.timeout_s):
                conn = await pool.acquire()
        except Exception as exc:
            failure = self._failed(exc)
            if failure is exc:
                raise
            raise failure from exc
        try:
            yield conn
        except Exception as exc:
            failure = self._failed(exc)
            if failure is exc:
                raise
            await pool.expire_connections()  # the server went away: do not hand out its dead sockets
            raise failure from exc
        finally:
            await pool.release(conn)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=5)
        except TimeoutError:
            pool.terminate()


async def analytics_conn(request: Request) -> AsyncIterator[Any]:
    """FastAPI dependency: a connection to the analytics database for the duration of the request."""
    database: AnalyticsDatabase = request.app.state.analytics
    async with database.connection() as conn:
        yield conn


async def analytics_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with a JSON error, only ever raised by the analytics endpoints."""
    return JSONResponse(
        {"error": "analytics_unavailable", "detail": str(exc)},
        status_code=503,
        headers={"Retry-After": str(int(RETRY_AFTER_S))},
    )
