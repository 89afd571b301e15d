"""Property: no combination of malformed or hostile header values makes the app answer 5xx."""

import asyncio
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.regions import NodeName
from tests.app.helpers import PRIMARY_REGION, Live, region_decided_by

OUTAGE_MEMORY_S = 5.0  # a node marked down this recently may still be down (probe interval, reset, re-probe)

HEADER_NAMES = st.sampled_from(
    [
        "CloudFront-Viewer-Country",
        "CF-IPCountry",
        "X-AppEngine-Country",
        "X-Origin-Verify",
        "X-Consistency-Token",
        "Origin",
        "Content-Type",
    ]
)
# Any bytes a proxy could pass through (not CR/LF, which cannot appear in a header value).
HEADER_VALUES = st.one_of(
    st.binary(max_size=300).filter(lambda v: b"\r" not in v and b"\n" not in v),
    st.sampled_from([b"", b"XX", b"T1", b"ZZ", b"de", b"\xff\xfe", b"0/0", b"FFFFFFFF/FFFFFFFF", b"1/" * 100]),
)
REQUESTS = st.sampled_from(
    [
        ("GET", "/api/companies"),
        ("GET", "/api/companies/1"),
        ("POST", "/api/companies"),
        ("GET", "/health/regional"),
        ("OPTIONS", "/api/companies"),
    ]
)


def _explained_outage(response: httpx.Response, path: str, downs: list[float], sent: float) -> bool:
    """A 503 the headers did not cause: the contract's own answer to a node the monitor marked down.

    On a starved CI machine a probe can outlast its 1 s timeout and the primary is honestly reported down for a
    probe interval; the headers' property is then untouched, but a bare `< 500` made Hypothesis call it flaky.
    """
    if response.status_code != 503 or not downs or downs[-1] < sent - OUTAGE_MEMORY_S:
        return False
    body = response.json()
    if path == "/health/regional":
        return bool(body["status"] == "error" and body["services"]["primaryDatabase"] == "unhealthy")
    return bool(body.get("error") == "database_unavailable")


async def test_hostile_headers_never_5xx(healthy: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    statuses: list[int] = []
    downs: list[float] = []  # when the monitor marked any node down during this test
    mark_down = healthy.monitor.mark_down

    async def recording_mark_down(name: NodeName, exc: BaseException) -> None:
        downs.append(time.monotonic())
        await mark_down(name, exc)

    monkeypatch.setattr(healthy.monitor, "mark_down", recording_mark_down)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(REQUESTS, st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8))
    def check(request: tuple[str, str], headers: list[tuple[str, bytes]]) -> None:
        method, path = request
        raw = [(name.encode(), value) for name, value in headers]
        body = None
        if method == "POST":  # a well-formed write, so hostile headers reach the handler and not only the 422
            body = b'{"name": "hostile"}'
            raw.insert(0, (b"Content-Type", b"application/json"))
        call = healthy.client.request(method, path, headers=raw, content=body)
        sent = time.monotonic()
        # Hypothesis drives synchronously from a worker thread; requests run on the app's own loop.
        response = asyncio.run_coroutine_threadsafe(call, loop).result(timeout=30)
        statuses.append(response.status_code)
        assert response.status_code < 500 or _explained_outage(response, path, downs, sent), (
            method,
            path,
            headers,
            response.text,
        )
        assert response.headers["X-Region"] == region_decided_by(headers, PRIMARY_REGION, None)

    await asyncio.to_thread(check)
    # The escape hatch above must stay one: the property itself held on at least 100 hostile requests.
    assert sum(status < 500 for status in statuses) >= 100, statuses
