"""Shared pieces of the analytics-side app tests: an analytics database on the session cluster, tokens, apps."""

from typing import Any, Final

from analytics.migrate import upgrade as upgrade_analytics
from app.settings import Settings
from localdev.cluster import PRIMARY, Cluster, free_port
from tests.app.helpers import cluster_settings

TOKEN: Final = "test-analytics-token-0123456789"
OTHER_TOKEN: Final = "second-analytics-token-abcdef"
ANALYTICS_DATABASE: Final = "app_analytics"


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_analytics_database(cluster: Cluster) -> str:
    """A migrated analytics database beside the app's (created once per session); returns its DSN."""
    exists = cluster.sql(PRIMARY, f"SELECT 1 FROM pg_database WHERE datname = '{ANALYTICS_DATABASE}'", "postgres")
    if exists != "1":
        cluster.sql(PRIMARY, f"CREATE DATABASE {ANALYTICS_DATABASE}", "postgres")
    dsn = cluster.dsn(PRIMARY, ANALYTICS_DATABASE)
    upgrade_analytics(dsn)
    return dsn


def unreachable_dsn() -> str:
    """A PostgreSQL URL on a loopback port nothing listens on (chosen free just now)."""
    return f"postgresql://postgres@127.0.0.1:{free_port()}/analytics"


def analytics_settings(cluster: Cluster, analytics_dsn: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "analytics_database_url": analytics_dsn,
        "analytics_api_tokens": f"{TOKEN}, {OTHER_TOKEN}",
    }
    return cluster_settings(cluster, **{**values, **overrides})
