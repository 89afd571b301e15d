"""Shared test helpers for the app tests (settings against the cluster, a running app, polling)."""

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.countries import Region
from app.db_roles import APP_ROLE
from app.factory import create_app
from app.geo import country_region
from app.health import HealthMonitor
from app.settings import Settings, load_settings
from contracts.headers import GEO, ORIGIN_VERIFY
from localdev.cluster import Cluster

# Tight timings so failover tests run in seconds: probe every 100 ms, lag bound 1 s, acquire 1 s.
PROBE_MS = 100
MAX_LAG_MS = 1000
ACQUIRE_MS = 1000
READ_TIMEOUT_MS = 3000  # the production default
WRITE_TIMEOUT_MS = 3000
PRIMARY_REGION: Region = "us"  # not the default (eu), so fallbacks prove the setting is used


def cluster_settings(cluster: Cluster, **overrides: Any) -> Settings:
    """The app as it runs in AWS: logged in as its least-privilege role (migration 0006_roles) on every node."""
    values: dict[str, Any] = {
        "database_url": cluster.dsn("primary", user=APP_ROLE),
        "database_primary_region": PRIMARY_REGION,
        "database_read_replica_eu": cluster.dsn("eu", user=APP_ROLE),
        "database_read_replica_us": cluster.dsn("us", user=APP_ROLE),
        "database_read_replica_asia": cluster.dsn("asia", user=APP_ROLE),
        "database_pool_min": 1,
        "database_pool_max": 20,
        "database_acquire_timeout": ACQUIRE_MS,
        "database_read_timeout_ms": READ_TIMEOUT_MS,
        "database_write_timeout_ms": WRITE_TIMEOUT_MS,
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


def _server_pids(cluster: Cluster, node: str) -> list[int]:
    """The node's postmaster and every process it forked (backends, walreceiver, ...)."""
    postmaster = int((cluster.datadir(node) / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(stat.parent.name))
    return [postmaster, *children]


@contextlib.contextmanager
def frozen(cluster: Cluster, node: str) -> Iterator[None]:
    """A sick, not dead, node: every process of it stopped with SIGSTOP, always continued afterwards."""
    pids = _server_pids(cluster, node)
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@contextlib.asynccontextmanager
async def connections_exhausted(dsn: str) -> AsyncIterator[int]:
    """Hold every connection slot of a node (until it answers 53300), so new connections are refused."""
    held: list[asyncpg.Connection] = []
    try:
        while True:
            try:
                held.append(await asyncpg.connect(dsn))
            except asyncpg.TooManyConnectionsError:
                break
        yield len(held)
    finally:
        await asyncio.gather(*(conn.close() for conn in held), return_exceptions=True)


class Proxy:
    """A TCP forwarder standing in for a DNS name: `retarget` is the name now resolving elsewhere (new
    connections go there), `sever` drops every connection made so far (what a failover does to clients)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter, int]] = set()

    async def __aenter__(self) -> "Proxy":
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sever()
        if self._server is not None:
            self._server.close()

    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/app?sslmode=disable"

    def retarget(self, port: int) -> None:
        self.target_port = port

    def sever(self) -> None:
        for client, upstream, _ in list(self._links):
            client.transport.abort()
            upstream.transport.abort()
        self._links.clear()

    def open_to(self, port: int) -> int:
        return sum(1 for client, _, target in self._links if target == port and not client.is_closing())

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = self.target_port
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer, target)
        self._links.add(link)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._links.discard(link)


def region_decided_by(pairs: Sequence[tuple[str, bytes]], primary: Region, secret: str | None) -> Region:
    """The rule, restated: with the origin secret configured, only a request carrying it exactly once is trusted;
    then the first geo header present (most trusted first) decides, if it is there once and names a country;
    anything else is the primary region."""

    def values(name: str) -> list[bytes]:
        return [value for header, value in pairs if header.lower() == name.lower()]

    if secret is not None and values(ORIGIN_VERIFY) != [secret.encode()]:
        return primary
    for name in GEO:
        if found := values(name):
            return (country_region(found[0].decode("latin-1")) if len(found) == 1 else None) or primary
    return primary
