"""Sick, not dead, nodes on the real cluster (issue 20 items 4-6): a node at max_connections, DATABASE_URL
resolving to a standby, and frozen nodes (SIGSTOP). No 500, and every request within its bound."""

import asyncio
import time
from collections import Counter

import httpx

from localdev.cluster import Cluster
from tests.app.helpers import (
    READ_TIMEOUT_MS,
    WRITE_TIMEOUT_MS,
    Live,
    Proxy,
    cluster_settings,
    connections_exhausted,
    frozen,
    geo,
    running_app,
    wait_until,
)

SLACK_S = 0.5  # scheduling on a loaded 2-core machine, on top of the documented bound


async def _timed(call: "asyncio.Future[httpx.Response] | object") -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response: httpx.Response = await call  # type: ignore[misc]
    return response, time.monotonic() - started


async def _pool_of_one(live: Live, node: str) -> None:
    """Reopen the app's pool on that node with its minimum of one connection: more concurrency needs new ones."""
    pool = live.app.state.router.nodes[node]
    await pool.drop()
    await pool.open()


async def test_full_replica_moves_reads_on_and_stays_up(restored: Live) -> None:
    live = restored
    await _pool_of_one(live, "eu")
    async with connections_exhausted(live.cluster.dsn("eu")) as held:
        assert held > 50
        responses = await asyncio.gather(
            *(live.client.get("/api/companies?limit=1", headers=geo("DE")) for _ in range(30))
        )
        assert Counter(r.status_code for r in responses) == {200: 30}
        assert "us" in {r.headers["X-DB-Node"] for r in responses}
        assert live.monitor.state["eu"].up  # saturation is not an outage
    # Once slots are free again, eu serves its region again within a moment.
    deadline = time.monotonic() + 5
    while (await live.client.get("/api/companies?limit=1", headers=geo("DE"))).headers["X-DB-Node"] != "eu":
        assert time.monotonic() < deadline, "eu never served again after its connections were freed"
        await asyncio.sleep(0.1)


async def test_full_primary_answers_writes_503_then_recovers(restored: Live) -> None:
    live = restored
    await _pool_of_one(live, "primary")
    async with connections_exhausted(live.cluster.dsn("primary")):
        responses = await asyncio.gather(
            *(live.client.post("/api/companies", json={"name": f"full {i}"}, headers=geo("DE")) for i in range(10))
        )
        refused = [r for r in responses if r.status_code == 503]
        assert {r.status_code for r in responses} <= {201, 503}
        assert refused  # the writes that needed a new connection
        assert {r.json()["error"] for r in refused} == {"database_unavailable"}
        assert all(r.headers["Retry-After"] for r in refused)
        assert live.monitor.state["primary"].up
        reads = await asyncio.gather(*(live.client.get("/api/companies", headers=geo("US")) for _ in range(5)))
        assert {r.status_code for r in reads} == {200}
    created = await live.client.post("/api/companies", json={"name": "after full"}, headers=geo("DE"))
    assert created.status_code == 201


async def test_primary_url_reaching_a_standby_is_503_and_recovers_on_the_new_primary(migrated: Cluster) -> None:
    async with Proxy(migrated.ports["primary"]) as dns:  # noqa: SIM117 - the app needs the port it opened
        async with running_app(cluster_settings(migrated, database_url=dns.dsn())) as (app, client):
            assert (await client.post("/api/companies", json={"name": "before"})).status_code == 201
            # Failover with a stale DNS answer: clients are cut off, and the name now leads to a standby.
            dns.retarget(migrated.ports["eu"])
            dns.sever()
            statuses = [(await client.post("/api/companies", json={"name": "during"})).status_code for _ in range(5)]
            assert set(statuses) == {503}
            await wait_until(
                lambda: "StandbyAsPrimary" in (app.state.monitor.state["primary"].error or ""), "standby seen"
            )
            report = (await client.get("/health/regional")).json()
            assert report["services"]["primaryDatabase"] == "unhealthy"
            # DNS catches up: without dropping the pool, connections to the standby would linger.
            dns.retarget(migrated.ports["primary"])
            await wait_until(lambda: app.state.monitor.state["primary"].up, "new primary confirmed", timeout_s=5)
            assert dns.open_to(migrated.ports["eu"]) == 0
            assert (await client.post("/api/companies", json={"name": "after"})).status_code == 201


async def test_frozen_home_replica_costs_reads_a_bounded_detour(restored: Live) -> None:
    live = restored
    # Warm eu's pool first, so reads find open connections and block on the frozen server mid-query.
    warm = await asyncio.gather(*(live.client.get("/api/companies?limit=5", headers=geo("DE")) for _ in range(20)))
    assert {response.headers["X-DB-Node"] for response in warm} == {"eu"}
    with frozen(live.cluster, "eu"):
        timed = await asyncio.gather(
            *(_timed(live.client.get("/api/companies?limit=5", headers=geo("DE"))) for _ in range(20))
        )
        later = await _timed(live.client.get("/api/companies?limit=5", headers=geo("DE")))
    longest = max(elapsed for _, elapsed in [*timed, later])
    print(f"home replica frozen: longest read {longest:.2f}s")
    assert {response.status_code for response, _ in timed} == {200}
    # Mostly us; on a starved machine the other replicas can look stale for a moment and the primary serves.
    assert "eu" not in {response.headers["X-DB-Node"] for response, _ in timed}
    assert longest < READ_TIMEOUT_MS / 1000 + SLACK_S
    assert later[0].headers["X-DB-Node"] != "eu"


async def test_frozen_primary_answers_writes_503_within_the_write_bound(restored: Live) -> None:
    live = restored
    # Warm the primary's pool first, so writes find open connections and block on the frozen server mid-statement
    # (with only new connections to make, every write would fail its 1 s acquire and the bound would go untested).
    warm = await asyncio.gather(*(live.client.post("/api/companies", json={"name": f"warm {i}"}) for i in range(5)))
    assert {response.status_code for response in warm} == {201}
    with frozen(live.cluster, "primary"):
        timed = await asyncio.gather(
            *(_timed(live.client.post("/api/companies", json={"name": f"frozen {i}"})) for i in range(5))
        )
        await wait_until(lambda: not live.monitor.state["primary"].up, "frozen primary marked down", timeout_s=5)
        read = await live.client.get("/api/companies", headers=geo("JP"))
    longest = max(elapsed for _, elapsed in timed)
    print(f"primary frozen: longest write {longest:.2f}s")
    assert {response.status_code for response, _ in timed} == {503}
    # At least one write was cut off mid-statement by terminating its connection (not refused at acquire).
    assert any("outcome is unknown" in response.json()["detail"] for response, _ in timed)
    assert longest < WRITE_TIMEOUT_MS / 1000 + SLACK_S
    assert read.status_code == 200
    assert read.headers["X-DB-Node"] == "asia"


async def test_frozen_replica_is_marked_down_by_its_probe_with_a_reason(restored: Live) -> None:
    """No request touches asia: its own probe must notice the silence and say so (a bare TimeoutError logs
    as an empty reason)."""
    live = restored
    with frozen(live.cluster, "asia"):
        took = await wait_until(lambda: not live.monitor.state["asia"].up, "frozen asia marked down by its probe", 10)
        print(f"idle frozen replica marked down by its probe after {took:.2f}s")
        error = live.monitor.state["asia"].error
    assert error == "ProbeTimeout: the probe had no answer within 1s (2 in a row)"
    assert live.monitor.status("asia") == "down"
