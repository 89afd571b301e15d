"""Analytics test helpers: generated main-database data, replica catch-up, and the expectations computed in Python.

The expectations are plain-Python aggregations of the source rows (read back without any SQL aggregation), so
a wrong view, a lost row or a double-counted row in the pipeline shows up as a mismatch.
"""

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from localdev.cluster import PRIMARY, Cluster

REGIONS = ("eu", "us", "asia")
COUNTRIES = {"eu": ("DE", "FR", "IE"), "us": ("US", "CA", "BR"), "asia": ("JP", "SG", "IN")}
CURRENCIES = ("EUR", "USD", "JPY")
REPLICA = "eu"
START = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Databases:
    """One test's source (main-database copy) and analytics databases on the session cluster."""

    cluster: Cluster
    source: str
    target: str

    @property
    def source_primary(self) -> str:
        return self.cluster.dsn(PRIMARY, self.source)

    @property
    def source_replica(self) -> str:
        return self.cluster.dsn(REPLICA, self.source)

    @property
    def target_dsn(self) -> str:
        return self.cluster.dsn(PRIMARY, self.target)


SOURCE_TABLES = "fx_rates, invoice_lines, invoices, companies"
TARGET_TABLES = (
    "analytics.invoice_events, analytics.companies, analytics.api_requests, analytics.pipeline_state, "
    "analytics.revenue_settings, analytics.invoices, analytics.invoice_lines, analytics.fx_rates, "
    "analytics.company_mrr, analytics.company_mrr_native, analytics.mrr_summary"
)


async def _truncate(dsn: str, tables: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY")
    finally:
        await conn.close()


async def empty(dbs: Databases, *, source: bool = True) -> None:
    """No rows and no watermarks (TRUNCATE, identities restarted: milliseconds, where CREATE DATABASE costs ~1 s).
    `source=False` empties only the analytics side, for a full recompute of the same source."""
    if source:
        await _truncate(dbs.source_primary, SOURCE_TABLES)
    await _truncate(dbs.target_dsn, TARGET_TABLES)


async def wait_replayed(dbs: Databases, timeout_s: float = 20) -> None:
    """Wait until the pipeline's replica has replayed everything the primary has written so far."""
    lsn = await asyncio.to_thread(dbs.cluster.sql, PRIMARY, "SELECT pg_current_wal_lsn()", "postgres")
    deadline = time.monotonic() + timeout_s
    query = f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"
    while await asyncio.to_thread(dbs.cluster.sql, REPLICA, query, "postgres") != "t":
        if time.monotonic() > deadline:
            raise AssertionError(f"replica {REPLICA} did not replay up to {lsn} within {timeout_s}s")
        await asyncio.sleep(0.05)


async def seed(
    conn: Any, rng: random.Random, *, companies_per_region: int = 30, invoices: int = 4000, days: int = 7
) -> None:
    """Companies in every region and invoices over `days` days, ~45% paid, ~15% void, in three currencies.

    Everything is written in one transaction, so every row shares one updated_at: paging through them relies on
    the id tie-breaker.
    """
    async with conn.transaction():
        companies = [
            (f"{region}-{i}", rng.choice(COUNTRIES[region]), region)
            for region in REGIONS
            for i in range(companies_per_region)
        ]
        ids = [
            r["id"]
            for r in await conn.fetch(
                "INSERT INTO companies (name, country, region) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
                " RETURNING id",
                *map(list, zip(*companies, strict=True)),
            )
        ]
        records = []
        for _ in range(invoices):
            issued = START + timedelta(seconds=rng.randrange(days * 86_400))
            status = rng.choices(("issued", "paid", "void"), weights=(40, 45, 15))[0]
            paid = issued + timedelta(seconds=rng.randrange(3 * 86_400)) if status == "paid" else None
            amount = Decimal(rng.randrange(100, 5_000_000)) / 100
            records.append((rng.choice(ids), amount, rng.choice(CURRENCIES), status, issued, paid))
        await conn.copy_records_to_table(
            "invoices",
            records=records,
            columns=["company_id", "amount", "currency", "status", "issued_at", "paid_at"],
        )


async def source_invoices(conn: Any) -> list[Any]:
    return list(
        await conn.fetch(
            "SELECT i.id, i.company_id, c.region, i.amount, i.currency, i.status, i.issued_at, i.paid_at"
            " FROM invoices i JOIN companies c ON c.id = i.company_id"
        )
    )


def _day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def expected_invoice_daily(rows: list[Any]) -> dict[tuple[date, str, str], tuple[Decimal, int, int]]:
    """(day, region, currency) -> (revenue paid that day, invoices issued that day, invoices paid that day)."""
    out: dict[tuple[date, str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0, 0])
    for r in rows:
        out[(_day(r["issued_at"]), r["region"], r["currency"])][1] += 1
        if r["status"] == "paid":
            cell = out[(_day(r["paid_at"]), r["region"], r["currency"])]
            cell[0] += r["amount"]
            cell[2] += 1
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def expected_activity(rows: list[Any]) -> dict[tuple[date, str], int]:
    """(day, region) -> companies with an invoice issued or paid that day."""
    active: dict[tuple[date, str], set[int]] = defaultdict(set)
    for r in rows:
        active[(_day(r["issued_at"]), r["region"])].add(r["company_id"])
        if r["status"] == "paid":
            active[(_day(r["paid_at"]), r["region"])].add(r["company_id"])
    return {k: len(v) for k, v in active.items()}


async def actual_invoice_daily(conn: Any) -> dict[tuple[date, str, str], tuple[Decimal, int, int]]:
    rows = await conn.fetch("SELECT * FROM analytics.invoice_daily")
    return {
        (_day(r["day"]), r["region"], r["currency"]): (r["revenue"], r["invoices_issued"], r["invoices_paid"])
        for r in rows
    }


async def actual_activity(conn: Any) -> dict[tuple[date, str], int]:
    rows = await conn.fetch("SELECT * FROM analytics.company_activity_daily")
    return {(_day(r["day"]), r["region"]): r["active_companies"] for r in rows}


async def assert_matches_source(dbs: Databases) -> None:
    """The analytics aggregates equal the Python aggregation of the primary's current rows."""
    source, target = await asyncpg.connect(dbs.source_primary), await asyncpg.connect(dbs.target_dsn)
    try:
        rows = await source_invoices(source)
        assert await actual_invoice_daily(target) == expected_invoice_daily(rows)
        assert await actual_activity(target) == expected_activity(rows)
        events = await target.fetchval("SELECT count(*) FROM analytics.invoice_events")
        assert events == len(rows) + sum(r["status"] == "paid" for r in rows)
    finally:
        await source.close()
        await target.close()
