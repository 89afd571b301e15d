"""The analytics side's access layer: settings, bearer tokens (401 + WWW-Authenticate, constant-time helper)
and the lazily opened analytics pool (503 JSON when it is unset, down or drops mid-request; main API unaffected).

A probe route is mounted on the real app so these properties are checked apart from any endpoint's figures.
"""

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
import pytest
from fastapi import APIRouter, Depends

from analytics import forecast
from app.analytics_auth import require_analytics_token, token_is_valid
from app.analytics_db import analytics_conn
from app.settings import ConfigError, load_settings
from localdev.cluster import PRIMARY, Cluster
from tests.app.analytics_helpers import (
    ANALYTICS_DATABASE,
    OTHER_TOKEN,
    TOKEN,
    analytics_settings,
    bearer,
    create_analytics_database,
    unreachable_dsn,
)
from tests.app.helpers import Live, running_app

PROBE = "/api/analytics/_probe"
SLOW_PROBE = "/api/analytics/_slow"
probe = APIRouter()


@probe.get(PROBE)
async def _probe(
    principal: Annotated[str, Depends(require_analytics_token)], conn: Annotated[Any, Depends(analytics_conn)]
) -> dict[str, Any]:
    return {"principal": principal, "one": await conn.fetchval("SELECT 1")}


@probe.get(SLOW_PROBE)
async def _slow(conn: Annotated[Any, Depends(analytics_conn)]) -> dict[str, Any]:
    return {"slept": await conn.fetchval("SELECT pg_sleep(5) IS NULL")}


async def _app(settings: Any) -> AsyncIterator[Live]:
    async with running_app(settings) as (app, client):
        app.include_router(probe)
        yield Live(app=app, client=client, cluster=settings)


@pytest.fixture(scope="module")
async def up(migrated: Cluster) -> AsyncIterator[Live]:
    dsn = await asyncio.to_thread(create_analytics_database, migrated)
    async for live in _app(analytics_settings(migrated, dsn)):
        yield live


@pytest.fixture(scope="module")
async def down(migrated: Cluster) -> AsyncIterator[Live]:
    async for live in _app(analytics_settings(migrated, unreachable_dsn())):
        yield live


# -- settings -------------------------------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("ANALYTICS_DATABASE_URL", "ANALYTICS_API_TOKENS", "ANALYTICS_BASE_CURRENCY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/app")
    return monkeypatch


def test_analytics_settings_defaults(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.analytics_database_url is None
    assert settings.analytics_tokens == ()
    assert settings.analytics_base_currency == "USD"


def test_tokens_are_split_and_currency_normalised(env: pytest.MonkeyPatch) -> None:
    env.setenv("ANALYTICS_API_TOKENS", f" {TOKEN} ,,{OTHER_TOKEN},")
    env.setenv("ANALYTICS_BASE_CURRENCY", "eur")
    env.setenv("ANALYTICS_DATABASE_URL", "postgresql://reader@analytics.internal/analytics")
    settings = load_settings()
    assert settings.analytics_tokens == (TOKEN, OTHER_TOKEN)
    assert settings.analytics_base_currency == "EUR"
    assert TOKEN not in repr(settings)  # SecretStr: a printed settings object does not leak tokens


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ANALYTICS_BASE_CURRENCY", "EURO", "ISO 4217"),
        ("ANALYTICS_BASE_CURRENCY", "XXX", "ISO 4217"),
        ("ANALYTICS_DATABASE_URL", "http://analytics.internal/db", "postgres"),
        ("ANALYTICS_API_TOKENS", f"{TOKEN},short-secret", "at least 16 characters"),
    ],
)
def test_bad_analytics_values_are_named(env: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=name) as raised:
        load_settings()
    assert message in str(raised.value)
    if name == "ANALYTICS_API_TOKENS":
        assert "short-secret" not in str(raised.value)
        assert TOKEN not in str(raised.value)


def test_token_is_valid_accepts_exactly_the_configured_tokens(migrated: Cluster) -> None:
    settings = analytics_settings(migrated, None)
    assert token_is_valid(settings, TOKEN)
    assert token_is_valid(settings, OTHER_TOKEN)
    for wrong in ("", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), f"{TOKEN},{OTHER_TOKEN}", "tést-ünicode"):
        assert not token_is_valid(settings, wrong), wrong
    assert not token_is_valid(analytics_settings(migrated, None, analytics_api_tokens=None), TOKEN)


# -- tokens over HTTP -----------------------------------------------------------------------------------------


async def test_valid_token_reaches_the_analytics_database(up: Live) -> None:
    for token in (TOKEN, OTHER_TOKEN):
        response = await up.client.get(PROBE, headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json() == {"principal": "token", "one": 1}
        assert response.headers["Cache-Control"] == "private, no-store"
    lower_scheme = await up.client.get(PROBE, headers={"Authorization": f"bearer {TOKEN}"})
    assert lower_scheme.status_code == 200


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, None),
        ({"Authorization": f"Basic {TOKEN}"}, None),
        ({"Authorization": "Bearer "}, None),
        ({"Authorization": TOKEN}, None),
        (bearer("wrong-token-of-enough-length"), "invalid_token"),
        (bearer(TOKEN[:-1]), "invalid_token"),
    ],
    ids=["missing", "basic", "empty", "no-scheme", "wrong", "prefix"],
)
async def test_missing_or_wrong_token_is_401_with_challenge(
    up: Live, headers: dict[str, str], error: str | None
) -> None:
    response = await up.client.get(PROBE, headers=headers)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) == (error is not None)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert TOKEN not in response.text


