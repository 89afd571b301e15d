"""Reports fixtures: one real SMTP server (aiosmtpd) and one migrated analytics database for the session, both
reset per test (the sink accepts again and forgets, the reports tables are emptied)."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from analytics import pipeline
from analytics.migrate import upgrade as upgrade_analytics
from app.migrate import upgrade as upgrade_app
from app.reports_api import report_figures
from localdev.cluster import PRIMARY, Cluster
from localdev.mail_sink import MailSink, running_sink
from tests.analytics.revenue_helpers import write_history
from tests.analytics.test_revenue_scenario import scenario
from tests.app.analytics_helpers import analytics_settings, bearer
from tests.app.helpers import running_app
from tests.reports.contract_figures import ContractFigures

REPORTS_DATABASE = "reports_analytics"
SOURCE_DATABASE = "reports_source"


@pytest.fixture(scope="session")
def _session_sink() -> Iterator[MailSink]:
    with running_sink() as sink:
        yield sink


@pytest.fixture
def mail_sink(_session_sink: MailSink) -> MailSink:
    _session_sink.clear()
    return _session_sink


@pytest.fixture(scope="session")
def reports_dsn(pg_cluster: Cluster) -> str:
    pg_cluster.sql(PRIMARY, f"CREATE DATABASE {REPORTS_DATABASE}", database="postgres")
    dsn = pg_cluster.dsn(PRIMARY, REPORTS_DATABASE)
    upgrade_analytics(dsn)
    return dsn


@pytest.fixture
async def reports_conn(reports_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the session's analytics database with no reports and no runs."""
    conn = await asyncpg.connect(reports_dsn)
    try:
        await conn.execute("TRUNCATE analytics.reports, analytics.report_runs RESTART IDENTITY")
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def reports_app(pg_cluster: Cluster, reports_dsn: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real app (its lifespan, auth and pools) with the analytics side on the session's analytics database."""
    await asyncio.to_thread(upgrade_app, pg_cluster.dsn(PRIMARY), "us")
    async with running_app(analytics_settings(pg_cluster, reports_dsn)) as (app, client):
        yield app, client


@pytest.fixture
async def api(
    reports_app: tuple[FastAPI, httpx.AsyncClient], reports_conn: asyncpg.Connection
) -> AsyncIterator[httpx.AsyncClient]:
    """An authorized client on an empty reports table, exports computed by the contract-shaped figures."""
    app, client = reports_app
    app.dependency_overrides[report_figures] = ContractFigures
    client.headers.update(bearer())
    try:
        yield client
    finally:
        app.dependency_overrides.pop(report_figures, None)
        client.headers.pop("Authorization", None)


@pytest.fixture(scope="session")
async def revenue_history(pg_cluster: Cluster, reports_dsn: str) -> str:
    """The revenue scenario (every movement kind, fx, a void, an unconverted line) written to a main-database copy
    and carried by the real pipeline into the session's analytics database; returns that database's DSN."""
    pg_cluster.sql(PRIMARY, f"CREATE DATABASE {SOURCE_DATABASE}", database="postgres")
    source = pg_cluster.dsn(PRIMARY, SOURCE_DATABASE)
    await asyncio.to_thread(upgrade_app, source, "eu")
    conn = await asyncpg.connect(source)
    try:
        await write_history(conn, scenario())
    finally:
        await conn.close()
    await pipeline.run(source, reports_dsn, base_currency="USD")
    return reports_dsn
