"""Least-privilege database roles (migration 0006_roles, issue 19 item 5), on the real local cluster.

The app's role may read and write its own tables and nothing else; the pipeline's role may only read the tables it
copies. Each refusal is PostgreSQL's own (InsufficientPrivilegeError), asserted statement by statement, and the
allowed side is exercised too, so a grant that is too narrow fails here as well as one that is too wide.
The whole tests/app suite runs the app as APP_ROLE (tests.app.helpers.cluster_settings).
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
import pytest

from analytics import pipeline
from analytics.streams import STREAMS
from app.db_roles import APP_ROLE, APP_TABLES, PIPELINE_ROLE, PIPELINE_TABLES
from localdev.cluster import PRIMARY, Cluster
from tests.app.analytics_helpers import ANALYTICS_DATABASE, as_writer, create_analytics_database
from tests.app.helpers import Live

OTHER_SCHEMA = "ops_private"


@pytest.fixture(scope="module")
async def other_schema(migrated: Cluster) -> AsyncIterator[str]:
    """A schema of another owner with a table in it, as an operator or another component would create."""
    await asyncio.to_thread(
        migrated.sql,
        PRIMARY,
        f"CREATE SCHEMA IF NOT EXISTS {OTHER_SCHEMA}; "
        f"CREATE TABLE IF NOT EXISTS {OTHER_SCHEMA}.secrets (v text); "
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {OTHER_SCHEMA} TO PUBLIC",
    )
    yield OTHER_SCHEMA
    await asyncio.to_thread(migrated.sql, PRIMARY, f"DROP SCHEMA {OTHER_SCHEMA} CASCADE")


async def _connect(cluster: Cluster, role: str, database: str | None = None, node: str = PRIMARY) -> asyncpg.Connection:
    dsn = cluster.dsn(node, user=role) if database is None else cluster.dsn(node, database, user=role)
    return await asyncpg.connect(dsn)


async def _refused(conn: asyncpg.Connection, statement: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(statement)


async def test_app_role_has_dml_on_its_tables_in_a_rolled_back_transaction(migrated: Cluster) -> None:
    conn = await _connect(migrated, APP_ROLE)
    try:
        tx = conn.transaction()
        await tx.start()
        company = await conn.fetchval("INSERT INTO companies (name, region) VALUES ('roles', 'eu') RETURNING id")
        invoice = await conn.fetchval(
            "INSERT INTO invoices (company_id, amount, currency, status) VALUES ($1, 10, 'EUR', 'issued') RETURNING id",
            company,
        )
        await conn.execute(
            "INSERT INTO invoice_lines (invoice_id, position, kind, amount) VALUES ($1, 1, 'one_time', 10)", invoice
        )
        await conn.execute("INSERT INTO fx_rates (day, currency, rate) VALUES ('2001-01-01', 'EUR', 1.1)")
        await conn.execute("UPDATE heartbeat SET at = clock_timestamp() WHERE id = 1")
        await conn.execute("UPDATE invoices SET status = 'paid', paid_at = now() WHERE id = $1", invoice)
        await conn.execute("DELETE FROM fx_rates WHERE day = '2001-01-01'")
        await conn.execute("DELETE FROM invoices WHERE id = $1", invoice)  # its lines go by cascade
        await conn.execute("DELETE FROM companies WHERE id = $1", company)
        for table in APP_TABLES:
            await conn.fetchval(f"SELECT count(*) FROM {table}")
        await tx.rollback()
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE invoices",
        "TRUNCATE companies",
        "ALTER TABLE companies ADD COLUMN evil text",
        "CREATE TABLE public.mine (x int)",
        "CREATE SCHEMA mine",
        "CREATE INDEX ON companies (name)",
        "DROP TRIGGER invoices_set_updated_at ON invoices",
        "CREATE ROLE someone",
        "CREATE DATABASE another",
        "SELECT * FROM alembic_version",
        "UPDATE alembic_version SET version_num = 'x'",
        f"SELECT * FROM {OTHER_SCHEMA}.secrets",
        "ALTER ROLE api_app SUPERUSER",
    ],
)
async def test_app_role_cannot_change_schema_or_read_beyond_its_tables(
    migrated: Cluster, other_schema: str, statement: str
) -> None:
    conn = await _connect(migrated, APP_ROLE)
    try:
        await _refused(conn, statement)
    finally:
        await conn.close()


async def test_app_role_cannot_read_the_analytics_database(migrated: Cluster) -> None:
    await asyncio.to_thread(create_analytics_database, migrated)
    conn = await _connect(migrated, APP_ROLE, ANALYTICS_DATABASE)
    try:
        for table in ("analytics.invoices", "analytics.pipeline_state", "analytics.company_mrr"):
            await _refused(conn, f"SELECT * FROM {table}")
        await _refused(conn, "CREATE TABLE public.mine (x int)")
    finally:
        await conn.close()


async def test_pipeline_role_reads_its_tables_and_writes_nothing(migrated: Cluster) -> None:
    conn = await _connect(migrated, PIPELINE_ROLE, node="eu")  # the pipeline reads a replica, as in AWS
    try:
        for table in PIPELINE_TABLES:
            await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()
    conn = await _connect(migrated, PIPELINE_ROLE)
    try:
        for statement in (
            "INSERT INTO companies (name, region) VALUES ('x', 'eu')",
            "UPDATE invoices SET status = status",
            "DELETE FROM fx_rates",
            "UPDATE heartbeat SET at = now()",
            "SELECT * FROM heartbeat",
            "DROP TABLE invoices",
            "CREATE TABLE public.mine (x int)",
        ):
            await _refused(conn, statement)
    finally:
        await conn.close()


async def test_only_the_roles_and_the_owner_may_connect(migrated: Cluster) -> None:
    await asyncio.to_thread(
        migrated.sql, PRIMARY, "DO $$ BEGIN CREATE ROLE stranger LOGIN; EXCEPTION WHEN duplicate_object THEN END $$"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _connect(migrated, "stranger")


async def test_the_pipeline_runs_as_its_role(migrated: Cluster) -> None:
    """The whole copy works with SELECT on its tables only (reading a replica, as in AWS and `make run`)."""
    target = await asyncio.to_thread(create_analytics_database, migrated)
    report = await pipeline.run(migrated.dsn("eu", user=PIPELINE_ROLE), target, progress=lambda _: None)
    assert set(report.rows) == {stream.name for stream in STREAMS}


FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def test_pipeline_cli_logs_in_with_a_signed_token_as_its_role(
    migrated: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ANALYTICS_SOURCE_IAM_AUTH=true: the CLI signs a token (locally, fake keys) and logs in as the URL's role;
    the local cluster trusts the login, so this shows the wiring, and the token's own shape is tested in
    test_credentials.py."""
    target = create_analytics_database(migrated)
    for name, value in {**FAKE_AWS, "AWS_REGION": "eu-west-1", pipeline.SOURCE_IAM_ENV: "true"}.items():
        monkeypatch.setenv(name, value)
    seen: list[str] = []
    real_run = pipeline.run

    async def spy(source: str, *args: Any, **kwargs: Any) -> pipeline.RunReport:
        seen.append(source)
        return await real_run(source, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run", spy)
    source = migrated.dsn("eu", user=PIPELINE_ROLE)
    assert pipeline.main(["--source", source, "--target", target, "--no-migrate"]) == 0
    (signed,) = seen
    parts = urlsplit(signed)
    assert (parts.username, parts.hostname, parts.port) == (PIPELINE_ROLE, "127.0.0.1", migrated.ports["eu"])
    assert "X-Amz-Signature=" in unquote(parts.password or "")


def test_pipeline_cli_names_a_token_it_cannot_sign(
    migrated: Cluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(pipeline.SOURCE_IAM_ENV, "true")
    source = migrated.dsn("eu", user=PIPELINE_ROLE)  # not an RDS name, and no AWS_REGION: no region to sign for
    assert pipeline.main(["--source", source, "--target", migrated.dsn(PRIMARY), "--no-migrate"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "analytics.pipeline: cannot log in to the source database (ANALYTICS_SOURCE_IAM_AUTH): "
        "cannot tell the AWS region of '127.0.0.1': not an RDS endpoint and AWS_REGION is not set"
    )


# ---- the app's writer login on the analytics database (analytics revision 0005_app_writer) ---------------------


async def test_analytics_writer_writes_what_the_app_writes_and_nothing_else(migrated: Cluster) -> None:
    target = await asyncio.to_thread(create_analytics_database, migrated)
    conn = await asyncpg.connect(as_writer(target))
    try:
        tx = conn.transaction()
        await tx.start()
        alert = await conn.fetchval(
            "INSERT INTO analytics.alerts (metric, op, threshold, notify) VALUES ('mrr', 'below', 1, '{}') RETURNING id"
        )
        await conn.execute("DELETE FROM analytics.alerts WHERE id = $1", alert)
        report = await conn.fetchval(
            "INSERT INTO analytics.reports (name, sections, schedule, format, recipients) "
            "VALUES ('r', '{mrr}', '0 8 * * 1', 'csv', '{a@example.com}') RETURNING id"
        )
        await conn.fetch("SELECT * FROM analytics.report_runs WHERE report_id = $1", report)
        await conn.execute("DELETE FROM analytics.reports WHERE id = $1", report)
        await tx.rollback()
        for statement in (
            "SELECT * FROM analytics.invoices",
            "SELECT * FROM analytics.api_requests",
            "UPDATE analytics.pipeline_state SET stream = stream",
            "INSERT INTO analytics.report_runs (report_id, due_at) VALUES (1, now())",
            "DELETE FROM analytics.alert_firings",
            "TRUNCATE analytics.alerts",
            "DROP TABLE analytics.reports",
            "CREATE TABLE analytics.mine (x int)",
        ):
            await _refused(conn, statement)
    finally:
        await conn.close()


async def test_the_session_app_runs_as_the_app_role_on_every_node(healthy: Live) -> None:
    """Every tests/app test exercises the app as APP_ROLE (tests.app.helpers.cluster_settings): shown per node."""
    nodes = healthy.app.state.router.nodes
    assert set(nodes) == {"primary", "eu", "us", "asia"}
    for node in nodes.values():
        async with node.connection() as conn:
            assert await conn.fetchval("SELECT current_user") == APP_ROLE
