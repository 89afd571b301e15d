"""Analytics fixtures on the shared session cluster: migrated template databases, then a fresh pair per test.

A main-database copy (app migrations, including the invoices revision) and an analytics database are migrated
once as templates; each test clones both (CREATE DATABASE ... TEMPLATE, a file copy) so tests never share rows.
The app's own `app` database is never touched.
"""

import itertools
from collections.abc import Iterator

import pytest

from analytics.migrate import upgrade as upgrade_analytics
from app.migrate import upgrade as upgrade_app
from localdev.cluster import PRIMARY, Cluster
from tests.analytics.helpers import Databases

SOURCE_TEMPLATE = "analytics_src_template"
TARGET_TEMPLATE = "analytics_tgt_template"
_names = itertools.count(1)


def create_database(cluster: Cluster, name: str, template: str = "template0") -> None:
    cluster.sql(PRIMARY, f"CREATE DATABASE {name} TEMPLATE {template}", database="postgres")


@pytest.fixture(scope="session")
def templates(pg_cluster: Cluster) -> Cluster:
    create_database(pg_cluster, SOURCE_TEMPLATE)
    upgrade_app(pg_cluster.dsn(PRIMARY, SOURCE_TEMPLATE), "eu")
    create_database(pg_cluster, TARGET_TEMPLATE)
    upgrade_analytics(pg_cluster.dsn(PRIMARY, TARGET_TEMPLATE))
    return pg_cluster


def drop_database(cluster: Cluster, name: str) -> None:
    cluster.sql(PRIMARY, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", database="postgres")


@pytest.fixture
def empty_dsn(pg_cluster: Cluster) -> Iterator[str]:
    """A brand-new empty database on the primary (for migrations from nothing)."""
    name = f"analytics_empty_{next(_names)}"
    create_database(pg_cluster, name)
    yield pg_cluster.dsn(PRIMARY, name)
    drop_database(pg_cluster, name)


@pytest.fixture
def dbs(templates: Cluster) -> Iterator[Databases]:
    n = next(_names)
    pair = Databases(cluster=templates, source=f"analytics_src_{n}", target=f"analytics_tgt_{n}")
    create_database(templates, pair.source, SOURCE_TEMPLATE)
    create_database(templates, pair.target, TARGET_TEMPLATE)
    yield pair
    for name in (pair.source, pair.target):
        drop_database(templates, name)
