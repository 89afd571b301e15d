"""Request metrics: bounded buffer (drops counted, never blocking), batches COPYed into analytics.api_requests with
route templates, the daily aggregate filled, counters in /health/regional, and an analytics outage costs no request."""

import asyncio
import time
from collections.abc import Sequence

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, HTTPException

from app.request_metrics import UNMATCHED, RequestMetrics, RequestMetricsMiddleware, Sample
from app.request_summary import request_summary
from localdev.cluster import Cluster
from tests.app.analytics_helpers import unreachable_dsn
from tests.dashboard.helpers import (
    Served,
    dashboard_settings,
    insert_requests,
    p95,
    parse_html,
    serve,
    signed_in_cookies,
)


def test_a_full_buffer_drops_and_counts_instead_of_growing() -> None:
    metrics = RequestMetrics(capacity=3)
    for _ in range(5):
        metrics.record("eu", "/x", 200, 1.0)
    assert len(metrics.buffer) == 3
    assert metrics.snapshot()["dropped"] == 2
    assert metrics.snapshot()["recorded"] == 3


async def test_a_failed_flush_keeps_its_rows_for_the_next_attempt() -> None:
    metrics = RequestMetrics(capacity=10, batch_size=4)
    for i in range(6):
        metrics.record("eu", f"/r{i}", 200, float(i))
    written: list[Sample] = []

    async def broken(batch: Sequence[Sample]) -> None:
        raise OSError("analytics down")

    async def working(batch: Sequence[Sample]) -> None:
        written.extend(batch)

    with pytest.raises(OSError, match="analytics down"):
        await metrics.flush_once(broken)
    assert [s[2] for s in metrics.buffer] == [f"/r{i}" for i in range(6)]  # same rows, same order
    assert await metrics.flush_once(working) == 4
    assert await metrics.flush_once(working) == 2
    assert [s[2] for s in written] == [f"/r{i}" for i in range(6)]
    assert metrics.snapshot() == {"buffered": 0, "recorded": 6, "dropped": 0, "flushed": 6, "flushFailures": 1}


