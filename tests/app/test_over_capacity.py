"""Beyond --limit-concurrency the image's server answers 503 at once with the app's edge headers (JSON, X-Region,
Retry-After, no-store, security headers), closes the connection, and never runs the route; below it, it serves.
Against the real server command with the limit lowered to LIMIT, holding idle connections to fill it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.app.image_server import image_server

LIMIT = 4  # uvicorn's rule: refused once connections (this one included) or in-flight requests reach it


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with image_server(limit_concurrency=str(LIMIT)) as server:
        yield server.port


@contextlib.asynccontextmanager
async def idle_connections(port: int, count: int) -> AsyncIterator[None]:
    """Open connections that send nothing (the server accepts them in order, before the request that follows)."""
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]
    try:
        yield
    finally:
        for _, writer in opened:
            writer.close()


async def _get(port: int, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        return await client.get(path, headers=headers)


async def test_a_request_over_the_limit_gets_the_apps_503_with_edge_headers(port: int) -> None:
    async with idle_connections(port, LIMIT - 1):
        refused = await _get(port, "/health", **{"CloudFront-Viewer-Country": "JP"})
        # A database route never runs: it would answer database_unavailable (this server has no database).
        route = await _get(port, "/api/companies/1")
    assert refused.status_code == 503
    assert refused.json() == {
        "error": "over_capacity",
        "detail": "the server is at its concurrency limit; retry shortly",
    }
    assert refused.headers["X-Region"] == "asia"
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["Cache-Control"] == "private, no-store"
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert refused.headers["Connection"] == "close"
    assert (route.status_code, route.json()["error"]) == (503, "over_capacity")
    assert route.headers["X-Region"] == "eu"  # no geo header: the primary region


async def test_requests_within_the_limit_are_served_and_slots_come_back(port: int) -> None:
    async with idle_connections(port, LIMIT - 2):
        assert (await _get(port, "/health")).status_code == 200
    async with idle_connections(port, LIMIT - 1):
        assert (await _get(port, "/health")).status_code == 503
    for _ in range(100):  # the server sees the closed idle connections within moments
        status = (await _get(port, "/health")).status_code
        if status == 200:
            break
        await asyncio.sleep(0.05)
    assert status == 200
