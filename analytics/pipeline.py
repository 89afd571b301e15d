"""`python -m analytics.pipeline`: copy new and changed rows from the main database (a replica) into analytics.

Per stream, rows are read by `(updated_at, id)` keyset from the stored watermark, in batches. Each batch is
COPYed into a temporary staging table and merged with idempotent upserts, and the watermark moves in that same
transaction, so a crash at any point leaves either the whole batch applied with its watermark or neither: a
re-run neither loses nor double-counts a row. Each run starts `overlap` seconds before the watermark, because
`updated_at` is the writing transaction's start time: a long transaction (or one the replica has not replayed yet)
can commit a row older than rows already copied; the overlap re-reads those, and the merge makes that harmless.
Each batch also brings the revenue metrics of the companies it touched up to date (analytics/revenue.py) in that
transaction; after it commits, the continuous aggregates are refreshed for the buckets it changed
(analytics/refresh.py).
"""

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

import asyncpg
import pycountry

from analytics import alerts, migrate, refresh, revenue
from analytics.refresh import Window
from analytics.streams import STREAMS, Stream
from app.credentials import CredentialsError, iam_login_url
from contracts.environment import (
    ANALYTICS_BASE_CURRENCY,
    ANALYTICS_BATCH_SIZE,
    ANALYTICS_OVERLAP_SECONDS,
    ANALYTICS_SOURCE_IAM_AUTH,
    ANALYTICS_SOURCE_URL,
    unknown_variables_error,
)

SOURCE_ENV: Final = ANALYTICS_SOURCE_URL
SOURCE_IAM_ENV: Final = ANALYTICS_SOURCE_IAM_AUTH  # true: log in to the source with an RDS IAM token
TARGET_ENV: Final = migrate.TARGET_ENV
BATCH_ENV: Final = ANALYTICS_BATCH_SIZE
OVERLAP_ENV: Final = ANALYTICS_OVERLAP_SECONDS
BASE_CURRENCY_ENV: Final = ANALYTICS_BASE_CURRENCY
DEFAULT_BASE_CURRENCY: Final = "USD"
DEFAULT_BATCH: Final = 5000
DEFAULT_OVERLAP_S: Final = 300.0
RUN_LOCK: Final = 7_240_009  # advisory lock in the analytics database: one run at a time
BEGINNING: Final = (datetime(1970, 1, 1, tzinfo=UTC), -(2**63))

log = logging.getLogger("analytics.pipeline")
N = TypeVar("N", int, float)
Key = tuple[datetime, int]


class PipelineError(RuntimeError):
    """A run could not proceed; the message names the database or stream and what to do."""


@dataclass(frozen=True)
class Progress:
    """Reported after every committed batch (and logged), so long runs show where they are."""

    stream: str
    batch: int
    rows: int  # rows applied by this run so far
    backlog: int  # rows the run expected to read when the stream started
    watermark: Key
    elapsed_s: float

    def line(self) -> str:
        rate = self.rows / self.elapsed_s if self.elapsed_s > 0 else 0.0
        done = f"{self.rows}/{self.backlog}" if self.backlog else str(self.rows)
        return (
            f"{self.stream}: batch {self.batch}, {done} rows, {rate:,.0f} rows/s, "
            f"watermark {self.watermark[0].isoformat()} #{self.watermark[1]}"
        )


@dataclass
class RunReport:
    rows: dict[str, int] = field(default_factory=dict)  # rows applied per stream (overlap re-reads included)
    batches: dict[str, int] = field(default_factory=dict)
    refreshes: list[Window] = field(default_factory=list)  # aggregate refreshes due after each batch's commit


def _log_progress(progress: Progress) -> None:
    log.info("%s", progress.line())


# The pipeline's statements are small per batch, but their temp-table joins look huge to the planner (a temp table
# has no statistics), so PostgreSQL's JIT would compile each one: measured 1.3 s of compilation for a statement that
# then ran in milliseconds, 80 % of a run. Off for the pipeline's sessions only.
TARGET_SETTINGS: Final = {"application_name": "analytics-pipeline", "jit": "off"}
SOURCE_SETTINGS: Final = {"application_name": "analytics-pipeline"}


async def _connect(dsn: str, what: str, env: str, settings: dict[str, str]) -> Any:
    try:
        return await asyncpg.connect(dsn, timeout=15, server_settings=settings)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        raise PipelineError(f"cannot connect to the {what} ({env}): {exc}") from None


async def _load_watermark(target: Any, stream: Stream) -> Key | None:
    try:
        row = await target.fetchrow(
            "SELECT watermark_ts, watermark_id FROM analytics.pipeline_state WHERE stream = $1", stream.name
        )
    except asyncpg.UndefinedTableError:
        raise PipelineError(
            f"the analytics database has no analytics schema; run `python -m analytics.migrate` ({TARGET_ENV})"
        ) from None
    return None if row is None else (row["watermark_ts"], row["watermark_id"])


