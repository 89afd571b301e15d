"""Shared pieces of the analytics-side app tests: an analytics database on the session cluster, tokens, apps."""

from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from analytics.migrate import upgrade as upgrade_analytics
from app.db_roles import ANALYTICS_WRITER_ROLE
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


# The app's read-only analytics login in AWS (components/timescale.py: pg_read_all_data and nothing else).
READER_ROLE: Final = "analytics_reader"


def as_login(dsn: str, role: str) -> str:
    """The same database, logged in as `role` (the local cluster trusts local logins)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))


def as_writer(dsn: str) -> str:
    """The app's writer login on the same analytics database (analytics revision 0005_app_writer), as in AWS."""
    return as_login(dsn, ANALYTICS_WRITER_ROLE)


def ensure_reader(cluster: Cluster) -> None:
    """The read-only login, as the TimescaleDB bootstrap creates it: any write on the read URL fails."""
    cluster.sql(
        PRIMARY,
        f"DO $$ BEGIN CREATE ROLE {READER_ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$; "
        f"GRANT pg_read_all_data TO {READER_ROLE}",
        "postgres",
    )


def analytics_settings(cluster: Cluster, analytics_dsn: str | None, **overrides: Any) -> Settings:
    """The app's analytics side as in AWS: figures through the read-only login, its writes as the writer role,
    so a write sent to the read pool fails here as it would against the standby."""
    ensure_reader(cluster)
    values: dict[str, Any] = {
        "analytics_database_url": as_login(analytics_dsn, READER_ROLE) if analytics_dsn else None,
        "analytics_write_database_url": as_writer(analytics_dsn) if analytics_dsn else None,
        "analytics_api_tokens": f"{TOKEN}, {OTHER_TOKEN}",
    }
    return cluster_settings(cluster, **{**values, **overrides})
