"""`GET /dashboard` (server-rendered, Jinja2) and `GET /dashboard/panels`, the fragment the page's script swaps in
when the stream says new data landed.

The page shows the API's figures for the same query (analytics/figures.py, the functions the API endpoints call),
laid out by app/dashboard_view.py. Signed-out browsers are sent to the sign-in form.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.analytics_db import AnalyticsUnavailable
from app.countries import REGIONS
from app.dashboard_data import gather
from app.dashboard_query import DashboardQuery, QueryError
from app.pages import DASHBOARD, PAGE_HEADERS, SIGN_IN, render, sessions

router = APIRouter(include_in_schema=False)


async def _model(request: Request, params: dict[str, str]) -> tuple[dict[str, Any], int]:
    """Template context and status: 422 naming a bad parameter, 503 when analytics is down."""
    form = {key: params.get(key, "") for key in ("region", "from", "to", "cohort")}
    context: dict[str, Any] = {"regions": REGIONS, "form": form, "panels": None, "firings": [], "error": None}
    try:
        query = DashboardQuery.parse(params)
    except QueryError as exc:
        context["error"] = str(exc)
        return context, 422
    context["form"] = {"region": query.region or "", **query.params()}
    context["query_string"] = query.query_string()
    try:
        data = await gather(request, query)
    except AnalyticsUnavailable as exc:
        context["error"] = f"The analytics database is unavailable ({exc}); the page updates when it is back."
        return context, 503
    context.update(data)
    return context, 200


@router.get(DASHBOARD)
async def dashboard(request: Request) -> Response:
    if sessions(request).principal(request) is None:
        return RedirectResponse(SIGN_IN, status_code=303, headers=PAGE_HEADERS)
    context, status = await _model(request, dict(request.query_params))
    return render(request, "dashboard.html", context, status)


@router.get("/dashboard/panels")
async def dashboard_panels(request: Request) -> Response:
    if sessions(request).principal(request) is None:
        return Response(status_code=401, headers=PAGE_HEADERS)
    context, status = await _model(request, dict(request.query_params))
    if context["panels"] is None:
        return Response(context["error"], status_code=status, media_type="text/plain", headers=PAGE_HEADERS)
    return render(request, "panels.html", context, status)