async def test_the_middleware_records_route_templates_status_and_never_fails_the_request() -> None:
    inner = FastAPI()

    @inner.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(status_code=404)
        return {"id": item_id}

    @inner.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    metrics = RequestMetrics(capacity=100)

    async def with_region(scope, receive, send):  # type: ignore[no-untyped-def]
        scope.setdefault("state", {})["region"] = "asia"
        await RequestMetricsMiddleware(inner, metrics)(scope, receive, send)

    transport = httpx.ASGITransport(app=with_region, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/items/7")).status_code == 200
        assert (await client.get("/items/0")).status_code == 404
        assert (await client.get("/no/such/path")).status_code == 404
        assert (await client.get("/boom")).status_code == 500
    rows = [(region, route, status) for _, region, route, status, _ in metrics.buffer]
    assert rows == [
        ("asia", "/items/{item_id}", 200),
        ("asia", "/items/{item_id}", 404),
        ("asia", UNMATCHED, 404),
        ("asia", "/boom", 500),
    ]
    assert all(latency >= 0 for *_, latency in metrics.buffer)


async def _wait_rows(conn: asyncpg.Connection, route: str, count: int, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while await conn.fetchval("SELECT count(*) FROM analytics.api_requests WHERE route = $1", route) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} rows for {route} not flushed within {timeout_s}s")
        await asyncio.sleep(0.1)


async def _quiesce(served: Served, conn: asyncpg.Connection) -> None:
    """Let earlier tests' requests finish flushing, then start from an empty table."""
    metrics: RequestMetrics = served.app.state.request_metrics
    deadline = time.monotonic() + 15
    while metrics.buffer or metrics.counters.flushed < metrics.counters.recorded:
        assert time.monotonic() < deadline, "earlier request samples were never flushed"
        await asyncio.sleep(0.05)
    await conn.execute("TRUNCATE analytics.api_requests")


async def test_requests_land_in_api_requests_and_the_daily_aggregate(
    served: Served, analytics: asyncpg.Connection
) -> None:
    await _quiesce(served, analytics)
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        for country in ("JP", "JP", "DE"):
            response = await client.get("/health", headers={"CloudFront-Viewer-Country": country})
            assert response.status_code == 200
        await _wait_rows(analytics, "/health", 3)
        rows = await analytics.fetch(
            "SELECT region, status, latency_ms FROM analytics.api_requests WHERE route = '/health' ORDER BY region"
        )
        assert [(r["region"], r["status"]) for r in rows] == [("asia", 200), ("asia", 200), ("eu", 200)]
        daily = await analytics.fetch("SELECT region, requests, p95_ms FROM analytics.request_daily ORDER BY region")
        assert {r["region"]: r["requests"] for r in daily} == {"asia": 2, "eu": 1}
        assert all(r["p95_ms"] is not None for r in daily)
        health = (await client.get("/health/regional")).json()
        assert health["requestMetrics"]["flushed"] >= 3
        assert set(health["requestMetrics"]) == {"buffered", "recorded", "dropped", "flushed", "flushFailures"}
        assert health["services"]["primaryDatabase"] == "healthy"  # the health contract unchanged


def test_analytics_down_costs_no_request_and_drops_are_counted(migrated: Cluster) -> None:
    settings = dashboard_settings(migrated, unreachable_dsn(), request_metrics_buffer=100)
    with serve(settings) as app, httpx.Client(base_url=app.base_url) as client:
        statuses = [client.get("/health").status_code for _ in range(150)]
        assert statuses == [200] * 150
        counters = client.get("/health/regional").json()["requestMetrics"]
        assert counters["dropped"] >= 50
        assert counters["buffered"] <= 100
        assert counters["flushed"] == 0


EU_RECENT = [float(ms) for ms in range(1, 21)]  # the last minute
EU_EARLIER = 250.0  # a 503, half an hour ago
ASIA = [10.0 * k for k in range(1, 11)]  # ten minutes ago


async def _known_requests(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM analytics.api_requests WHERE region IN ('eu', 'asia')")
    await insert_requests(conn, "eu", EU_RECENT, age_s=20)
    await insert_requests(conn, "eu", [EU_EARLIER], age_s=1800, status=503)
    await insert_requests(conn, "eu", [9999.0], age_s=2 * 3600)  # older than the hour: not counted
    await insert_requests(conn, "asia", ASIA, age_s=600)


COLUMNS = ("ratePerSecond", "recentRatePerSecond", "p95Ms", "serverErrors")
EXPECTED = {
    "eu": {"requests": 21, "ratePerSecond": round(21 / 3600, 3), "recentRatePerSecond": round(20 / 60, 3),
           "p95Ms": p95([*EU_RECENT, EU_EARLIER]), "serverErrors": 1},
    "asia": {"requests": 10, "ratePerSecond": round(10 / 3600, 3), "recentRatePerSecond": 0.0,
             "p95Ms": p95(ASIA), "serverErrors": 0},
}  # fmt: skip


async def test_the_last_hour_per_region_rates_p95_and_errors(analytics: asyncpg.Connection) -> None:
    await _known_requests(analytics)
    summary = {row.pop("region"): row for row in await request_summary(analytics, None)}
    assert {region: summary[region] for region in ("eu", "asia")} == EXPECTED
    assert [row["region"] for row in await request_summary(analytics, "asia")] == ["asia"]


@pytest.mark.parametrize("region", [None, "asia"])
async def test_the_dashboard_shows_the_last_hour_per_region(
    served: Served, analytics: asyncpg.Connection, region: str | None
) -> None:
    await _known_requests(analytics)
    params = {"region": region} if region else {}
    async with httpx.AsyncClient(base_url=served.base_url, cookies=signed_in_cookies(served.base_url)) as client:
        response = await client.get("/dashboard", params=params, timeout=60)
    assert response.status_code == 200, response.text
    rows = parse_html(response.text).find("table", id="table-requests").find_all("tr", data_region="*")
    assert [row.attrs["data-region"] for row in rows] == ([region] if region else ["eu", "us", "asia"])
    for row in rows:
        if (want := EXPECTED.get(row.attrs["data-region"])) is not None:
            shown = {cell.attrs["data-key"]: cell.text() for cell in row.find_all("td", data_key="*")}
            assert shown == {key: str(want[key]) for key in COLUMNS}, row.attrs
