"""/api/reports: saved report definitions (stored in the analytics database) and their exports.

Definitions are written to the analytics primary (ANALYTICS_WRITE_DATABASE_URL, else ANALYTICS_DATABASE_URL: in
AWS the latter is a read-only standby) and read back from it too, so a report is visible right after it is made.
Exports read the figures through the app's analytics read pool with `analytics.figures`, the code the analytics
endpoints serve, so a file shows exactly the API's numbers for the same months and region.
"""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from analytics.reports import store
from analytics.reports.definitions import Format, ReportIn, add_months, default_period
from analytics.reports.export import render
from analytics.reports.runner import figures_module
from analytics.reports.tables import Figures, collect, parse_month
from app.analytics_auth import require_analytics_token
from app.analytics_db import AnalyticsDatabase, analytics_conn
from app.errors import problem, unprocessable
from app.settings import Settings

MAX_ID: Final = 2**63 - 1
MAX_MONTHS: Final = 120
MONTH_PATTERN: Final = r"^\d{4}-(0[1-9]|1[0-2])$"

router = APIRouter(prefix="/api/reports", dependencies=[Depends(require_analytics_token)])
ReportId = Annotated[int, Path(ge=1, le=MAX_ID)]


class ReportsDatabase(AnalyticsDatabase):
    """The analytics pool, aimed at the writable primary: report definitions are written by the API."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.dsn = settings.analytics_write_database_url or settings.analytics_database_url


async def reports_conn(request: Request) -> AsyncIterator[Any]:
    database: ReportsDatabase = request.app.state.reports_db
    async with database.connection() as conn:
        yield conn


def report_figures() -> Figures:
    """The figures implementation (a dependency, so it is one object for the whole request)."""
    return figures_module()


Conn = Annotated[Any, Depends(reports_conn)]


async def _report(conn: Any, report_id: int) -> store.Report:
    report = await store.get(conn, report_id)
    if report is None:
        raise HTTPException(status_code=404, detail=f"report {report_id} not found")
    return report


@router.post("", status_code=201)
async def create_report(body: ReportIn, conn: Conn) -> dict[str, Any]:
    report = await store.create(conn, body)
    return store.report_json(report, [], None, datetime.now(UTC))


@router.get("")
async def list_reports(conn: Conn) -> list[dict[str, Any]]:
    return await store.reports_json(conn, await store.all_reports(conn), datetime.now(UTC))


@router.get("/{report_id}")
async def get_report(report_id: ReportId, conn: Conn) -> dict[str, Any]:
    [body] = await store.reports_json(conn, [await _report(conn, report_id)], datetime.now(UTC))
    return body


@router.delete("/{report_id}", status_code=204)
async def delete_report(report_id: ReportId, conn: Conn) -> Response:
    if not await store.delete(conn, report_id):
        raise HTTPException(status_code=404, detail=f"report {report_id} not found")
    return Response(status_code=204)


def _period(start: str | None, end: str | None, now: datetime) -> tuple[date, date] | Response:
    """`from`/`to` as first days of months; by default the twelve months ending with the current one."""
    default_start, default_end = default_period(now)
    last = parse_month(end) if end else default_end
    first = parse_month(start) if start else (add_months(last, -11) if end else default_start)
    if first > last:
        return unprocessable([problem(["query", "to"], "must not be before `from`", "value_error", end)])
    if add_months(first, MAX_MONTHS) <= last:
        return unprocessable([problem(["query", "to"], f"at most {MAX_MONTHS} months per export", "value_error", end)])
    return first, last


@router.get("/{report_id}/export")
async def export_report(
    report_id: ReportId,
    conn: Conn,
    figures_conn: Annotated[Any, Depends(analytics_conn)],
    figures: Annotated[Figures, Depends(report_figures)],
    fmt: Annotated[Format | None, Query(alias="format")] = None,
    start: Annotated[str | None, Query(alias="from", pattern=MONTH_PATTERN)] = None,
    end: Annotated[str | None, Query(alias="to", pattern=MONTH_PATTERN)] = None,
) -> Response:
    """The report as a file (`format` defaults to the report's own); Content-Disposition names what and when."""
    report = await _report(conn, report_id)
    now = datetime.now(UTC)
    period = _period(start, end, now)
    if isinstance(period, Response):
        return period
    data = await collect(
        figures, figures_conn, name=report.name, sections=report.sections, region=report.region,
        start=period[0], end=period[1], generated_at=now,
    )  # fmt: skip
    file = render(data, fmt or report.format)
    return Response(
        file.data,
        media_type=file.content_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )
