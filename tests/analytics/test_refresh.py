"""Continuous-aggregate refresh after each batch (issue 19, item 14): the right windows, for every aggregate over
invoice events, issued after the batch's commit. The local cluster is plain PostgreSQL, so the TimescaleDB call
itself is recorded instead of executed; the windows come from the real pipeline over real changes."""

from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest

from analytics import refresh
from analytics.refresh import EVENT_AGGREGATES, Window, bucket_runs, windows
from tests.analytics.helpers import Databases
from tests.analytics.revenue_helpers import pipeline


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_adjacent_buckets_coalesce_and_gaps_split() -> None:
    days = [date(2026, 1, 31), date(2026, 1, 30), date(2026, 2, 2), date(2026, 1, 30), date(2026, 4, 15)]
    assert bucket_runs(days, "day") == [
        (date(2026, 1, 30), date(2026, 2, 1)),
        (date(2026, 2, 2), date(2026, 2, 3)),
        (date(2026, 4, 15), date(2026, 4, 16)),
    ]
    assert bucket_runs(days, "month") == [(date(2026, 1, 1), date(2026, 3, 1)), (date(2026, 4, 1), date(2026, 5, 1))]
    assert bucket_runs([date(2026, 12, 31)], "month") == [(date(2026, 12, 1), date(2027, 1, 1))]
    assert windows([]) == []


def test_window_sql_names_the_view_and_utc_bounds() -> None:
    call = Window("analytics.invoice_daily", _utc(2026, 1, 30), _utc(2026, 2, 1))
    assert call.sql() == (
        "CALL refresh_continuous_aggregate('analytics.invoice_daily', "
        "'2026-01-30T00:00:00+00:00'::timestamptz, '2026-02-01T00:00:00+00:00'::timestamptz)"
    )


async def test_every_aggregate_over_invoice_events_is_refreshed(dbs: Databases) -> None:
    conn = await asyncpg.connect(dbs.target_dsn)
    try:
        views = await conn.fetch(
            "SELECT view_schema || '.' || view_name AS view FROM information_schema.view_table_usage"
            " WHERE table_schema = 'analytics' AND table_name = 'invoice_events'"
        )
    finally:
        await conn.close()
    assert {r["view"] for r in views} == set(EVENT_AGGREGATES)


async def _invoice(conn: Any, company: int, issued: datetime, status: str = "issued") -> int:
    invoice_id: int = await conn.fetchval(
        "INSERT INTO invoices (company_id, amount, currency, status, issued_at) VALUES ($1, 10, 'USD', $2, $3)"
        " RETURNING id",
        company,
        status,
        issued,
    )
    return invoice_id


async def test_refresh_covers_exactly_the_changed_days_after_commit(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued: list[tuple[bool, list[Window]]] = []

    async def record(conn: Any, calls: list[Window]) -> None:
        issued.append((conn.is_in_transaction(), list(calls)))

    async def timescale(conn: Any) -> bool:
        return True

    monkeypatch.setattr(refresh, "refresh", record)
    monkeypatch.setattr(refresh, "is_timescale", timescale)
    source = await asyncpg.connect(dbs.source_primary)
    try:
        company = await source.fetchval("INSERT INTO companies (name, region) VALUES ('a', 'eu') RETURNING id")
        jan10 = await _invoice(source, company, _utc(2026, 1, 10))
        await _invoice(source, company, _utc(2026, 1, 11))
        march = await _invoice(source, company, _utc(2026, 3, 5))
        await pipeline(dbs)
        issued.clear()
        # A void on Jan 10 and a payment on Feb 20 of the March invoice's neighbour: the days of those events only.
        await source.execute("UPDATE invoices SET status = 'void' WHERE id = $1", jan10)
        await source.execute(
            "UPDATE invoices SET status = 'paid', paid_at = '2026-03-20T12:00:00Z' WHERE id = $1", march
        )
        report = await pipeline(dbs)
    finally:
        await source.close()

    assert all(not in_transaction for in_transaction, _ in issued)  # after the batch's commit
    calls = [call for _, batch in issued for call in batch]
    assert calls == report.refreshes
    by_view: dict[str, list[tuple[datetime, datetime]]] = {}
    for call in calls:
        by_view.setdefault(call.view, []).append((call.start, call.end))
    day_windows = [(_utc(2026, 1, 10), _utc(2026, 1, 11)), (_utc(2026, 3, 5), _utc(2026, 3, 6)),
                   (_utc(2026, 3, 20), _utc(2026, 3, 21))]  # fmt: skip
    assert by_view == {
        "analytics.invoice_daily": day_windows,
        "analytics.company_activity_daily": day_windows,
        "analytics.invoice_monthly": [(_utc(2026, 1, 1), _utc(2026, 2, 1)), (_utc(2026, 3, 1), _utc(2026, 4, 1))],
    }
