"""Analytics fixtures on the shared session cluster: one migrated source/analytics database pair, emptied per test.

The source is a main-database copy (app migrations, including the invoices revision) and the target an analytics
database; both live beside the app's `app` database, which is never touched. Emptying (TRUNCATE, identities
restarted) costs milliseconds where a fresh CREATE DATABASE costs about a second on these machines.
"""

import itertools
from collections.abc import Iterator

import pytest

from analytics.migrate import upgrade as upgrade_analytics
from app.migrate import upgrade as upgrade_app
from localdev.cluster import PRIMARY, Cluster
from tests.analytics.helpers import Databases, empty

_names = itertools.count(1)


def create_database(cluster: Cluster, name: str) -> None:
    cluster.sql(PRIMARY, f"CREATE DATABASE {name}", database="postgres")


def drop_database(cluster: Cluster, name: str) -> None:
    cluster.sql(PRIMARY, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", database="postgres")


@pytest.fixture(scope="session")
def pair(pg_cluster: Cluster) -> Databases:
    databases = Databases(cluster=pg_cluster, source="analytics_source", target="analytics_target")
    create_database(pg_cluster, databases.source)
    upgrade_app(databases.source_primary, "eu")
    create_database(pg_cluster, databases.target)
    upgrade_analytics(databases.target_dsn)
    return databases


@pytest.fixture
async def dbs(pair: Databases) -> Databases:
    """The session pair with no rows and no watermarks, so every test starts from nothing."""
    await empty(pair)
    return pair


@pytest.fixture
def empty_dsn(pg_cluster: Cluster) -> Iterator[str]:
    """A brand-new empty database on the primary (for migrations from nothing)."""
    name = f"analytics_empty_{next(_names)}"
    create_database(pg_cluster, name)
    yield pg_cluster.dsn(PRIMARY, name)
    drop_database(pg_cluster, name)
