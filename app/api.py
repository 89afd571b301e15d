"""HTTP endpoints: companies (reads routed by region, writes to the primary) and health."""

import time
from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from starlette.datastructures import Headers

from app.countries import COUNTRY_REGION, Region
from app.geo import country_region
from app.health import HealthMonitor
from app.lsn import parse_lsn
from app.routing import DatabaseUnavailable, Router
from contracts.headers import CONSISTENCY_TOKEN, DB_NODE
from contracts.regions import PRIMARY_NODE, NodeName

router = APIRouter()

COMPANY_PATH: Final = "/api/companies/{company_id}"  # also the route label of request metrics
_COLUMNS: Final = "id, name, country, region, created_at, updated_at"
_MAX_ID: Final = 2**63 - 1


def _country(value: str | None) -> str | None:
    if value is None:
        return None
    if country_region(value) is None:
        raise ValueError("must be an assigned ISO 3166-1 alpha-2 country code, e.g. DE")
    return value.strip().upper()


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; reject here instead of failing in the driver
        raise ValueError("must not contain NUL characters")
    return value


class CompanyIn(BaseModel):
    """Body of POST /api/companies; region comes from country, else the viewer's region."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)]
    country: Annotated[str | None, AfterValidator(_country)] = None


def _company(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "country": row["country"],
        "region": row["region"],
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["updated_at"].isoformat(),
    }


def _db(request: Request) -> Router:
    router_: Router = request.app.state.router
    return router_


def _region(request: Request) -> Region:
    region: Region = request.state.region
    return region


def consistency_token(headers: Headers) -> int | None:
    """The client's consistency token, or a 422 naming the header when it is not one LSN."""
    values = headers.getlist(CONSISTENCY_TOKEN)
    if not values:
        return None
    lsn = parse_lsn(values[0]) if len(values) == 1 else None
    if lsn is None:
        raise HTTPException(
            status_code=422,
            detail=[
                {
                    "loc": ["header", CONSISTENCY_TOKEN],
                    "msg": "must be one LSN as returned by a write, e.g. 0/16B3748",
                    "type": "value_error",
                }
            ],
        )
    return lsn


@router.post("/api/companies", status_code=201)
async def create_company(body: CompanyIn, request: Request, response: Response) -> dict[str, Any]:
    region = COUNTRY_REGION[body.country] if body.country else _region(request)

    async def insert(conn: Any) -> Any:
        return await conn.fetchrow(
            f"INSERT INTO companies (name, country, region) VALUES ($1, $2, $3) RETURNING {_COLUMNS}",
            body.name,
            body.country,
            region,
        )

    row, token = await _db(request).write(insert)
    response.headers[DB_NODE] = PRIMARY_NODE
    response.headers[CONSISTENCY_TOKEN] = token
    return _company(row)


async def read_company(
    db: Router, region: Region, token: int | None, company_id: int
) -> tuple[dict[str, Any], NodeName]:
    """One company and the node that served it, or a 404 naming the node (shared with app/fast_read.py)."""

    async def select(conn: Any) -> Any:
        return await conn.fetchrow(f"SELECT {_COLUMNS} FROM companies WHERE id = $1", company_id)

    row, node = await db.read(region, token, select)
    if row is None:
        raise HTTPException(status_code=404, detail=f"company {company_id} not found", headers={DB_NODE: node})
    return _company(row), node


@router.get(COMPANY_PATH)
async def get_company(
    company_id: Annotated[int, Path(ge=1, le=_MAX_ID)], request: Request, response: Response
) -> dict[str, Any]:
    """The contract's route; the plain case is served by app/fast_read.py before it gets here."""
    company, node = await read_company(_db(request), _region(request), consistency_token(request.headers), company_id)
    response.headers[DB_NODE] = node
    return company


@router.get("/api/companies")
async def list_companies(
    request: Request,
    response: Response,
    region: Region | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    async def select(conn: Any) -> Any:
        return await conn.fetch(
            f"SELECT {_COLUMNS} FROM companies WHERE $1::text IS NULL OR region = $1 ORDER BY id LIMIT $2",
            region,
            limit,
        )

    rows, node = await _db(request).read(_region(request), consistency_token(request.headers), select)
    response.headers[DB_NODE] = node
    return [_company(row) for row in rows]


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness only: never touches the database, so a database outage does not restart tasks."""
    return {"status": "ok", "uptime": round(time.monotonic() - request.app.state.started, 1)}


@router.get("/health/regional")
async def regional_health(request: Request) -> JSONResponse:
    """Readiness of the data layer as the monitor sees it; 503 when the primary is down."""
    monitor: HealthMonitor = request.app.state.monitor
    body, status = monitor.regional_report(_region(request), time.monotonic() - request.app.state.started)
    body["requestMetrics"] = request.app.state.request_metrics.snapshot()  # added field (dashboard helper)
    return JSONResponse(body, status_code=status)


__all__ = ["DatabaseUnavailable", "router"]
