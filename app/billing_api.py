"""Billing endpoints (ANALYTICS.md "Billing data in"): invoices with lines, payment, void, exchange rates.

Writes run in one transaction on the primary and answer `X-Consistency-Token` like the company writes; reads are
routed like company reads. Only issued → paid and issued → void are allowed; anything else is 409. A repeated
`externalId` answers 200 with the stored invoice: the insert is `ON CONFLICT (external_id) DO NOTHING`, so two
identical posts racing each other store one invoice (the loser waits on the unique index, then reads the winner's).
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

import asyncpg
from fastapi import APIRouter, Body, HTTPException, Path, Request, Response

from app.api import _db, _region, consistency_token
from app.billing_models import FxRates, InvoiceIn, PaymentIn
from app.errors import problem
from app.json_money import MoneyJSONResponse
from contracts.headers import CONSISTENCY_TOKEN, DB_NODE
from contracts.regions import PRIMARY_NODE

router = APIRouter()

_INVOICE_COLUMNS: Final = (
    "id, company_id, external_id, currency, amount, status, issued_at, paid_at, voided_at, created_at, updated_at"
)
_LINE_COLUMNS: Final = (
    "position, kind, subscription_id, plan, interval, interval_count, quantity, amount, discount, description,"
    " service_period_start, service_period_end"
)
InvoiceId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _line(row: Any) -> dict[str, Any]:
    return {
        "position": row["position"],
        "kind": row["kind"],
        "subscriptionId": row["subscription_id"],
        "plan": row["plan"],
        "interval": row["interval"],
        "intervalCount": row["interval_count"],
        "quantity": row["quantity"].normalize(),  # numeric(14, 4) pads to 4 places: 2, not 2.0000
        "amount": row["amount"],
        "discount": row["discount"],
        "description": row["description"],
        "servicePeriodStart": _iso(row["service_period_start"]),
        "servicePeriodEnd": _iso(row["service_period_end"]),
    }


def _invoice(row: Any, lines: list[Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "companyId": row["company_id"],
        "externalId": row["external_id"],
        "currency": row["currency"],
        "status": row["status"],
        "total": row["amount"],
        "issuedAt": _iso(row["issued_at"]),
        "paidAt": _iso(row["paid_at"]),
        "voidedAt": _iso(row["voided_at"]),
        "createdAt": _iso(row["created_at"]),
        "updatedAt": _iso(row["updated_at"]),
        "lines": [_line(line) for line in lines],
    }


async def _fetch_invoice(conn: Any, invoice_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE id = $1", invoice_id)
    if row is None:
        return None
    lines = await conn.fetch(
        f"SELECT {_LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = $1 ORDER BY position", invoice_id
    )
    return _invoice(row, list(lines))


def _written(content: Any, status_code: int, token: str) -> MoneyJSONResponse:
    headers = {DB_NODE: PRIMARY_NODE, CONSISTENCY_TOKEN: token}
    return MoneyJSONResponse(content, status_code=status_code, headers=headers)


def _not_found(invoice_id: int) -> HTTPException:
    return HTTPException(status_code=404, detail=f"invoice {invoice_id} not found")


async def _insert_lines(conn: Any, invoice_id: int, body: InvoiceIn) -> None:
    records = [
        (
            invoice_id,
            position,
            line.kind,
            getattr(line, "subscription_id", None),
            getattr(line, "plan", None),
            getattr(line, "interval", None),
            getattr(line, "interval_count", None),
            line.quantity,
            line.amount,
            line.discount,
            line.description,
            line.service_period_start,
            line.service_period_end,
        )
        for position, line in enumerate(body.lines, start=1)
    ]
    await conn.copy_records_to_table(
        "invoice_lines", records=records, columns=["invoice_id", *(c.strip() for c in _LINE_COLUMNS.split(","))]
    )


@router.post("/api/invoices", status_code=201)
async def create_invoice(body: InvoiceIn, request: Request) -> Response:
    """201 with the new invoice; 200 with the stored one when `externalId` was seen before (nothing stored)."""

    async def insert(conn: Any) -> tuple[dict[str, Any], bool]:
        try:
            invoice_id = await conn.fetchval(
                "INSERT INTO invoices (company_id, external_id, currency, amount, issued_at)"
                " VALUES ($1, $2, $3, $4, COALESCE($5, now()))"
                " ON CONFLICT (external_id) DO NOTHING RETURNING id",
                body.company_id,
                body.external_id,
                body.currency,
                body.total,
                body.issued_at,
            )
        except asyncpg.ForeignKeyViolationError:
            raise HTTPException(
                status_code=422,
                detail=[problem(["body", "companyId"], f"company {body.company_id} does not exist", "value_error")],
            ) from None
        if invoice_id is None:  # externalId already stored (committed, or committed while we waited on it)
            existing = await conn.fetchval("SELECT id FROM invoices WHERE external_id = $1", body.external_id)
            stored = await _fetch_invoice(conn, existing)
            assert stored is not None  # the conflicting row is committed and never deleted
            return stored, False
        await _insert_lines(conn, invoice_id, body)
        created = await _fetch_invoice(conn, invoice_id)
        assert created is not None  # inserted in this transaction
        return created, True

    (invoice, created), token = await _db(request).write(insert)
    return _written(invoice, 201 if created else 200, token)


@router.get("/api/invoices/{invoice_id}")
async def get_invoice(invoice_id: InvoiceId, request: Request) -> Response:
    invoice, node = await _db(request).read(
        _region(request), consistency_token(request.headers), lambda conn: _fetch_invoice(conn, invoice_id)
    )
    if invoice is None:
        raise HTTPException(status_code=404, detail=f"invoice {invoice_id} not found", headers={DB_NODE: node})
    return MoneyJSONResponse(invoice, headers={DB_NODE: node})


async def _transition(request: Request, invoice_id: int, target: str, assignments: str, *args: Any) -> Response:
    """Move an issued invoice to `target` atomically; 404 when unknown, 409 from any other status."""

    async def update(conn: Any) -> dict[str, Any]:
        moved = await conn.fetchval(
            f"UPDATE invoices SET status = '{target}', {assignments} WHERE id = $1 AND status = 'issued' RETURNING id",
            invoice_id,
            *args,
        )
        if moved is None:
            status = await conn.fetchval("SELECT status FROM invoices WHERE id = $1", invoice_id)
            if status is None:
                raise _not_found(invoice_id)
            raise HTTPException(
                status_code=409,
                detail=f"invoice {invoice_id} is {status}; only an issued invoice can become {target}",
            )
        invoice = await _fetch_invoice(conn, invoice_id)
        assert invoice is not None  # updated in this transaction
        return invoice

    invoice, token = await _db(request).write(update)
    return _written(invoice, 200, token)


@router.post("/api/invoices/{invoice_id}/pay")
async def pay_invoice(
    invoice_id: InvoiceId, request: Request, body: Annotated[PaymentIn | None, Body()] = None
) -> Response:
    """issued → paid at `paidAt` (default now); `paidAt` before the invoice was issued is 422."""
    paid_at = (body.paid_at if body else None) or datetime.now(UTC)
    try:
        return await _transition(request, invoice_id, "paid", "paid_at = $2", paid_at)
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name != "invoices_paid_after_issued_check":
            raise
        raise HTTPException(
            status_code=422,
            detail=[problem(["body", "paidAt"], "must not be before the invoice's issuedAt", "value_error")],
        ) from None


@router.post("/api/invoices/{invoice_id}/void")
async def void_invoice(invoice_id: InvoiceId, request: Request) -> Response:
    """issued → void now; a void invoice drops out of every figure (its lines stop counting toward MRR)."""
    return await _transition(request, invoice_id, "void", "voided_at = now()")


@router.put("/api/fx-rates", status_code=204)
async def put_fx_rates(rates: FxRates, request: Request) -> Response:
    """Upsert rates by (date, currency); the base currency's own rate can only be 1."""
    base = request.app.state.settings.analytics_base_currency
    seen: dict[tuple[Any, str], int] = {}
    problems = []
    for index, rate in enumerate(rates):
        key = (rate.date, rate.currency)
        if key in seen:
            problems.append(
                problem(
                    ["body", index],
                    f"repeats the rate of item {seen[key]} ({rate.currency} on {rate.date})",
                    "value_error",
                )
            )
        seen.setdefault(key, index)
        if rate.currency == base and rate.rate != Decimal(1):
            problems.append(
                problem(["body", index, "rate"], f"{base} is the base currency: its rate is always 1", "value_error")
            )
    if problems:
        raise HTTPException(status_code=422, detail=problems)

    async def upsert(conn: Any) -> None:
        await conn.execute(
            "INSERT INTO fx_rates (day, currency, rate)"
            " SELECT * FROM unnest($1::date[], $2::text[], $3::numeric[])"
            " ON CONFLICT (day, currency) DO UPDATE SET rate = EXCLUDED.rate"
            " WHERE fx_rates.rate IS DISTINCT FROM EXCLUDED.rate",
            [r.date for r in rates],
            [r.currency for r in rates],
            [r.rate for r in rates],
        )

    _, token = await _db(request).write(upsert)
    return Response(status_code=204, headers={DB_NODE: PRIMARY_NODE, CONSISTENCY_TOKEN: token})
