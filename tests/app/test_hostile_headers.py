"""Property: no combination of malformed or hostile header values makes the app answer 5xx."""

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.helpers import PRIMARY_REGION, Live, region_decided_by

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


async def test_hostile_headers_never_5xx(healthy: Live) -> None:
    loop = asyncio.get_running_loop()
    statuses: list[int] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(REQUESTS, st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8))
    def check(request: tuple[str, str], headers: list[tuple[str, bytes]]) -> None:
        method, path = request
        raw = [(name.encode(), value) for name, value in headers]
        body = b'{"name": "hostile"}' if method == "POST" else None
        call = healthy.client.request(method, path, headers=raw, content=body)
        # Hypothesis drives synchronously from a worker thread; requests run on the app's own loop.
        response = asyncio.run_coroutine_threadsafe(call, loop).result(timeout=30)
        statuses.append(response.status_code)
        assert response.status_code < 500, (method, path, headers, response.text)
        assert response.headers["X-Region"] == region_decided_by(headers, PRIMARY_REGION, None)

    await asyncio.to_thread(check)
    assert len(statuses) >= 100
