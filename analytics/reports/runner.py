"""`python -m analytics.reports`: mail every saved report that is due, exactly once per (report, due time).

Each run works in two steps. Plan: for every report, each due time since the last one recorded (or since the
report was created) becomes a row of analytics.report_runs — `pending` when it is at most 24 hours old, `skipped`
when older (after downtime nobody wants last week's Monday report five times) — inserted with ON CONFLICT DO
NOTHING on (report, due time), so concurrent runners share one record. Send: each open run is taken under a
transaction-level advisory lock keyed by the run, its status re-read under that lock, the file rendered, mailed
and marked `sent` in the same transaction; a second runner either fails to get the lock or sees `sent`.

A mail failure (after the mailer's own retries) marks the run `failed` with the error and a next attempt time
(backoff 5 min, 10 min, ... up to 6 h), never `sent`; later runs retry it while its due time is under 24 hours
old. The one window left is a crash after the mail server accepted the message and before the commit: then the
run is still open and the next runner sends it again (at least once across that crash, exactly once otherwise).
"""

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import asyncpg

from analytics import figures, migrate
from analytics.mailer import Attachment, Mailer, MailError, mailer_from_env
from analytics.reports import store
from analytics.reports.definitions import default_period, due_times
from analytics.reports.export import display, render
from analytics.reports.tables import Figures, ReportData, collect
from contracts.environment import unknown_variables_error

TARGET_ENV: Final = migrate.TARGET_ENV
CATCH_UP: Final = timedelta(hours=24)
RETRY_BASE: Final = timedelta(minutes=5)  # the AWS schedule runs every 5 minutes
RETRY_CAP: Final = timedelta(hours=6)
LOCK_BASE: Final = 7_240_016 << 32  # advisory-lock key space of report runs: LOCK_BASE + run id
OPEN: Final = ("pending", "failed")

log = logging.getLogger("analytics.reports")


class RunnerError(RuntimeError):
    """The runner could not start (database unreachable or not migrated); the message says what to do."""


@dataclass
class RunSummary:
    sent: list[tuple[int, datetime]] = field(default_factory=list)
    failed: list[tuple[int, datetime, str]] = field(default_factory=list)
    skipped: int = 0
    busy: int = 0  # runs another runner was sending at that moment


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 5 min, 10 min, 20 min, ... at most 6 h."""
    delay: timedelta = min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)
    return delay


async def plan(conn: Any, now: datetime, summary: RunSummary) -> None:
    """Record each report's due times up to `now`: pending within CATCH_UP, skipped before."""
    latest = dict(await conn.fetch("SELECT report_id, max(due_at) FROM analytics.report_runs GROUP BY report_id"))
    for report in await store.all_reports(conn):
        since = max(report.created_at, latest.get(report.id, report.created_at))
        due = due_times(report.schedule, since, now)
        old = [moment for moment in due if moment < now - CATCH_UP]
        fresh = [moment for moment in due if moment >= now - CATCH_UP]
        if old:
            inserted = await conn.fetchval(
                """
                WITH rows AS (
                    INSERT INTO analytics.report_runs (report_id, due_at, status, finished_at, last_error)
                    SELECT $1, due, 'skipped', $3, 'due more than 24 hours before a runner saw it; not sent'
                    FROM unnest($2::timestamptz[]) AS due
                    ON CONFLICT ON CONSTRAINT report_runs_once DO NOTHING RETURNING 1)
                SELECT count(*) FROM rows
                """,
                report.id,
                old,
                now,
            )
            summary.skipped += inserted
        if fresh:
            await conn.execute(
                """
                INSERT INTO analytics.report_runs (report_id, due_at, next_attempt_at)
                SELECT $1, due, due FROM unnest($2::timestamptz[]) AS due
                ON CONFLICT ON CONSTRAINT report_runs_once DO NOTHING
                """,
                report.id,
                fresh,
            )


def _message(report: store.Report, due_at: datetime, data: ReportData, attachment: Attachment) -> tuple[str, str]:
    period = f"{data.start:%Y-%m} to {data.end:%Y-%m}"
    subject = f"{report.name}: {period} ({report.region or 'all regions'})"
    lines = [
        f"{report.name}, due {due_at:%Y-%m-%d %H:%M} UTC (schedule {report.schedule!r}).",
        f"Period {period}, region {report.region or 'all regions'}, figures as of {data.as_of or 'no data yet'}.",
    ]
    mrr = data.table("mrr")
    if mrr is not None and mrr.rows:
        month, value = mrr.rows[-1][0], mrr.rows[-1][1]
        lines.append(f"MRR {display(month, 'month')}: {display(value, 'money')} {data.currency or ''}".rstrip())
    lines.append(f"Attached: {attachment.filename}")
    return subject, "\n".join(lines) + "\n"


