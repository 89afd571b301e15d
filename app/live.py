"""The dashboard side of the app in one place: sessions, the live stream, alerts and request metrics.

`install` adds the routers, the request-metrics middleware and the shared state; the background tasks (the stream
poller and the metrics flusher) run in a router lifespan, which FastAPI nests inside the app's own.
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from app import alerts_api, dashboard, sign_in, static_assets, stream
from app.analytics_db import AnalyticsDatabase
from app.request_metrics import RequestMetrics, RequestMetricsMiddleware, copy_writer
from app.session import Sessions
from app.settings import Settings
from app.stream_hub import StreamHub

log = logging.getLogger(__name__)
FINAL_FLUSH_S = 2.0


def _session_secret(settings: Settings) -> str:
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    log.warning("SESSION_SECRET is not set: dashboard sessions are signed with a per-process random key")
    return secrets.token_urlsafe(48)


def install(app: FastAPI, settings: Settings) -> None:
    """Call after app.state.analytics exists and before the edge middleware is added (it must be outer)."""
    sessions = Sessions(_session_secret(settings), lambda: settings.analytics_tokens)
    app.state.sessions = sessions
    app.state.session_principal = sessions.principal  # the hook app/analytics_auth.py accepts sessions through
    write_url = settings.analytics_write_database_url or settings.analytics_database_url
    writer = AnalyticsDatabase(settings.model_copy(update={"analytics_database_url": write_url}))
    app.state.analytics_writer = writer
    hub = StreamHub(settings.stream_max_clients)
    app.state.stream_hub = hub
    app.state.stream_ping_s = settings.stream_heartbeat_ms / 1000
    metrics = RequestMetrics(capacity=settings.request_metrics_buffer)
    app.state.request_metrics = metrics
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        poller = stream.Poller(hub, app.state.analytics, settings.stream_poll_interval_ms / 1000)
        app.state.stream_poller = poller
        write = copy_writer(writer.connection)
        flusher = asyncio.create_task(metrics.run(write), name="request-metrics-flusher")
        try:
            async with stream.running(poller):
                yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            with contextlib.suppress(Exception):  # best effort: what is left goes in one last batch
                async with asyncio.timeout(FINAL_FLUSH_S):
                    await metrics.flush_once(write)
            await writer.close()

    background = APIRouter(lifespan=lifespan)
    for router in (
        background,
        sign_in.router,
        dashboard.router,
        static_assets.router,
        stream.router,
        alerts_api.router,
    ):
        app.include_router(router)
