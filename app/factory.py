"""Builds the ASGI app from validated settings (tests call this; app.main calls it from the environment)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Final

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware

from analytics import forecast
from app import analytics_api, api, billing_api, errors, live, reports_api
from app.analytics_db import AnalyticsDatabase, AnalyticsUnavailable, analytics_unavailable
from app.collector import tuned_collector
from app.fast_read import CompanyReadLane
from app.health import HealthMonitor
from app.middleware import EdgeMiddleware
from app.pools import build_nodes
from app.routing import Router
from app.settings import Settings
from contracts import headers

NO_TELEMETRY: Final[TelemetryConfig] = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings) -> FastAPI:
    """The app; pools and the health monitor live for the lifespan and never fail the start."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with tuned_collector():
            async with _serving(app):
                yield

    @contextlib.asynccontextmanager
    async def _serving(app: FastAPI) -> AsyncIterator[None]:
        nodes = build_nodes(settings)
        monitor = HealthMonitor(
            nodes,
            interval_s=settings.health_probe_interval_ms / 1000,
            max_lag_ms=settings.database_max_replica_lag_ms,
        )
        await monitor.start()
        app.state.monitor = monitor
        app.state.router = Router(nodes, monitor)
        # The forecast's model library loads in the background, not in the first /invoices request.
        warm_up = None
        if settings.analytics_database_url is not None:
            warm_up = asyncio.create_task(asyncio.to_thread(forecast.load_model))
        try:
            yield
        finally:
            if warm_up is not None:
                warm_up.cancel()  # the thread finishes on its own; the process is stopping anyway
            await monitor.stop()
            await asyncio.gather(
                *(node.close() for node in nodes.values()), app.state.analytics.close(), app.state.reports_db.close()
            )

    # FastAPI's built-in OpenTelemetry is off: the app configures no provider, yet the per-request check for one
    # (tracer, meter and logger provider, each looked up in os.environ) cost about 5% of a routed read.
    app = FastAPI(title="global-api", lifespan=lifespan, telemetry=NO_TELEMETRY)
    app.state.settings = settings
    app.state.started = time.monotonic()
    app.state.analytics = AnalyticsDatabase(settings)
    app.state.reports_db = reports_api.ReportsDatabase(settings)
    app.include_router(api.router)
    app.include_router(billing_api.router)
    app.include_router(analytics_api.router)
    app.include_router(reports_api.router)
    errors.install(app)
    live.install(app, settings)  # dashboard, stream, alerts, request metrics
    app.add_exception_handler(AnalyticsUnavailable, analytics_unavailable)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", headers.CONSISTENCY_TOKEN],
        expose_headers=list(headers.EXPOSED),
        max_age=600,
    )
    # Inside the edge middleware, so a 413 carries X-Region and the security headers like every response.
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.request_max_body_bytes)
    lane = CompanyReadLane(app, app.state.request_metrics)
    app.state.fast_lane = lane
    app.add_middleware(EdgeMiddleware, settings=settings, fast_lane=lane)  # added last = outermost
    return app
