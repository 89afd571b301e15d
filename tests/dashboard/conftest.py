"""Dashboard fixtures on the shared session cluster: our own analytics database and one served app."""

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from analytics.migrate import upgrade as upgrade_analytics
from app.migrate import upgrade
from localdev.cluster import PRIMARY, Cluster
from tests.dashboard.helpers import Served, dashboard_settings, serve

DATABASE = "dashboard_analytics"


@pytest.fixture(scope="session")
def migrated(pg_cluster: Cluster) -> Cluster:
    """The main database migrated (as tests/app's fixture of the same name; idempotent)."""
    upgrade(pg_cluster.dsn("primary"), "us")
    return pg_cluster


@pytest.fixture(scope="session")
def analytics_dsn(migrated: Cluster) -> str:
    """Our own analytics database, so tests/app's connection-killing tests and ours never meet."""
    if migrated.sql(PRIMARY, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", "postgres") != "1":
        migrated.sql(PRIMARY, f"CREATE DATABASE {DATABASE}", "postgres")
    dsn = migrated.dsn(PRIMARY, DATABASE)
    upgrade_analytics(dsn)
    return dsn


@pytest.fixture(scope="session")
def served(migrated: Cluster, analytics_dsn: str) -> Iterator[Served]:
    with serve(dashboard_settings(migrated, analytics_dsn)) as app:
        yield app


@pytest.fixture
async def analytics(analytics_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the analytics database with this feature's tables emptied (identities keep counting, as
    the served app's stream poller remembers the last firing id it saw)."""
    conn = await asyncpg.connect(analytics_dsn)
    await conn.execute("TRUNCATE analytics.alerts, analytics.alert_firings, analytics.api_requests")
    yield conn
    await conn.close()
