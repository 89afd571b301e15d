"""Both migration sets on a real server: idempotent, reversible, the invoices constraints, the plain-PostgreSQL
shape of the aggregates, the request-latency aggregate against Python, and one schema for both engines."""

import asyncio
import os
import random
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from alembic import command

from analytics.migrate import downgrade as downgrade_analytics
from analytics.migrate import upgrade as upgrade_analytics
from analytics.timescale import DailyAggregate, Hypertable, aggregate_sql, hypertable_sql
from app.migrate import alembic_config as app_alembic_config
from app.migrate import upgrade as upgrade_app
from tests.analytics.helpers import REGIONS, Databases

AGGREGATE_COLUMNS = {
    "invoice_daily": ["day", "region", "currency", "revenue", "invoices_issued", "invoices_paid"],
    "company_activity_daily": ["day", "region", "active_companies"],
    "request_daily": ["day", "region", "requests", "server_errors", "p50_ms", "p95_ms", "p99_ms"],
}

CATALOG = """
SELECT 'column', c.table_name || '.' || c.column_name, c.data_type
FROM information_schema.columns c WHERE c.table_schema = $1
UNION ALL SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = $1
UNION ALL SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = $1
UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
    JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1
UNION ALL SELECT 'trigger', tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND NOT t.tgisinternal
ORDER BY 1, 2
"""


async def _catalog(dsn: str, schema: str) -> list[tuple[str, str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(CATALOG, schema)]
    finally:
        await conn.close()


def _module(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )


async def test_analytics_migrations_are_idempotent_and_reversible(empty_dsn: str) -> None:
    dsn = empty_dsn
    await asyncio.to_thread(upgrade_analytics, dsn)
    first = await _catalog(dsn, "analytics")
    second_run = await asyncio.to_thread(_module, "analytics.migrate", {"ANALYTICS_DATABASE_URL": dsn})
    assert second_run.returncode == 0, second_run.stderr
    assert await _catalog(dsn, "analytics") == first
    assert any(kind == "view" for kind, _, _ in first)

    await asyncio.to_thread(downgrade_analytics, dsn, "base")
    assert await _catalog(dsn, "analytics") == []


async def test_app_migrations_with_invoices_are_idempotent(empty_dsn: str) -> None:
    dsn = empty_dsn
    for _ in range(2):  # what `python -m app.migrate` runs; the second pass must be a no-op, not an error
        await asyncio.to_thread(upgrade_app, dsn, "eu")
    catalog = await _catalog(dsn, "public")
    names = {name for _, name, _ in catalog}
    assert {"invoices.updated_at", "invoices_updated_at_id_idx", "companies_updated_at_id_idx"} <= names
    assert "invoices_set_updated_at" in names

    await asyncio.to_thread(command.downgrade, app_alembic_config(dsn, "eu"), "0002_backfill_company_region")
    assert not {"invoices.updated_at", "companies_updated_at_id_idx"} & {n for _, n, _ in await _catalog(dsn, "public")}


BAD_INVOICES = {
    "lower-case currency": ("(1, 10.00, 'eur', 'issued', NULL)", asyncpg.CheckViolationError),
    "unknown status": ("(1, 10.00, 'EUR', 'refunded', NULL)", asyncpg.CheckViolationError),
    "paid without paid_at": ("(1, 10.00, 'EUR', 'paid', NULL)", asyncpg.CheckViolationError),
    "paid_at while unpaid": ("(1, 10.00, 'EUR', 'issued', now())", asyncpg.CheckViolationError),
    "negative amount": ("(1, -1.00, 'EUR', 'issued', NULL)", asyncpg.CheckViolationError),
    "unknown company": ("(99, 10.00, 'EUR', 'issued', NULL)", asyncpg.ForeignKeyViolationError),
}


async def test_invoices_reject_bad_rows(dbs: Databases) -> None:
    columns = "(company_id, amount, currency, status, paid_at)"
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await conn.execute("INSERT INTO companies (name, region) VALUES ('acme', 'eu')")
        await conn.execute(f"INSERT INTO invoices {columns} VALUES (1, 10.00, 'EUR', 'paid', now())")  # valid
        rejected = {}
        for case, (values, error) in BAD_INVOICES.items():
            try:
                await conn.execute(f"INSERT INTO invoices {columns} VALUES {values}")
            except error:
                rejected[case] = True
            else:
                rejected[case] = False
    finally:
        await conn.close()
    assert rejected == dict.fromkeys(BAD_INVOICES, True)


async def test_invoice_updates_move_updated_at(dbs: Databases) -> None:
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await conn.execute("INSERT INTO companies (name, region) VALUES ('acme', 'eu')")
        before = await conn.fetchval(
            "INSERT INTO invoices (company_id, amount, currency) VALUES (1, 5, 'USD') RETURNING updated_at"
        )
        after = await conn.fetchval("UPDATE invoices SET status = 'void' RETURNING updated_at")
    finally:
        await conn.close()
    assert after > before


async def test_aggregates_are_plain_views_with_the_documented_columns(dbs: Databases) -> None:
    conn = await asyncpg.connect(dbs.target_dsn)
    try:
        for view, columns in AGGREGATE_COLUMNS.items():
            kind = await conn.fetchval(
                "SELECT relkind::text FROM pg_class WHERE oid = $1::regclass", f"analytics.{view}"
            )
            actual = await conn.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = 'analytics' AND table_name = $1 ORDER BY ordinal_position",
                view,
            )
            assert (kind, [r["column_name"] for r in actual]) == ("v", columns)
    finally:
        await conn.close()


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]  # percentile_cont's interpolation


