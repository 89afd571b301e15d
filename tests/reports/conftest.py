"""Reports fixtures: one real SMTP server (aiosmtpd) and one migrated analytics database for the session, both
reset per test (the sink accepts again and forgets, the reports tables are emptied)."""

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from analytics.migrate import upgrade as upgrade_analytics
from localdev.cluster import PRIMARY, Cluster
from localdev.mail_sink import MailSink, running_sink

REPORTS_DATABASE = "reports_analytics"


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
