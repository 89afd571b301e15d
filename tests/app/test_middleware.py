"""Edge headers: cache policy by route and content type, security headers, CORS and Vary.

Uses an app whose database nodes are all unreachable, which also proves the app starts without them."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.middleware import IMMUTABLE, NO_STORE, SHORT, EdgeMiddleware
from app.settings import load_settings
from localdev.cluster import free_port
from tests.app.helpers import running_app

ORIGIN = "https://console.example.com"


@pytest.fixture
async def no_db_client() -> AsyncIterator[httpx.AsyncClient]:
    dead = f"postgresql://nobody@127.0.0.1:{free_port()}/app?sslmode=disable"
    settings = load_settings(
        database_url=dead,
        database_read_replica_eu=dead,
        database_read_replica_us=None,
        database_read_replica_asia=None,
        database_acquire_timeout=500,
        cors_allow_origins=ORIGIN,
        origin_verify_secret=None,
        database_secret_arn=None,
    )
    async with running_app(settings) as (_, client):
        yield client


async def test_app_starts_and_degrades_with_every_node_down(no_db_client: httpx.AsyncClient) -> None:
    assert (await no_db_client.get("/health")).status_code == 200
    regional = await no_db_client.get("/health/regional")
    assert regional.status_code == 503
    assert regional.json()["status"] == "error"
    write = await no_db_client.post("/api/companies", json={"name": "x"})
    assert write.status_code == 503
    assert write.json()["error"] == "database_unavailable"


async def test_api_and_docs_cache_policy(no_db_client: httpx.AsyncClient) -> None:
    api = await no_db_client.get("/api/companies/1")
    assert api.headers["Cache-Control"] == NO_STORE
    docs = await no_db_client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["Cache-Control"] == SHORT
    assert (await no_db_client.get("/openapi.json")).headers["Cache-Control"] == SHORT
    assert (await no_db_client.get("/health")).headers["Cache-Control"] == NO_STORE


async def test_security_headers_and_vary_on_every_response(no_db_client: httpx.AsyncClient) -> None:
    for path in ("/health", "/api/companies/1", "/nope"):
        response = await no_db_client.get(path, headers={"CloudFront-Viewer-Country": "JP"})
        assert response.headers["X-Region"] == "asia"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        vary = {v.strip().lower() for v in response.headers["Vary"].split(",")}
        assert {"cloudfront-viewer-country", "cf-ipcountry", "x-appengine-country"} <= vary


async def test_cors_only_for_configured_origins(no_db_client: httpx.AsyncClient) -> None:
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    allowed = await no_db_client.options("/api/companies", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed.headers["X-Region"]  # the edge middleware wraps CORS, so preflights get it too
    other = await no_db_client.options("/api/companies", headers={**preflight, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    simple = await no_db_client.get("/health", headers={"Origin": ORIGIN})
    assert "X-Region" in simple.headers["Access-Control-Expose-Headers"]


async def test_static_content_is_immutable_and_explicit_policy_kept() -> None:
    async def css(_: object) -> Response:
        return Response("body{}", media_type="text/css")

    async def own(_: object) -> Response:
        return PlainTextResponse("x", headers={"Cache-Control": "max-age=7"})

    inner = Starlette(routes=[Route("/static/site.css", css), Route("/theme.css", css), Route("/own", own)])
    settings = load_settings(database_url="postgresql://h/db", database_primary_region="asia")
    app = EdgeMiddleware(inner, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/static/site.css")).headers["Cache-Control"] == IMMUTABLE
        assert (await client.get("/theme.css")).headers["Cache-Control"] == IMMUTABLE
        own_response = await client.get("/own")
        assert own_response.headers["Cache-Control"] == "max-age=7"
        assert own_response.headers["X-Region"] == "asia"
        assert (await client.get("/missing.css")).headers["Cache-Control"] == NO_STORE