async def test_request_daily_matches_python(dbs: Databases) -> None:
    rng = random.Random(7)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        (start + timedelta(seconds=rng.randrange(3 * 86_400)), rng.choice(REGIONS), rng.choice(("/a", "/b")),
         rng.choice((200, 200, 200, 404, 503)), rng.lognormvariate(3, 0.8))
        for _ in range(3000)
    ]  # fmt: skip
    groups: dict[tuple[date, str], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row[0].date(), row[1])].append(row)

    conn = await asyncpg.connect(dbs.target_dsn)
    try:
        await conn.copy_records_to_table(
            "api_requests",
            schema_name="analytics",
            records=rows,
            columns=["ts", "region", "route", "status", "latency_ms"],
        )
        actual = {
            (r["day"].astimezone(UTC).date(), r["region"]): r
            for r in await conn.fetch("SELECT * FROM analytics.request_daily")
        }
    finally:
        await conn.close()

    assert set(actual) == set(groups)
    for key, group in groups.items():
        latencies = [g[4] for g in group]
        got = actual[key]
        assert (got["requests"], got["server_errors"]) == (len(group), sum(g[3] >= 500 for g in group))
        for q in (50, 95, 99):
            assert got[f"p{q}_ms"] == pytest.approx(_percentile(latencies, q), rel=1e-9)


def test_timescale_and_plain_renderings_share_one_select() -> None:
    aggregate = DailyAggregate(
        "analytics.x_daily", "ts", "SELECT {day} AS day, count(*) AS n FROM t GROUP BY {day}", "3 days"
    )
    (plain,) = aggregate_sql(aggregate, timescale=False)
    continuous, policy = aggregate_sql(aggregate, timescale=True)

    bucket_plain, bucket_ts = "date_trunc('day', ts, 'UTC')", "time_bucket(INTERVAL '1 day', ts)"
    assert plain == f"CREATE VIEW analytics.x_daily AS {aggregate.select.format(day=bucket_plain)}"
    assert continuous.replace(bucket_ts, bucket_plain).startswith(
        "CREATE MATERIALIZED VIEW analytics.x_daily"
        " WITH (timescaledb.continuous, timescaledb.materialized_only = false)"
        f" AS {aggregate.select.format(day=bucket_plain)}"
    )
    assert "add_continuous_aggregate_policy('analytics.x_daily'" in policy
    assert "start_offset => INTERVAL '3 days'" in policy


def test_hypertables_only_with_timescale() -> None:
    table = Hypertable(
        "analytics.t", "ts", chunk_interval="1 day", segment_by="region", compress_after="7 days", retain_for="30 days"
    )
    assert hypertable_sql(table, timescale=False) == []
    statements = " ".join(hypertable_sql(table, timescale=True))
    for expected in ("create_hypertable('analytics.t', 'ts'", "timescaledb.compress_segmentby = 'region'",
                     "add_compression_policy('analytics.t', INTERVAL '7 days')",
                     "add_retention_policy('analytics.t', INTERVAL '30 days')"):  # fmt: skip
        assert expected in statements
