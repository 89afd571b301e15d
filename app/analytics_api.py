"""GET /api/analytics/mrr, /cohorts, /invoices: the contract's figures (ANALYTICS.md), computed by
analytics/figures.py only, so the API shows exactly what the dashboard, alerts and exports show.

Every call needs a bearer token (checked before the database is touched, so an anonymous caller learns nothing,
not even that analytics is down) and answers `Cache-Control: private, no-store`. Query problems are 422 naming
the parameter. `from`/`to` are calendar months `YYYY-MM`; both default (to: the current UTC month, from: 11 months
before `to`), at most 120 months apart.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from analytics import figures
from analytics.forecast import forecast
from app.analytics_auth import NO_STORE, require_analytics_token
from app.analytics_db import analytics_conn
from app.countries import REGIONS, Region
from app.errors import problem
from app.json_money import MoneyJSONResponse

router = APIRouter(prefix="/api/analytics", dependencies=[Depends(require_analytics_token)])

MAX_MONTHS: Final = 120
DEFAULT_MONTHS: Final = 12
MAX_FORECAST: Final = 24
DEFAULT_FORECAST: Final = 3
MIN_YEAR, MAX_YEAR = 1970, 9998


@dataclass(frozen=True)
class Window:
    """A validated query: months [start, end] (first days) and an optional region."""

    start: date
    end: date
    region: Region | None


def _unprocessable(parameter: str, msg: str) -> HTTPException:
    return HTTPException(status_code=422, detail=[problem(["query", parameter], msg, "value_error")])


def _month(parameter: str, value: str) -> date:
    year, dash, month = value.strip().partition("-")
    if not (dash and len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()):
        raise _unprocessable(parameter, "must be a calendar month YYYY-MM, e.g. 2026-01")
    if not (MIN_YEAR <= int(year) <= MAX_YEAR and 1 <= int(month) <= 12):
        raise _unprocessable(parameter, f"must be a month between {MIN_YEAR}-01 and {MAX_YEAR}-12")
    return date(int(year), int(month), 1)


def current_month() -> date:
    today = datetime.now(UTC).date()
    return today.replace(day=1)


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def window(
    from_: Annotated[str | None, Query(alias="from", max_length=20, description="first month, YYYY-MM")] = None,
    to: Annotated[str | None, Query(max_length=20, description="last month, YYYY-MM (inclusive)")] = None,
    region: Annotated[str | None, Query(max_length=20, description="eu, us or asia; absent: all")] = None,
) -> Window:
    """FastAPI dependency: the validated month range and region of an analytics query."""
    end = _month("to", to) if to is not None else current_month()
    start = _month("from", from_) if from_ is not None else figures.add_months(end, 1 - DEFAULT_MONTHS)
    if start > end:
        raise _unprocessable("from", f"must not be after to ({figures.month_label(end)})")
    if _months_between(start, end) + 1 > MAX_MONTHS:
        raise _unprocessable("from", f"the range from..to spans more than {MAX_MONTHS} months")
    known: Region | None = None
    if region is not None:
        name = region.strip().lower()
        if name not in REGIONS:
            raise _unprocessable("region", f"must be one of {', '.join(REGIONS)}")
        known = name
    return Window(start, end, known)


Conn = Annotated[Any, Depends(analytics_conn)]
Query_ = Annotated[Window, Depends(window)]


def _figures(content: dict[str, Any]) -> MoneyJSONResponse:
    return MoneyJSONResponse(content, headers={"Cache-Control": NO_STORE})


@router.get("/mrr")
async def mrr(query: Query_, conn: Conn) -> MoneyJSONResponse:
    """MRR, ARR, customers, ARPA, movements, churn rates, NRR/GRR and LTV per month from `from` to `to`."""
    return _figures(await figures.mrr_report(conn, start=query.start, end=query.end, region=query.region))


@router.get("/cohorts")
async def cohorts(query: Query_, conn: Conn, metric: Literal["customers", "mrr"] = "customers") -> MoneyJSONResponse:
    """Retention per cohort month in [from, to]: share of customers or of MRR kept, up to `to`."""
    report = await figures.cohort_report(conn, metric=metric, start=query.start, end=query.end, region=query.region)
    return _figures(report)


def _forecast(months: list[dict[str, Any]], end: date, horizon: int) -> list[dict[str, Any]]:
    """`horizon` months after `to`, fitted on the range's complete months (the running month is partial and
    would drag the trend down), so a range ending this month still forecasts the months after it."""
    complete = [m for m in months if m["month"] < figures.month_label(current_month())]
    if not complete or horizon == 0:
        return []
    last = _month("to", complete[-1]["month"])
    skip = _months_between(last, end)
    result = forecast([Decimal(m["invoiced"]) for m in complete], skip + horizon)
    return [
        {
            "month": figures.month_label(figures.add_months(last, point.step)),
            "invoiced": point.invoiced,
            "low": point.low,
            "high": point.high,
        }
        for point in result.points[skip:]
    ]


@router.get("/invoices")
async def invoices(
    query: Query_,
    conn: Conn,
    forecast_months: Annotated[int, Query(alias="forecast", ge=0, le=MAX_FORECAST)] = DEFAULT_FORECAST,
) -> MoneyJSONResponse:
    """Invoiced and collected per month, plus `forecast` months of invoiced with an 80 % interval."""
    report = await figures.invoice_report(conn, start=query.start, end=query.end, region=query.region)
    report["forecast"] = await asyncio.to_thread(_forecast, report["months"], query.end, forecast_months)
    return _figures(report)
