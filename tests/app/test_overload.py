"""A read flood on the real cluster (issue 20 item 9): reads are shed (short wait, next replica, then 503 with
Retry-After), never spilled onto the primary, so writes keep their connections and stay fast."""

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

import httpx

from app.routing import DatabaseUnavailable
from localdev.cluster import Cluster
from tests.app.helpers import (
    READ_TIMEOUT_MS,
    Live,
    all_healthy,
    cluster_settings,
    geo,
    running_app,
    wait_until,
)

POOL = 4  # per node, so a modest flood saturates every replica
READERS = 120
WRITERS = 2  # fewer than the pool: the primary's pool is full only if reads take connections from it
FLOOD_S = 2.0


async def test_read_flood_is_shed_and_writes_stay_fast(migrated: Cluster) -> None:
    # The production lag bound: a probe loop starved by the flood must not make replicas look stale here.
    settings = cluster_settings(migrated, database_pool_max=POOL, database_max_replica_lag_ms=5000)
    async with running_app(settings) as (app, client):
        live = Live(app=app, client=client, cluster=migrated)
        await wait_until(lambda: all_healthy(live.monitor), "every node healthy and fresh")
        stop = asyncio.Event()
        reads: list[tuple[httpx.Response, float]] = []
        writes: list[tuple[httpx.Response, float]] = []

        async def loop(results: list[tuple[httpx.Response, float]], request: "object") -> None:
            while not stop.is_set():
                started = time.monotonic()
                response = await request()  # type: ignore[operator]
                results.append((response, time.monotonic() - started))

        def read() -> "asyncio.Future[httpx.Response]":
            return client.get("/api/companies?limit=5", headers=geo("DE"))  # type: ignore[return-value]

        def write() -> "asyncio.Future[httpx.Response]":
            return client.post("/api/companies", json={"name": "during flood"})  # type: ignore[return-value]

        primary = app.state.router.nodes["primary"]
        primary_full = 0

        async def watch_primary() -> None:
            nonlocal primary_full
            while not stop.is_set():
                primary_full += primary.saturated
                await asyncio.sleep(0.01)

        tasks = [asyncio.create_task(loop(reads, read)) for _ in range(READERS)]
        tasks.append(asyncio.create_task(watch_primary()))
        tasks += [asyncio.create_task(loop(writes, write)) for _ in range(WRITERS)]
        await asyncio.sleep(FLOOD_S)
        stop.set()
        await asyncio.gather(*tasks)

    nodes = Counter(r.headers.get("X-DB-Node") for r, _ in reads if r.status_code == 200)
    statuses = Counter(r.status_code for r, _ in reads)
    write_ms = sorted(elapsed * 1000 for _, elapsed in writes)
    p99 = write_ms[int(0.99 * (len(write_ms) - 1))]
    longest_read = max(elapsed for _, elapsed in reads)
    print(f"reads {dict(statuses)} by node {dict(nodes)}; writes {len(writes)}, p99 {p99:.0f} ms; "
          f"longest read {longest_read:.2f}s")  # fmt: skip
    assert set(statuses) <= {200, 503}
    assert all(r.headers["Retry-After"] == "1" for r, _ in reads if r.status_code == 503)
    assert nodes["primary"] == 0  # reads never spill onto the primary
    assert {r.status_code for r, _ in writes} == {201}
    assert primary_full == 0  # writes always found a free connection (p99 above is printed, not asserted)
    assert longest_read < READ_TIMEOUT_MS / 1000


async def test_reads_are_refused_not_spilled_when_every_replica_is_saturated(migrated: Cluster) -> None:
    """The shedding policy without relying on the machine being slow enough for a flood to fill every pool:
    every replica connection is held, so each read finds all replicas saturated."""
    settings = cluster_settings(migrated, database_pool_min=POOL, database_pool_max=POOL)
    async with running_app(settings) as (app, client):
        router = app.state.router
        await wait_until(lambda: all_healthy(router.monitor), "every node healthy and fresh")
        async with contextlib.AsyncExitStack() as held:
            for region in ("eu", "us", "asia"):
                for _ in range(POOL):
                    await held.enter_async_context(router.nodes[region].connection())
            reads = await asyncio.gather(
                *(client.get("/api/companies?limit=1", headers=geo(country)) for country in ("DE", "US", "SG") * 3)
            )
            write = await client.post("/api/companies", json={"name": "while every replica is full"})
        assert {r.status_code for r in reads} == {503}  # not served by the primary
        assert all(r.headers["Retry-After"] == "1" and "X-DB-Node" not in r.headers for r in reads)
        assert {r.headers["X-Region"] for r in reads} == {"eu", "us", "asia"}  # through the edge middleware
        assert write.status_code == 201
        assert all(router.monitor.state[region].up for region in ("eu", "us", "asia"))  # saturated is not down


async def test_reads_on_the_primary_take_at_most_half_its_pool(migrated: Cluster) -> None:
    """With no replica to serve them, reads fall back to the primary, but only onto half its connections: the
    other half stays free for writes."""
    no_replicas = {f"database_read_replica_{region}": None for region in ("eu", "us", "asia")}
    settings = cluster_settings(migrated, database_pool_min=POOL, database_pool_max=POOL, **no_replicas)
    async with running_app(settings) as (app, client):
        router = app.state.router
        primary = router.nodes["primary"]
        await wait_until(lambda: router.monitor.state["primary"].up, "primary up")
        peak = 0

        async def slow_read(conn: Any) -> None:
            nonlocal peak
            peak = max(peak, primary._in_use)
            await conn.execute("SELECT pg_sleep(0.3)")

        async def write_meanwhile() -> int:
            await asyncio.sleep(0.05)  # while the reads hold their share
            response = await client.post("/api/companies", json={"name": "beside primary reads"})
            return response.status_code

        *outcomes, write_status = await asyncio.gather(
            *(router.read("eu", None, slow_read) for _ in range(3 * POOL)), write_meanwhile(), return_exceptions=True
        )
    served = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, DatabaseUnavailable)]
    assert len(served) + len(refused) == len(outcomes), outcomes
    assert {node for _, node in served} == {"primary"}
    assert served, outcomes
    assert refused, outcomes
    assert peak <= POOL // 2  # reads never held more than half the primary's connections
    assert write_status == 201