async def _prepare_staging(target: Any, stream: Stream) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in stream.staging_columns)
    await target.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stream.staging_table} ({columns}) ON COMMIT DELETE ROWS")
    for statement in revenue.TEMP_TABLES:
        await target.execute(statement)


@dataclass(frozen=True)
class Target:
    """The analytics connection and what the run does after each commit."""

    conn: Any
    timescale: bool
    report: "RunReport"

    async def after_commit(self, days: Sequence[Any]) -> None:
        calls = refresh.windows(day["day"] for day in days)
        self.report.refreshes.extend(calls)
        if self.timescale:
            await refresh.refresh(self.conn, calls)


async def _apply_batch(target: Target, stream: Stream, rows: Sequence[Any], watermark: Key) -> None:
    """Stage, merge, update the metrics and advance the watermark atomically; then refresh the aggregates."""
    conn = target.conn
    async with conn.transaction():
        await conn.copy_records_to_table(
            stream.staging_table, records=rows, columns=stream.column_names, schema_name="pg_temp"
        )
        for statement in stream.merges:
            await conn.execute(statement)
        days = await conn.fetch(refresh.TOUCHED_DAYS)
        await conn.execute(
            """
            INSERT INTO analytics.pipeline_state (stream, watermark_ts, watermark_id, rows_total)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (stream) DO UPDATE SET watermark_ts = EXCLUDED.watermark_ts,
                watermark_id = EXCLUDED.watermark_id,
                rows_total = analytics.pipeline_state.rows_total + EXCLUDED.rows_total, updated_at = now()
            """,
            stream.name,
            *watermark,
            len(rows),
        )
    await target.after_commit(days)


async def _settle_base_currency(target: Target, base_currency: str) -> None:
    """Record the base currency; if it changed, reconvert every line and event and rebuild every company."""
    conn = target.conn
    for statement in revenue.TEMP_TABLES:
        await conn.execute(statement)
    async with conn.transaction():
        stored = await conn.fetchval("SELECT base_currency FROM analytics.revenue_settings FOR UPDATE")
        if stored == base_currency:
            return
        await conn.execute(
            "INSERT INTO analytics.revenue_settings (base_currency) VALUES ($1) ON CONFLICT (singleton) DO UPDATE"
            " SET base_currency = EXCLUDED.base_currency, updated_at = now()",
            base_currency,
        )
        if stored is not None:
            log.warning("base currency changed from %s to %s: reconverting every figure", stored, base_currency)
        for statement in revenue.REBASE:
            await conn.execute(statement)
        days = await conn.fetch(refresh.TOUCHED_DAYS)
    await target.after_commit(days)


async def sync_stream(
    source: Any,
    target: Target,
    stream: Stream,
    *,
    batch_size: int,
    overlap: timedelta,
    progress: Callable[[Progress], None],
) -> tuple[int, int]:
    """Copy one stream up to what the source shows now; returns (rows applied, batches)."""
    stored = await _load_watermark(target.conn, stream)
    watermark = stored or BEGINNING
    # Without an overlap, resume exactly after the watermark row (its id breaks the timestamp tie).
    cursor = stored or BEGINNING
    if stored is not None and overlap:
        cursor = (stored[0] - overlap, BEGINNING[1])
    backlog = await source.fetchval(
        f"SELECT count(*) FROM {stream.source_table} WHERE (updated_at, id) > ($1, $2)", *cursor
    )
    await _prepare_staging(target.conn, stream)
    started = time.monotonic()
    rows_done = batches = 0
    while True:
        rows = await source.fetch(stream.source_query, *cursor, batch_size)
        if not rows:
            break
        cursor = (rows[-1]["updated_at"], rows[-1]["id"])
        watermark = max(watermark, cursor)  # rows re-read inside the overlap never move it back
        await _apply_batch(target, stream, rows, watermark)
        rows_done += len(rows)
        batches += 1
        progress(Progress(stream.name, batches, rows_done, backlog, watermark, time.monotonic() - started))
        if len(rows) < batch_size:
            break
    return rows_done, batches


