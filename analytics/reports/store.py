"""The analytics.reports and analytics.report_runs tables: every SQL statement about saved reports lives here."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from analytics.reports.definitions import Format, ReportIn, Section, next_due

_COLUMNS: Final = "id, name, sections, region, schedule, format, recipients, created_at"
RECENT_RUNS: Final = 10


@dataclass(frozen=True)
class Report:
    id: int
    name: str
    sections: tuple[Section, ...]
    region: str | None
    schedule: str
    format: Format
    recipients: tuple[str, ...]
    created_at: datetime


def report_from_row(row: Any) -> Report:
    return Report(
        id=row["id"],
        name=row["name"],
        sections=tuple(row["sections"]),
        region=row["region"],
        schedule=row["schedule"],
        format=row["format"],
        recipients=tuple(row["recipients"]),
        created_at=row["created_at"],
    )


async def create(conn: Any, body: ReportIn) -> Report:
    row = await conn.fetchrow(
        f"""
        INSERT INTO analytics.reports (name, sections, region, schedule, format, recipients)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}
        """,
        body.name,
        list(body.sections),
        body.region,
        body.schedule,
        body.format,
        list(body.recipients),
    )
    return report_from_row(row)


async def get(conn: Any, report_id: int) -> Report | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM analytics.reports WHERE id = $1", report_id)
    return None if row is None else report_from_row(row)


async def all_reports(conn: Any) -> list[Report]:
    return [report_from_row(row) for row in await conn.fetch(f"SELECT {_COLUMNS} FROM analytics.reports ORDER BY id")]


async def delete(conn: Any, report_id: int) -> bool:
    """Deletes the report and its run history; False when there was no such report."""
    return bool(await conn.fetchval("DELETE FROM analytics.reports WHERE id = $1 RETURNING true", report_id))


async def recent_runs(conn: Any, report_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The newest RECENT_RUNS runs of each report, newest first."""
    rows = await conn.fetch(
        """
        SELECT report_id, due_at, status, attempts, last_error, next_attempt_at, finished_at
        FROM (SELECT *, row_number() OVER (PARTITION BY report_id ORDER BY due_at DESC) AS n
              FROM analytics.report_runs WHERE report_id = ANY($1::bigint[])) AS runs
        WHERE n <= $2 ORDER BY report_id, due_at DESC
        """,
        list(report_ids),
        RECENT_RUNS,
    )
    runs: dict[int, list[Any]] = {report_id: [] for report_id in report_ids}
    for row in rows:
        runs[row["report_id"]].append(row)
    return runs


async def last_sent(conn: Any, report_ids: Sequence[int]) -> dict[int, datetime]:
    rows = await conn.fetch(
        """
        SELECT report_id, max(finished_at) AS sent_at FROM analytics.report_runs
        WHERE report_id = ANY($1::bigint[]) AND status = 'sent' GROUP BY report_id
        """,
        list(report_ids),
    )
    return {row["report_id"]: row["sent_at"] for row in rows}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def report_json(report: Report, runs: Sequence[Any], sent_at: datetime | None, now: datetime) -> dict[str, Any]:
    """The API's view: the definition, when it last went out, when it is next due, and the newest error."""
    newest = runs[0] if runs else None
    return {
        "id": report.id,
        "name": report.name,
        "sections": list(report.sections),
        "region": report.region,
        "schedule": report.schedule,
        "format": report.format,
        "recipients": list(report.recipients),
        "createdAt": report.created_at.isoformat(),
        "lastRunAt": _iso(sent_at),
        "nextRunAt": next_due(report.schedule, max(now, report.created_at)).isoformat(),
        "lastError": newest["last_error"] if newest is not None and newest["status"] == "failed" else None,
        "runs": [
            {
                "dueAt": run["due_at"].isoformat(),
                "status": run["status"],
                "attempts": run["attempts"],
                "finishedAt": _iso(run["finished_at"]),
                "nextAttemptAt": _iso(run["next_attempt_at"]) if run["status"] in ("pending", "failed") else None,
                "error": run["last_error"],
            }
            for run in runs
        ],
    }


async def reports_json(conn: Any, reports: Sequence[Report], now: datetime) -> list[dict[str, Any]]:
    ids = [report.id for report in reports]
    runs, sent = await recent_runs(conn, ids), await last_sent(conn, ids)
    return [report_json(report, runs[report.id], sent.get(report.id), now) for report in reports]