async def test_two_authorization_headers_are_refused(up: Live) -> None:
    headers = [("Authorization", f"Bearer {TOKEN}"), ("Authorization", f"Bearer {TOKEN}")]
    response = await up.client.get(PROBE, headers=headers)
    assert response.status_code == 401


async def test_token_is_checked_before_the_database(down: Live) -> None:
    """No token, no information: even with analytics down an anonymous caller gets 401, not 503."""
    response = await down.client.get(PROBE)
    assert response.status_code == 401


async def test_session_hook_is_accepted_when_installed(up: Live) -> None:
    up.app.state.session_principal = lambda request: "alice" if request.headers.get("X-Test-Session") else None
    try:
        assert (await up.client.get(PROBE, headers={"X-Test-Session": "1"})).json()["principal"] == "alice"
        assert (await up.client.get(PROBE)).status_code == 401
    finally:
        del up.app.state.session_principal


# -- analytics availability -----------------------------------------------------------------------------------


async def test_analytics_down_is_503_json_and_companies_still_work(down: Live) -> None:
    response = await down.client.get(PROBE, headers=bearer())
    assert response.status_code == 503
    assert response.json()["error"] == "analytics_unavailable"
    assert response.headers["Retry-After"] == "1"
    created = await down.client.post("/api/companies", json={"name": "still-works", "country": "DE"})
    assert created.status_code == 201, created.text
    fetched = await down.client.get(
        f"/api/companies/{created.json()['id']}",
        headers={"X-Consistency-Token": created.headers["X-Consistency-Token"]},
    )
    assert fetched.status_code == 200


async def test_analytics_unset_is_503(migrated: Cluster) -> None:
    async for live in _app(analytics_settings(migrated, None)):
        response = await live.client.get(PROBE, headers=bearer())
        assert response.status_code == 503
        assert "ANALYTICS_DATABASE_URL" in response.json()["detail"]


async def test_connection_lost_mid_query_is_503_then_recovers(up: Live, migrated: Cluster) -> None:
    """The analytics server process dies under a running query: 503 JSON (not a 500), and the next call after
    the fail-fast window gets a fresh connection."""
    slow = asyncio.create_task(up.client.get(SLOW_PROBE))
    query = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(5)%' AND state = 'active'"
    for _ in range(200):
        if await asyncio.to_thread(migrated.sql, PRIMARY, query, "postgres") == "1":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the slow analytics query never started")
    await asyncio.to_thread(
        migrated.sql,
        PRIMARY,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{ANALYTICS_DATABASE}' AND application_name = 'app-analytics'",
        "postgres",
    )
    response = await slow
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "analytics_unavailable"
    await asyncio.sleep(1.1)  # past the fail-fast window
    assert (await up.client.get(PROBE, headers=bearer())).status_code == 200


async def test_pool_is_opened_lazily(migrated: Cluster) -> None:
    """Starting the app opens no analytics connection; the first analytics call does."""
    dsn = await asyncio.to_thread(create_analytics_database, migrated)
    async for live in _app(analytics_settings(migrated, dsn)):
        assert live.app.state.analytics._pool is None
        assert (await live.client.get("/health")).status_code == 200
        assert live.app.state.analytics._pool is None
        assert (await live.client.get(PROBE, headers=bearer())).status_code == 200
        assert isinstance(live.app.state.analytics._pool, asyncpg.Pool)


# -- start-up ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("configured", [True, False], ids=["analytics-configured", "no-analytics"])
async def test_forecast_model_loads_in_a_thread_at_start_only_with_analytics(
    migrated: Cluster, monkeypatch: pytest.MonkeyPatch, configured: bool
) -> None:
    """statsmodels' 1.4 s import happens at start, off the event loop, not in the first /invoices request."""
    loaded = asyncio.Event()
    threads: list[int] = []
    loop = asyncio.get_running_loop()

    def load_model() -> type:
        threads.append(threading.get_ident())
        loop.call_soon_threadsafe(loaded.set)
        return object

    monkeypatch.setattr(forecast, "load_model", load_model)
    async with running_app(analytics_settings(migrated, unreachable_dsn() if configured else None)):
        if configured:
            await asyncio.wait_for(loaded.wait(), timeout=10)
        else:
            await asyncio.sleep(0.2)
    assert threads == ([threads[0]] if configured else [])
    assert threading.get_ident() not in threads  # never on the event loop's thread


async def test_tokens_are_never_logged(up: Live, caplog: pytest.LogCaptureFixture) -> None:
    """Accepted, refused and malformed tokens leave no trace in any log record, at every level."""
    wrong = "wrong-token-that-must-not-be-logged"
    caplog.set_level("DEBUG")
    for headers in (bearer(TOKEN), bearer(wrong), {"Authorization": f"Basic {TOKEN}"}):
        await up.client.get(PROBE, headers=headers)
        await up.client.get("/api/analytics/nowhere", headers=headers)
    assert caplog.records, "no log record was captured: the check would pass vacuously"
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert TOKEN not in logged
    assert wrong not in logged
