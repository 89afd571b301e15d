"""Shared test helpers for the app tests (settings against the cluster, a running app, polling)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from app.factory import create_app
from app.health import HealthMonitor
from app.settings import Settings, load_settings
from localdev.cluster import Cluster

# Tight timings so failover tests run in seconds: probe every 100 ms, lag bound 1 s, acquire 1 s.
PROBE_MS = 100
MAX_LAG_MS = 1000
ACQUIRE_MS = 1000
PRIMARY_REGION = "us"  # not the default (eu), so fallbacks prove the setting is used


def cluster_settings(cluster: Cluster, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": cluster.dsn("primary"),
        "database_primary_region": PRIMARY_REGION,
        "database_read_replica_eu": cluster.dsn("eu"),
        "database_read_replica_us": cluster.dsn("us"),
        "database_read_replica_asia": cluster.dsn("asia"),
        "database_pool_min": 1,
        "database_pool_max": 20,
        "database_acquire_timeout": ACQUIRE_MS,
        "database_max_replica_lag_ms": MAX_LAG_MS,
        "health_probe_interval_ms": PROBE_MS,
        "origin_verify_secret": None,
        "database_secret_arn": None,
        "cors_allow_origins": "",
    }
    return load_settings(**{**values, **overrides})


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real ASGI app with its lifespan (pools, monitor) and an in-process HTTP client."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app.test", timeout=30) as client,
    ):
        yield app, client


@dataclass
class Live:
    app: FastAPI
    client: httpx.AsyncClient
    cluster: Cluster

    @property
    def monitor(self) -> HealthMonitor:
        monitor: HealthMonitor = self.app.state.monitor
        return monitor


def geo(country: str) -> dict[str, str]:
    return {"CloudFront-Viewer-Country": country}


def all_healthy(monitor: HealthMonitor) -> bool:
    return all(monitor.status(name) == "healthy" for name in monitor.nodes)


async def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 15) -> float:
    """Poll until predicate holds; return the seconds it took, or fail naming what never happened."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s}s waiting for: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started
