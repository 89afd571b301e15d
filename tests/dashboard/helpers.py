"""Dashboard test helpers: the app served by a real uvicorn on a free loopback port (SSE and the browser need a
real socket), sign-in, and direct access to the analytics tables."""

import asyncio
import contextlib
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from app.factory import create_app
from app.settings import Settings
from localdev.cluster import Cluster
from tests.app.analytics_helpers import TOKEN, analytics_settings

SESSION_SECRET: Final = "dashboard-tests-session-secret-0123456789"
T = TypeVar("T")


def dashboard_settings(cluster: Cluster, analytics_dsn: str | None, **overrides: Any) -> Settings:
    """Tight timings so live behaviour shows within a second."""
    values: dict[str, Any] = {
        "session_secret": SESSION_SECRET,
        "stream_heartbeat_ms": 300,
        "stream_poll_interval_ms": 100,
        "stream_max_clients": 4,
    }
    return analytics_settings(cluster, analytics_dsn, **{**values, **overrides})


@dataclass
class Served:
    app: FastAPI
    base_url: str
    loop: asyncio.AbstractEventLoop

    def call(self, action: Callable[[], T]) -> T:
        """Run `action` on the server's event loop (its state, e.g. the stream hub, is not thread-safe); wait."""

        async def run() -> T:
            return action()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[Served]:
    """The real app under uvicorn in a thread (its own event loop), stopped and joined on exit."""
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Served(app, f"http://127.0.0.1:{port}", server.servers[0].get_loop())
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def signed_in_cookies(base_url: str, token: str = TOKEN) -> httpx.Cookies:
    with httpx.Client(base_url=base_url) as client:
        response = client.post("/dashboard/sign-in", data={"token": token})
        assert response.status_code == 303, response.text
        return client.cookies


async def insert_requests(
    conn: Any, region: str, latencies_ms: Sequence[float], *, age_s: float, status: int = 200
) -> None:
    """Request samples as the app's flusher writes them, `age_s` seconds old (route '/test/…' marks them ours)."""
    await conn.executemany(
        "INSERT INTO analytics.api_requests (ts, region, route, status, latency_ms)"
        " VALUES (now() - make_interval(secs => $1), $2, '/test/requests', $3, $4)",
        [(age_s, region, status, latency) for latency in latencies_ms],
    )


def p95(latencies_ms: Sequence[float]) -> float:
    """The 95th percentile with linear interpolation (PostgreSQL's percentile_cont), as the dashboard rounds it."""
    return round(statistics.quantiles(latencies_ms, n=20, method="inclusive")[18], 1)
