"""`GET /api/analytics/stream`: Server-Sent Events fed by one poller per process.

While any client is connected, the poller watches the pipeline's watermark (`analytics.pipeline_state`) and the
alert firings table. A moved watermark means a new batch landed: it broadcasts the current month's `mrr` entry
(`event: metrics`); each new firing goes out as `event: alert`; every few polls the last hour's request rate and
p95 per region go out as `event: requests`. Clients are bounded (StreamHub); beyond the per-process limit the
endpoint answers 503. sse-starlette writes a comment (`: ping`) every `ping_s` seconds and notices disconnects.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from analytics.alerts import Firing, figures_entry, month_start
from app import json_money
from app.analytics_auth import require_analytics_token
from app.analytics_db import AnalyticsDatabase, AnalyticsUnavailable
from app.request_summary import request_summary
from app.stream_hub import StreamHub

log = logging.getLogger(__name__)
router = APIRouter()

SEND_TIMEOUT_S: Final = 10.0  # a client that cannot take one event in this long is dropped
REQUESTS_EVERY: Final = 5  # polls between `requests` snapshots


def to_json(value: Any) -> str:
    """The same JSON the analytics endpoints write: Decimals as their exact digits ("150.00", never 150.0)."""
    return json_money.dumps(value).decode()


class Poller:
    """One per process: turns database changes into hub broadcasts."""

    def __init__(
        self,
        hub: StreamHub,
        database: AnalyticsDatabase,
        interval_s: float,
        entry_for: Callable[[Any, Any, str | None], Awaitable[dict[str, Any]]] = figures_entry,
    ) -> None:
        self.hub = hub
        self.database = database
        self.interval_s = interval_s
        self.entry_for = entry_for
        self.watermark: Any = None
        self.last_firing: int | None = None
        self.polls = 0

    async def poll_once(self) -> None:
        """One round; each part fails on its own, so e.g. a figures error does not hold back alerts."""
        async with self.database.connection() as conn:
            errors: list[BaseException] = []
            for part in (self._metrics, self._firings, self._requests):
                try:
                    await part(conn)
                except AnalyticsUnavailable:
                    raise
                except Exception as exc:
                    errors.append(exc)
        self.polls += 1
        if errors:
            raise errors[0]

    async def _metrics(self, conn: Any) -> None:
        watermark = await conn.fetchrow(
            "SELECT max(updated_at) AS at, coalesce(sum(rows_total), 0) AS rows FROM analytics.pipeline_state"
        )
        key = (watermark["at"], watermark["rows"])
        if key != self.watermark:
            entry = await self.entry_for(conn, month_start(datetime.now(UTC)), None)
            self.hub.publish_snapshot("metrics", to_json(entry))
            self.watermark = key

    async def _requests(self, conn: Any) -> None:
        if self.polls % REQUESTS_EVERY == 0:
            self.hub.publish_snapshot("requests", to_json(await request_summary(conn, None)))

    async def _firings(self, conn: Any) -> None:
        if self.last_firing is None:  # start after what already fired: a new page shows history, not replays
            self.last_firing = await conn.fetchval("SELECT coalesce(max(id), 0) FROM analytics.alert_firings")
            return
        rows = await conn.fetch(
            "SELECT * FROM analytics.alert_firings WHERE id > $1 ORDER BY id LIMIT 100", self.last_firing
        )
        for row in rows:
            self.hub.publish_event("alert", to_json(Firing.from_row(row).to_json()))
            self.last_firing = row["id"]

    async def run(self) -> None:
        """Poll while anyone listens; idle, forget the baseline so a returning client starts from now."""
        failing = False
        while True:
            if not self.hub.clients:
                self.watermark = self.last_firing = None
                await asyncio.sleep(self.interval_s)
                continue
            try:
                await self.poll_once()
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep polling through any outage; one line per outage
                if not failing:
                    log.warning("stream poller: %s: %s", type(exc).__name__, exc)
                failing = True
            await asyncio.sleep(self.interval_s)


@contextlib.asynccontextmanager
async def running(poller: Poller) -> AsyncIterator[None]:
    task = asyncio.create_task(poller.run(), name="stream-poller")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@router.get("/api/analytics/stream", dependencies=[Depends(require_analytics_token)])
async def stream(request: Request) -> Response:
    hub: StreamHub = request.app.state.stream_hub
    client = hub.subscribe()
    if client is None:
        return JSONResponse(
            {"error": "too_many_streams", "detail": f"this process serves at most {hub.max_clients} streams"},
            status_code=503,
            headers={"Retry-After": "5", "Cache-Control": "private, no-store"},
        )

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event, data in hub.messages(client):
                yield ServerSentEvent(data=data, event=event)
        finally:
            hub.unsubscribe(client)

    return EventSourceResponse(
        events(),
        ping=request.app.state.stream_ping_s,
        send_timeout=SEND_TIMEOUT_S,
        headers={"Cache-Control": "private, no-store", "X-Accel-Buffering": "no"},
    )