async def run(
    source_dsn: str,
    target_dsn: str,
    *,
    batch_size: int = DEFAULT_BATCH,
    overlap: timedelta = timedelta(seconds=DEFAULT_OVERLAP_S),
    progress: Callable[[Progress], None] = _log_progress,
    base_currency: str = DEFAULT_BASE_CURRENCY,
) -> RunReport:
    """One pipeline run over every stream. Raises PipelineError for anything an operator must fix."""
    source = await _connect(source_dsn, "source database", SOURCE_ENV, SOURCE_SETTINGS)
    try:
        conn = await _connect(target_dsn, "analytics database", TARGET_ENV, TARGET_SETTINGS)
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RUN_LOCK):
                raise PipelineError("another pipeline run holds the analytics database's run lock; not starting")
            if not await source.fetchval("SELECT pg_is_in_recovery()"):
                log.warning("the source is a primary, not a replica: point %s at a read replica", SOURCE_ENV)
            started_at = await source.fetchval("SELECT now()")
            report = RunReport()
            target = Target(conn=conn, timescale=await refresh.is_timescale(conn), report=report)
            try:
                await _settle_base_currency(target, base_currency)
            except asyncpg.UndefinedTableError:
                raise PipelineError(
                    f"the analytics database lacks the revenue tables; run `python -m analytics.migrate` ({TARGET_ENV})"
                ) from None
            for stream in STREAMS:
                try:
                    rows, batches = await sync_stream(
                        source, target, stream, batch_size=batch_size, overlap=overlap, progress=progress
                    )
                except asyncpg.UndefinedTableError as exc:
                    raise PipelineError(f"{stream.name}: the source database lacks a table ({exc})") from None
                report.rows[stream.name], report.batches[stream.name] = rows, batches
                log.info("%s: done, %d rows in %d batches", stream.name, rows, batches)
            # The figures' asOf: everything the source had committed when this run began is in.
            await conn.execute("UPDATE analytics.revenue_settings SET synced_at = $1", started_at)
            await alerts.evaluate_after_run(conn)  # after the figures moved: fire what crossed (dashboard)
            return report
        finally:
            await conn.close()
    finally:
        await source.close()


def _env_number(name: str, default: N, minimum: N) -> N:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        raise PipelineError(f"{name}={raw!r} is not {'an integer' if kind is int else 'a number'}") from None
    if value < minimum:
        raise PipelineError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m analytics.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.environ.get(SOURCE_ENV), help=f"main-database replica ({SOURCE_ENV})")
    parser.add_argument("--target", default=os.environ.get(TARGET_ENV), help=f"analytics database ({TARGET_ENV})")
    parser.add_argument("--batch-size", type=int, default=None, help=f"rows per batch ({BATCH_ENV}, {DEFAULT_BATCH})")
    parser.add_argument(
        "--overlap-seconds", type=float, default=None, help=f"re-read window ({OVERLAP_ENV}, {DEFAULT_OVERLAP_S:g})"
    )
    parser.add_argument(
        "--base-currency",
        default=os.environ.get(BASE_CURRENCY_ENV) or DEFAULT_BASE_CURRENCY,
        help=f"currency of the figures ({BASE_CURRENCY_ENV}, {DEFAULT_BASE_CURRENCY})",
    )
    parser.add_argument("--no-migrate", action="store_true", help="do not apply analytics migrations first")
    args = parser.parse_args(argv)
    if unknown := unknown_variables_error(os.environ):  # a typo'd name must not leave its setting at the default
        parser.error(unknown)
    for value, option, env in ((args.source, "--source", SOURCE_ENV), (args.target, "--target", TARGET_ENV)):
        if not value:
            parser.error(f"{option} is not set: pass it or set {env}")
    try:
        if args.batch_size is None:
            args.batch_size = _env_number(BATCH_ENV, DEFAULT_BATCH, 1)
        if args.overlap_seconds is None:
            args.overlap_seconds = _env_number(OVERLAP_ENV, DEFAULT_OVERLAP_S, 0.0)
    except PipelineError as exc:
        parser.error(str(exc))
    if args.batch_size < 1 or args.overlap_seconds < 0:
        parser.error("--batch-size must be at least 1 and --overlap-seconds at least 0")
    if pycountry.currencies.get(alpha_3=str(args.base_currency).upper()) is None:
        parser.error(f"{BASE_CURRENCY_ENV}={args.base_currency!r} is not an ISO 4217 currency code (e.g. USD, EUR)")
    args.base_currency = str(args.base_currency).upper()
    return args


def _source_login(url: str) -> str:
    """With ANALYTICS_SOURCE_IAM_AUTH=true (AWS), the source URL's role logs in with an RDS IAM token signed now
    (app/credentials.py; the run connects once, well within the token's 15 minutes)."""
    if os.environ.get(SOURCE_IAM_ENV, "").lower() not in ("1", "true"):
        return url
    try:
        return iam_login_url(url)
    except CredentialsError as exc:
        raise PipelineError(f"cannot log in to the source database ({SOURCE_IAM_ENV}): {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = _parse(argv)
    try:
        if not args.no_migrate and migrate.main(["--dsn", args.target]) != 0:
            return 1
        report = asyncio.run(
            run(
                _source_login(args.source),
                args.target,
                batch_size=args.batch_size,
                overlap=timedelta(seconds=args.overlap_seconds),
                base_currency=args.base_currency,
            )
        )
    except PipelineError as exc:
        print(f"analytics.pipeline: {exc}", file=sys.stderr)
        return 1
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        print(
            f"analytics.pipeline: run stopped by a database error ({type(exc).__name__}: {exc}); "
            "committed batches are kept and the next run resumes from their watermark",
            file=sys.stderr,
        )
        return 1
    total = sum(report.rows.values())
    print(f"analytics.pipeline: done, {total} rows ({', '.join(f'{k} {v}' for k, v in report.rows.items())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
