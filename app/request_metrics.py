"""Real-time request metrics: every request's (region, route template, status, latency) into analytics.api_requests.

The request path only appends to a bounded in-memory buffer (no I/O, no lock, no await), so recording can neither
slow nor fail a request; a background task flushes the buffer in batches with COPY. When the buffer is full (the
analytics database is slow or down) new samples are dropped and counted, and the counters are exposed in
/health/regional, so loss is visible, never silent. A failed flush keeps its rows for the next attempt as far as
the buffer has room, and backs off so an outage costs one connection attempt per interval, not one per request.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

COLUMNS: Final = ("ts", "region", "route", "status", "latency_ms")
UNMATCHED: Final = "unmatched"  # requests no route matched share one label, so arbitrary paths add no cardinality
MAX_BACKOFF_S: Final = 30.0

Sample = tuple[datetime, str, str, int, float]
Writer = Callable[[Sequence[Sample]], Awaitable[None]]


@dataclass
class Counters:
    recorded: int = 0
    dropped: int = 0
    flushed: int = 0
    flush_failures: int = 0


class RequestMetrics:
    """The bounded buffer and its flusher; one per process."""

    def __init__(self, capacity: int = 20_000, batch_size: int = 2_000, interval_s: float = 1.0) -> None:
        self.capacity = capacity
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.buffer: deque[Sample] = deque()
        self.counters = Counters()

    def record(self, region: str, route: str, status: int, latency_ms: float) -> None:
        """Called on the request path: O(1), never raises, never waits."""
        if len(self.buffer) >= self.capacity:
            self.counters.dropped += 1
            return
        self.buffer.append((datetime.now(UTC), region, route, status, max(0.0, latency_ms)))
        self.counters.recorded += 1

    def snapshot(self) -> dict[str, int]:
        """The counters /health/regional shows (field `requestMetrics`)."""
        c = self.counters
        return {
            "buffered": len(self.buffer),
            "recorded": c.recorded,
            "dropped": c.dropped,
            "flushed": c.flushed,
            "flushFailures": c.flush_failures,
        }

    async def flush_once(self, write: Writer) -> int:
        """Write up to one batch; on failure put it back (as far as there is room) and re-raise."""
        batch = [self.buffer.popleft() for _ in range(min(self.batch_size, len(self.buffer)))]
        if not batch:
            return 0
        try:
            await write(batch)
        except BaseException:
            self.counters.flush_failures += 1
            room = max(0, self.capacity - len(self.buffer))
            kept = batch[len(batch) - room :] if room < len(batch) else batch
            self.counters.dropped += len(batch) - len(kept)
            self.buffer.extendleft(reversed(kept))
            raise
        self.counters.flushed += len(batch)
        return len(batch)

    async def run(self, write: Writer) -> None:
        """Flush forever: drain the buffer batch by batch each interval; back off while writes fail."""
        delay = self.interval_s
        while True:
            await asyncio.sleep(delay)
            try:
                while await self.flush_once(write) == self.batch_size:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if delay == self.interval_s:  # one line per outage, not one per attempt
                    log.warning("request metrics: flush to analytics.api_requests failed (%s); retrying", exc)
                delay = min(MAX_BACKOFF_S, delay * 2)
            else:
                delay = self.interval_s


def copy_writer(acquire: Callable[[], contextlib.AbstractAsyncContextManager[Any]]) -> Writer:
    """A writer that COPYs a batch into analytics.api_requests on a pooled connection."""

    async def write(batch: Sequence[Sample]) -> None:
        async with acquire() as conn:
            await conn.copy_records_to_table("api_requests", schema_name="analytics", records=batch, columns=COLUMNS)

    return write


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestMetricsMiddleware:
    """Pure ASGI: times each HTTP request and records it after the response; streams (SSE) are not timed."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before starting a response
        streaming = False

        async def timed_send(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                streaming = Headers(raw=message["headers"]).get("content-type", "").startswith("text/event-stream")
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            if not streaming:
                self._record(scope, status, (time.perf_counter() - started) * 1000)

    def _record(self, scope: Scope, status: int, latency_ms: float) -> None:
        try:
            region = scope.get("state", {}).get("region", "")
            self.metrics.record(str(region), route_template(scope), status, latency_ms)
        except Exception:  # metrics must never fail a request
            log.exception("request metrics: recording failed")