async def _send_one(conn: Any, run: Any, mailer: Mailer, figures: Figures, now: datetime, summary: RunSummary) -> None:
    report = store.Report(
        **{key: run[key] for key in store.Report.__dataclass_fields__ if key != "id"}, id=run["report_id"]
    )
    due_at: datetime = run["due_at"]
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LOCK_BASE + run["run_id"]):
            summary.busy += 1
            return
        status = await conn.fetchval("SELECT status FROM analytics.report_runs WHERE id = $1", run["run_id"])
        if status not in OPEN:
            return  # another runner sent it between our listing and our lock
        try:
            start, end = default_period(due_at)
            data = await collect(
                figures, conn, name=report.name, sections=report.sections, region=report.region,
                start=start, end=end, generated_at=now,
            )  # fmt: skip
            attachment = render(data, report.format)
            subject, text = _message(report, due_at, data, attachment)
            await asyncio.to_thread(
                mailer.send, to=report.recipients, subject=subject, text=text, attachments=[attachment]
            )
        except MailError as exc:
            await _record_failure(conn, run, str(exc), now, summary)
            return
        except Exception as exc:  # a report that cannot be built must not stop the others; it is recorded
            await _record_failure(conn, run, f"cannot build the report: {type(exc).__name__}: {exc}", now, summary)
            return
        await conn.execute(
            """
            UPDATE analytics.report_runs SET status = 'sent', attempts = attempts + 1, last_error = NULL,
                finished_at = $2 WHERE id = $1
            """,
            run["run_id"],
            now,
        )
        summary.sent.append((report.id, due_at))


async def _record_failure(conn: Any, run: Any, error: str, now: datetime, summary: RunSummary) -> None:
    attempts = run["attempts"] + 1
    await conn.execute(
        """
        UPDATE analytics.report_runs SET status = 'failed', attempts = $2, last_error = $3, next_attempt_at = $4
        WHERE id = $1
        """,
        run["run_id"],
        attempts,
        error,
        now + retry_delay(attempts),
    )
    summary.failed.append((run["report_id"], run["due_at"], error))


async def run_once(conn: Any, mailer: Mailer, figures: Figures, now: datetime | None = None) -> RunSummary:
    """One pass: plan, then send every open run whose next attempt is due and whose due time is recent enough."""
    now = now or datetime.now(UTC)
    summary = RunSummary()
    await plan(conn, now, summary)
    runs = await conn.fetch(
        """
        SELECT runs.id AS run_id, runs.report_id, runs.due_at, runs.attempts,
               r.name, r.sections, r.region, r.schedule, r.format, r.recipients, r.created_at
        FROM analytics.report_runs AS runs JOIN analytics.reports AS r ON r.id = runs.report_id
        WHERE runs.status IN ('pending', 'failed') AND runs.next_attempt_at <= $1 AND runs.due_at >= $2
        ORDER BY runs.due_at, runs.id
        """,
        now,
        now - CATCH_UP,
    )
    for run in runs:
        await _send_one(conn, run, mailer, figures, now, summary)
    return summary


def figures_module() -> Figures:
    """analytics.figures, the one implementation of the contract's figures (the API serves the same)."""
    return cast(Figures, figures)


async def _main(dsn: str, mailer: Mailer) -> RunSummary:
    try:
        conn = await asyncpg.connect(dsn, timeout=15, server_settings={"application_name": "analytics-reports"})
    except (TimeoutError, OSError, asyncpg.PostgresError, ValueError) as exc:
        raise RunnerError(f"cannot connect to the analytics database ({TARGET_ENV}): {exc}") from None
    try:
        return await run_once(conn, mailer, figures_module())
    except asyncpg.UndefinedTableError:
        raise RunnerError("the analytics database has no reports tables; run `python -m analytics.migrate`") from None
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=os.environ.get(TARGET_ENV), help=f"analytics database (env {TARGET_ENV})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if unknown := unknown_variables_error(os.environ):  # a typo'd name must not leave its setting at the default
        parser.error(unknown)
    if not args.dsn:
        parser.error(f"the analytics database is not set: pass --dsn or set {TARGET_ENV}")
    try:
        mailer = mailer_from_env()
        summary = asyncio.run(_main(args.dsn, mailer))
    except (MailError, RunnerError) as exc:
        print(f"analytics.reports: {exc}", file=sys.stderr)
        return 2
    for report_id, due_at in summary.sent:
        print(f"analytics.reports: sent report {report_id} due {due_at.isoformat()}")
    for report_id, due_at, error in summary.failed:
        print(f"analytics.reports: FAILED report {report_id} due {due_at.isoformat()}: {error}", file=sys.stderr)
    print(
        f"analytics.reports: {len(summary.sent)} sent, {len(summary.failed)} failed (retried later), "
        f"{summary.skipped} skipped as older than 24 h, {summary.busy} left to another runner"
    )
    return 1 if summary.failed else 0
