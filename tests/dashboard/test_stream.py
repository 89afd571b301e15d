"""The live stream: bounded fan-out (latest snapshot wins, slow clients dropped), the per-process client limit,
heartbeat comments (at most 15 s apart by settings), disconnects noticed, every new batch as `event: metrics` with
the API's current-month `mrr` entry, and alert firings delivered as `event: alert`."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from app.settings import ConfigError, Settings, load_settings
from app.stream_hub import StreamHub
from tests.app.analytics_helpers import bearer
from tests.dashboard.billing import current_month_invoice, run_pipeline
from tests.dashboard.helpers import Served
from tests.sse import EventReader

STREAM = "/api/analytics/stream"


async def _take(hub: StreamHub, client: object, count: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    async for message in hub.messages(client):  # type: ignore[arg-type]
        out.append(message)
        if len(out) == count:
            break
    return out


async def test_latest_snapshot_wins_and_events_keep_their_order() -> None:
    hub = StreamHub(max_clients=2, queue_size=4)
    client = hub.subscribe()
    assert client is not None
    for i in range(5):
        hub.publish_snapshot("metrics", f"m{i}")
    hub.publish_event("alert", "a1")
    hub.publish_event("alert", "a2")
    assert await _take(hub, client, 3) == [("alert", "a1"), ("alert", "a2"), ("metrics", "m4")]
    late = hub.subscribe()
    assert late is not None
    assert await _take(hub, late, 1) == [("metrics", "m4")]  # a new client starts from the latest state


async def test_a_client_that_lets_its_queue_fill_is_dropped_and_the_limit_frees_up() -> None:
    hub = StreamHub(max_clients=2, queue_size=2)
    slow, fast = hub.subscribe(), hub.subscribe()
    assert slow is not None
    assert fast is not None
    assert hub.subscribe() is None  # at the limit
    for i in range(3):
        hub.publish_event("alert", f"a{i}")
        assert await _take(hub, fast, 1) == [("alert", f"a{i}")]
    assert slow.dropped
    assert slow not in hub.clients
    assert fast in hub.clients
    assert [m async for m in hub.messages(slow)] == []  # its stream ends
    assert hub.dropped_total == 1
    assert hub.subscribe() is not None


@asynccontextmanager
async def _open(client: httpx.AsyncClient) -> AsyncIterator[httpx.Response]:
    async with client.stream("GET", STREAM, headers=bearer()) as response:
        yield response


async def _until(lines: AsyncIterator[str], predicate: object, timeout_s: float = 10) -> list[str]:
    seen: list[str] = []
    async with asyncio.timeout(timeout_s):
        async for line in lines:
            seen.append(line)
            if predicate(line):  # type: ignore[operator]
                return seen
    raise AssertionError(f"stream ended before the expected line; saw {seen}")


async def test_stream_needs_a_token_and_sends_heartbeat_comments(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=10) as client:
        assert (await client.get(STREAM)).status_code == 401
        async with _open(client) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "private, no-store"
            lines = response.aiter_lines()
            # Comments keep coming on an idle stream: heartbeat 300 ms in these tests (15 s at most by settings).
            for _ in range(2):
                await _until(lines, lambda line: line.startswith(":"), timeout_s=3)


async def test_alert_firings_are_broadcast(served: Served, analytics: asyncpg.Connection) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=10) as client, _open(client) as response:
        lines = response.aiter_lines()
        await _until(lines, lambda line: line.startswith(":"))  # connected and served
        poller = served.app.state.stream_poller
        deadline = time.monotonic() + 10
        while poller.last_firing is None:  # the poller has taken its baseline (it polls only while we listen)
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await analytics.execute(
            "INSERT INTO analytics.alert_firings (metric, op, threshold, region, month, value)"
            " VALUES ('mrr', 'below', 1000, 'eu', '2026-12-01', 950.5)"
        )
        seen = await _until(lines, lambda line: line == "event: alert")
        data = await _until(lines, lambda line: line.startswith("data:"))
    firing = json.loads(data[-1].removeprefix("data:").strip())
    assert (firing["metric"], firing["op"], firing["region"], firing["month"]) == ("mrr", "below", "eu", "2026-12")
    assert Decimal(str(firing["value"])) == Decimal("950.5")
    assert "event: alert" in seen


async def test_client_limit_answers_503_and_disconnects_are_noticed(served: Served) -> None:
    hub: StreamHub = served.app.state.stream_hub
    async with httpx.AsyncClient(base_url=served.base_url, timeout=10) as client:
        streams = [client.stream("GET", STREAM, headers=bearer()) for _ in range(hub.max_clients)]
        opened = [await s.__aenter__() for s in streams]
        assert all(r.status_code == 200 for r in opened)
        refused = await client.get(STREAM, headers=bearer())
        assert refused.status_code == 503
        assert refused.json()["error"] == "too_many_streams"
        for s in streams:
            await s.__aexit__(None, None, None)
        deadline = time.monotonic() + 10
        while hub.clients:
            assert time.monotonic() < deadline, f"{len(hub.clients)} disconnected clients still registered"
            await asyncio.sleep(0.05)
        async with _open(client) as again:
            assert again.status_code == 200


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(event, data) per Server-Sent Event; comments and blank lines in between are skipped."""
    reader = EventReader()
    async for line in lines:
        if (event := reader.feed(line)) is not None:
            yield event


async def _api_current_month(client: httpx.AsyncClient) -> dict[str, Any]:
    month = f"{datetime.now(UTC):%Y-%m}"
    response = await client.get("/api/analytics/mrr", params={"from": month, "to": month}, headers=bearer())
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = json.loads(response.text, parse_float=str)["months"][0]
    return entry


async def _metrics_until(events: AsyncIterator[tuple[str, str]], want: dict[str, Any]) -> list[Any]:
    """Every `metrics` payload seen until one equals `want` (10 s at most). Numbers with a fraction are compared
    as their JSON digits: the stream must write money as exactly as the API does ("150.00", not 150.0)."""
    seen: list[Any] = []
    try:
        async with asyncio.timeout(10):
            async for event, data in events:
                if event == "metrics":
                    seen.append(json.loads(data, parse_float=str))
                    if seen[-1] == want:
                        return seen
    except TimeoutError:
        pass
    raise AssertionError(f"no metrics event equal to {want}; seen: {seen}")


async def test_every_new_batch_sends_the_apis_current_month_entry(
    served: Served, seeded: dict[str, int], main_db: str, analytics_dsn: str
) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client, _open(client) as response:
        events = _events(response.aiter_lines())
        before = await _api_current_month(client)
        await _metrics_until(events, before)  # what the page shows on connecting
        with httpx.Client(base_url=served.base_url, timeout=30) as sync:
            await asyncio.to_thread(current_month_invoice, sync, seeded["us"], Decimal("30.00"))
        await run_pipeline(main_db, analytics_dsn)
        after = await _api_current_month(client)
        assert Decimal(after["mrr"]) == Decimal(before["mrr"]) + Decimal("30.00")
        await _metrics_until(events, after)  # the new batch, as the API now answers it, exactly


@pytest.mark.parametrize("heartbeat_ms", [15_001, 60_000])
def test_the_heartbeat_can_never_be_set_above_15_seconds(heartbeat_ms: int) -> None:
    with pytest.raises(ConfigError, match="STREAM_HEARTBEAT_MS"):
        load_settings(stream_heartbeat_ms=heartbeat_ms)
    assert Settings.model_fields["stream_heartbeat_ms"].default == 15_000
