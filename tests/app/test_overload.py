"""A read flood on the real cluster (issue 20 item 9): reads are shed (short wait, next replica, then 503 with
Retry-After), never spilled onto the primary, so writes keep their connections and stay fast."""

import asyncio
import time
from collections import Counter

import httpx

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
