"""Refresh the continuous aggregates over invoice events for exactly the buckets a committed batch changed.

Real-time aggregation only covers buckets not yet materialised, so on TimescaleDB a void, payment or re-dated
invoice of a materialised day stays wrong until the hourly policy runs (issue 19, item 14). After each batch
commits, the pipeline refreshes every aggregate over `analytics.invoice_events` for the days (or months) its
events changed in, coalesced into runs of adjacent buckets. TimescaleDB refreshes only buckets that fit entirely
inside the window (refresh_continuous_aggregate reference), so windows are bucket-aligned, in UTC as the buckets
are. `refresh_continuous_aggregate` cannot run inside a transaction block: it runs after the batch's commit.
On plain PostgreSQL the aggregates are views and there is nothing to refresh; the windows are still computed.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from analytics.timescale import Bucket

# Every aggregate over analytics.invoice_events and its bucket (tests check this against the database's views).
EVENT_AGGREGATES: Final[Mapping[str, Bucket]] = {
    "analytics.invoice_daily": "day",
    "analytics.company_activity_daily": "day",
    "analytics.invoice_monthly": "month",
}

TOUCHED_DAYS: Final = "SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date AS day FROM pg_temp.events_touched ORDER BY day"


@dataclass(frozen=True)
class Window:
    """One refresh call: [start, end) in UTC, aligned to the aggregate's buckets."""

    view: str
    start: datetime
    end: datetime

    def sql(self) -> str:
        # Our own view names and datetimes: no outside input is formatted in.
        return (
            f"CALL refresh_continuous_aggregate('{self.view}', "
            f"'{self.start.isoformat()}'::timestamptz, '{self.end.isoformat()}'::timestamptz)"
        )


def _bucket_start(day: date, bucket: Bucket) -> date:
    return day.replace(day=1) if bucket == "month" else day


def _next_bucket(start: date, bucket: Bucket) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def bucket_runs(days: Iterable[date], bucket: Bucket) -> list[tuple[date, date]]:
    """The buckets containing `days`, as [start, end) runs of adjacent buckets."""
    runs: list[tuple[date, date]] = []
    for start in sorted({_bucket_start(day, bucket) for day in days}):
        end = _next_bucket(start, bucket)
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def windows(days: Iterable[date], aggregates: Mapping[str, Bucket] = EVENT_AGGREGATES) -> list[Window]:
    """Every refresh call for a batch that changed events on `days`."""
    touched = list(days)
    return [
        Window(view, _midnight(start), _midnight(end))
        for view, bucket in aggregates.items()
        for start, end in bucket_runs(touched, bucket)
    ]


async def is_timescale(conn: Any) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')"))


async def refresh(conn: Any, calls: Iterable[Window]) -> None:
    """Issue the refresh calls (outside any transaction: the caller has committed)."""
    for call in calls:
        await conn.execute(call.sql())
