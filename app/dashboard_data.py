"""Everything one dashboard page shows, read in one analytics connection through the API's own functions."""

import asyncio
from typing import Any, Final

from fastapi import Request

from analytics import figures
from analytics.alerts import Firing
from app.analytics_api import DEFAULT_FORECAST
from app.analytics_api import _forecast as invoice_forecast  # the /invoices endpoint's forecast step, shared
from app.analytics_db import AnalyticsDatabase
from app.countries import REGIONS
from app.dashboard_query import DashboardQuery, add_months
from app.dashboard_view import panels
from app.request_summary import request_summary

RECENT_FIRINGS: Final = 10


async def invoice_figures(conn: Any, query: DashboardQuery) -> dict[str, Any]:
    """What GET /api/analytics/invoices answers for this query (default forecast), by the endpoint's own steps."""
    report = await figures.invoice_report(conn, start=query.start, end=query.end, region=query.region)
    report["forecast"] = await asyncio.to_thread(invoice_forecast, report["months"], query.end, DEFAULT_FORECAST)
    return report


def _requests_by_region(rows: list[dict[str, Any]], region: str | None) -> list[dict[str, Any]]:
    """One row per shown region, zeros where no request was recorded in the window."""
    found = {row["region"]: row for row in rows}
    empty = {"requests": 0, "ratePerSecond": 0.0, "recentRatePerSecond": 0.0, "p95Ms": None, "serverErrors": 0}
    return [found.get(r, {"region": r, **empty}) for r in ((region,) if region else REGIONS)]


async def gather(request: Request, query: DashboardQuery) -> dict[str, Any]:
    database: AnalyticsDatabase = request.app.state.analytics
    async with database.connection() as conn:
        # One month earlier than shown, so the last month's tiles can say what changed (months are computed from
        # the start of history whatever `start` says, so the shown months are unaffected).
        mrr = await figures.mrr_report(
            conn, start=min(query.start, add_months(query.end, -1)), end=query.end, region=query.region
        )
        cohorts = await figures.cohort_report(
            conn, metric=query.cohort, start=query.start, end=query.end, region=query.region
        )
        invoices = await invoice_figures(conn, query)
        requests = await request_summary(conn, query.region)
        firings = await conn.fetch("SELECT * FROM analytics.alert_firings ORDER BY id DESC LIMIT $1", RECENT_FIRINGS)
    return {
        "panels": panels(
            mrr, cohorts, invoices, _requests_by_region(requests, query.region), shown_from=f"{query.start:%Y-%m}"
        ),
        "firings": [{"summary": Firing.from_row(row).subject()} for row in firings],
    }
