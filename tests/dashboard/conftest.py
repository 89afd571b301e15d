"""Dashboard fixtures on the shared session cluster: our own analytics database and one served app."""

from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from analytics.migrate import upgrade as upgrade_analytics
from app.migrate import upgrade
from localdev.cluster import PRIMARY, REPLICAS, Cluster
from tests.dashboard.billing import history, run_pipeline
from tests.dashboard.helpers import Served, dashboard_settings, serve

MAIN, ANALYTICS = "dashboard_main", "dashboard_analytics"


@pytest.fixture(scope="session")
def migrated(pg_cluster: Cluster) -> Cluster:
    """The main database migrated (as tests/app's fixture of the same name; idempotent)."""
    upgrade(pg_cluster.dsn("primary"), "us")
    return pg_cluster


def _fresh_database(cluster: Cluster, name: str) -> str:
    cluster.sql(PRIMARY, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "postgres")
    cluster.sql(PRIMARY, f"CREATE DATABASE {name}", "postgres")
    return cluster.dsn(PRIMARY, name)


@pytest.fixture(scope="session")
def main_db(migrated: Cluster) -> str:
    """Our own main database, so other tests' companies and invoices stay out of the figures we compare."""
    dsn = _fresh_database(migrated, MAIN)
    upgrade(dsn, "us")
    return dsn


@pytest.fixture(scope="session")
def analytics_dsn(migrated: Cluster) -> str:
    """Our own analytics database, so tests/app's connection-killing tests and ours never meet."""
    dsn = _fresh_database(migrated, ANALYTICS)
    upgrade_analytics(dsn)
    return dsn


@pytest.fixture(scope="session")
def served(migrated: Cluster, main_db: str, analytics_dsn: str) -> Iterator[Served]:
    replicas = {f"database_read_replica_{r}": migrated.dsn(r, MAIN) for r in REPLICAS}
    with serve(dashboard_settings(migrated, analytics_dsn, database_url=main_db, **replicas)) as app:
        yield app


@pytest.fixture
async def analytics(analytics_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the analytics database with this feature's tables emptied (identities keep counting, as
    the served app's stream poller remembers the last firing id it saw)."""
    conn = await asyncpg.connect(analytics_dsn)
    await conn.execute("TRUNCATE analytics.alerts, analytics.alert_firings, analytics.api_requests")
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def seeded(served: Served, main_db: str, analytics_dsn: str) -> dict[str, int]:
    """The billing history of tests/dashboard/billing.py, in through the API, carried over by one pipeline run."""
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        ids = history(client)
    await run_pipeline(main_db, analytics_dsn)
    return ids
