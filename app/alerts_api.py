"""`/api/alerts`: thresholds on the current month's figures (ANALYTICS.md); evaluated by analytics.alerts.

Alerts are written through the writable analytics connection (`app.state.analytics_writer`), so a GET right after
a POST sees it (a standby could lag). Bad metric, op, region, threshold or address -> 422 naming the field.
"""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from analytics.alerts import Metric, Op
from app.analytics_auth import require_analytics_token
from app.analytics_db import AnalyticsDatabase
from app.countries import Region

router = APIRouter(dependencies=[Depends(require_analytics_token)])
_MAX_ID = 2**63 - 1


class AlertIn(BaseModel):
    """Body of POST /api/alerts."""

    model_config = ConfigDict(extra="forbid")

    metric: Metric
    op: Op
    threshold: Annotated[Decimal, Field(allow_inf_nan=False, max_digits=30)]
    region: Region | None = None
    notify: Annotated[list[EmailStr], Field(max_length=50)] = []


def _writer(request: Request) -> AnalyticsDatabase:
    writer: AnalyticsDatabase = request.app.state.analytics_writer
    return writer


def _alert(row: Any) -> dict[str, Any]:
    """The alert as JSON values (Decimal -> number, as the analytics endpoints write money and rates)."""
    alert: dict[str, Any] = jsonable_encoder(
        {
            "id": row["id"],
            "metric": row["metric"],
            "op": row["op"],
            "threshold": row["threshold"],
            "region": row["region"],
            "notify": list(row["notify"]),
            "firing": not row["armed"],
            "lastValue": row["last_value"],
            "lastEvaluatedAt": row["last_evaluated_at"].isoformat() if row["last_evaluated_at"] else None,
            "createdAt": row["created_at"].isoformat(),
        }
    )
    return alert


@router.post("/api/alerts", status_code=201)
async def create_alert(body: AlertIn, request: Request) -> dict[str, Any]:
    async with _writer(request).connection() as conn:
        row = await conn.fetchrow(
            "INSERT INTO analytics.alerts (metric, op, threshold, region, notify) VALUES ($1, $2, $3, $4, $5)"
            " RETURNING *",
            body.metric,
            body.op,
            body.threshold,
            body.region,
            [str(address) for address in body.notify],
        )
    return _alert(row)


@router.get("/api/alerts")
async def list_alerts(request: Request) -> list[dict[str, Any]]:
    async with _writer(request).connection() as conn:
        rows = await conn.fetch("SELECT * FROM analytics.alerts ORDER BY id")
    return [_alert(row) for row in rows]


@router.delete("/api/alerts/{alert_id}", status_code=204)
async def delete_alert(alert_id: Annotated[int, Path(ge=1, le=_MAX_ID)], request: Request) -> None:
    async with _writer(request).connection() as conn:
        deleted = await conn.fetchval("DELETE FROM analytics.alerts WHERE id = $1 RETURNING id", alert_id)
    if deleted is None:
        raise HTTPException(status_code=404, detail=f"alert {alert_id} not found")
