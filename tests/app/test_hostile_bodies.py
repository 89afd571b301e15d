"""Hostile request bodies against the real app: always a 4xx with the edge headers, never a 500 or a huge echo.

Covers issue 20 items 1-3: bodies valid to the parser but not to JSON output (NaN, Infinity, lone surrogates),
bodies the parser cannot read (too deep, invalid UTF-8, a 4,301-digit integer), and bodies over the size limit,
declared or streamed. Any 500 from a route another module adds also goes through the edge middleware.
"""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter

from app.errors import EXCERPT_CHARS
from app.factory import create_app
from app.middleware import SECURITY_HEADERS
from app.settings import load_settings
from localdev.cluster import free_port
from tests.app.helpers import Live, geo

LIMIT = 65536  # REQUEST_MAX_BODY_BYTES default, the WAF's limit too


def assert_edge_headers(response: httpx.Response, region: str = "eu") -> None:
    assert response.headers["X-Region"] == region
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == "private, no-store"


async def _post_raw(live: Live, body: bytes) -> httpx.Response:
    headers = {**geo("DE"), "Content-Type": "application/json"}
    return await live.client.post("/api/companies", content=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"name": NaN}', "name"),
        (b'{"name": "ok", "country": Infinity}', "country"),
        (b'{"name": -Infinity}', "name"),
        (b'{"name": "\\ud800x"}', "name"),  # a lone surrogate: decodes to a str no encoder can write
        (b'{"name": "ok", "\\udfff": 1}', None),  # ... as a key: no field to name, the body is the problem
        (b'{"name": [[[[[[[[[[NaN]]]]]]]]]]}', "name"),
        (b'{"name": {"a": NaN, "b": "\\ud800", "c": Infinity}}', "name"),
        ('{"name": "ok", "caf\u00e9": 1}'.encode(), "caf\\xe9"),  # an unknown field: named, ASCII-escaped
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "surrogate",
        "surrogate-key",
        "nested-nan",
        "object-echo",
        "non-ascii-key",
    ],
)
async def test_unencodable_input_is_422_naming_the_field(healthy: Live, body: bytes, field: str | None) -> None:
    response = await _post_raw(healthy, body)
    assert response.status_code == 422, response.text
    assert_edge_headers(response)
    response.content.decode("ascii")  # every echo is escaped to ASCII
    errors = response.json()["detail"]
    assert (["body", field] if field else ["body"]) in [error["loc"] for error in errors]
    assert all(len(error.get("input", "")) <= EXCERPT_CHARS for error in errors)


async def test_long_input_is_echoed_only_as_a_short_excerpt(healthy: Live) -> None:
    response = await _post_raw(healthy, b'{"name": ["' + b"x" * 60_000 + b'"]}')
    assert response.status_code == 422
    assert_edge_headers(response)
    assert len(response.content) < 1000
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "name"]
    assert error["input"].startswith("['xxx")
    assert len(error["input"]) <= EXCERPT_CHARS


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
        (b'{"name": "caf\xe9"}', "not valid UTF-8"),
        (b'{"name": ' + b"7" * 4301 + b"}", "4300 digits"),
        (b'{"name": "unterminated', "JSON decode error"),
    ],
    ids=["deep", "latin-1", "4301-digits", "truncated"],
)
async def test_unparsable_json_is_422_naming_the_problem(healthy: Live, body: bytes, reason: str) -> None:
    response = await _post_raw(healthy, body)
    assert response.status_code == 422, response.text
    assert_edge_headers(response)
    [error] = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"
    assert reason in error["msg"]


async def test_body_over_the_limit_is_413_before_it_is_read(healthy: Live) -> None:
    at_limit = b'{"name": "' + b"x" * (LIMIT - 12) + b'"}'
    assert len(at_limit) == LIMIT
    accepted = await _post_raw(healthy, at_limit)
    assert accepted.status_code == 422  # read and validated (name too long), not refused
    refused = await _post_raw(healthy, at_limit + b" ")
    assert refused.status_code == 413
    assert refused.text == "Content Too Large"  # Starlette's plain text, as the README says
    assert_edge_headers(refused)


async def test_streamed_body_is_cut_off_at_the_limit(healthy: Live) -> None:
    chunk = b" " * 16384
    sent = 0

    async def hundred_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"name": "'
        for _ in range(100 * 2**20 // len(chunk)):
            sent += len(chunk)
            yield chunk

    # No Content-Length: the limit has to be enforced while the body streams in.
    response = await healthy.client.post(
        "/api/companies", content=hundred_megabytes(), headers={**geo("DE"), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_edge_headers(response)
    assert sent <= LIMIT + len(chunk)  # the app stopped pulling the body at the limit


async def test_body_limit_is_configurable(healthy: Live) -> None:
    dead = f"postgresql://nobody@127.0.0.1:{free_port()}/app?sslmode=disable"
    app = create_app(load_settings(database_url=dead, request_max_body_bytes=100, database_acquire_timeout=200))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        small = await client.post("/api/companies", json={"name": "x" * 50})
        assert small.status_code == 503  # read, validated, then the (absent) primary
        large = await client.post("/api/companies", json={"name": "x" * 100})
        assert large.status_code == 413


async def test_a_crash_in_any_route_is_a_json_500_with_edge_headers() -> None:
    dead = f"postgresql://nobody@127.0.0.1:{free_port()}/app?sslmode=disable"
    app = create_app(load_settings(database_url=dead, database_primary_region="asia", database_acquire_timeout=200))
    extra = APIRouter()  # as another module adds its routes

    @extra.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    app.include_router(extra)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/api/boom")
        assert response.status_code == 500
        assert response.json() == {"error": "internal_error", "detail": "unexpected server error"}
        assert_edge_headers(response, region="asia")
        missing = await client.get("/api/nothing-here")
        assert missing.status_code == 404
        assert_edge_headers(missing, region="asia")
