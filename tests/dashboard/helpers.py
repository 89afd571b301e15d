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
from html.parser import HTMLParser
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


@dataclass
class Element:
    """A parsed HTML element: enough DOM for the tests to read the page's cells."""

    tag: str
    attrs: dict[str, str]
    children: list["Element"]
    parts: list[str]

    def text(self) -> str:
        """The text content, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        yield from self.parts
        for child in self.children:
            yield from child._texts()

    def find_all(self, tag: str, **attrs: str) -> list["Element"]:
        """Descendants with this tag whose attributes (data_x -> data-x) have these values ("*": present)."""
        wanted = {key.replace("_", "-"): value for key, value in attrs.items()}
        found = []
        for child in self.children:
            if child.tag == tag and all(
                child.attrs.get(k) is not None and (v == "*" or child.attrs[k] == v) for k, v in wanted.items()
            ):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str, **attrs: str) -> "Element":
        [element] = self.find_all(tag, **attrs)
        return element


VOID: Final = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Element("root", {}, [], [])
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, [], [])
        self._open[-1].children.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].parts.append(data)


def parse_html(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
