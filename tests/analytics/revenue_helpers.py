"""Billing histories for the revenue tests: written into the main database, read back by the reference.

`write_history` stores an analytics.reference.History through SQL exactly as the API would (companies, invoices
with their lines, rates), so the pipeline reads it like production data; the reference computes the figures from
the same History object without any SQL.
"""

from datetime import date
from typing import Any

import asyncpg

from analytics import figures
from analytics.pipeline import RunReport, run
from analytics.reference import History, Invoice
from tests.analytics.helpers import Databases

INVOICE_INSERT = """
    INSERT INTO invoices (company_id, amount, currency, status, issued_at, paid_at)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
"""
LINE_INSERT = """
    INSERT INTO invoice_lines (invoice_id, position, kind, subscription_id, plan, interval, interval_count,
                               quantity, amount, discount, service_period_start, service_period_end)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""


async def write_companies(conn: Any, history: History) -> None:
    await conn.executemany(
        "INSERT INTO companies (id, name, region) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region WHERE companies.region <> EXCLUDED.region",
        [(company, f"company-{company}", region) for company, region in history.regions.items()],
    )


async def write_invoice(conn: Any, invoice: Invoice) -> int:
    """One invoice and its lines in one transaction (the total check runs at commit)."""
    async with conn.transaction():
        invoice_id: int = await conn.fetchval(
            INVOICE_INSERT,
            invoice.company_id,
            invoice.total,
            invoice.currency,
            invoice.status,
            invoice.issued_at,
            invoice.paid_at,
        )
        await conn.executemany(
            LINE_INSERT,
            [
                (
                    invoice_id,
                    position,
                    line.kind,
                    f"sub-{invoice.company_id}" if line.kind == "subscription" else None,
                    "plan" if line.kind == "subscription" else None,
                    line.interval,
                    line.interval_count,
                    line.quantity,
                    line.amount,
                    line.discount,
                    line.start,
                    line.end,
                )
                for position, line in enumerate(invoice.lines, start=1)
            ],
        )
    return invoice_id


async def write_rates(conn: Any, rates: dict[tuple[str, date], Any]) -> None:
    await conn.executemany(
        "INSERT INTO fx_rates (day, currency, rate) VALUES ($1, $2, $3)"
        " ON CONFLICT (day, currency) DO UPDATE SET rate = EXCLUDED.rate WHERE fx_rates.rate <> EXCLUDED.rate",
        [(day, currency, rate) for (currency, day), rate in rates.items()],
    )


async def write_history(conn: Any, history: History) -> list[int]:
    """Everything of `history` (companies, rates, then invoices); returns the invoice ids in order."""
    await write_companies(conn, history)
    await write_rates(conn, history.rates)
    return [await write_invoice(conn, invoice) for invoice in history.invoices]


async def pipeline(dbs: Databases, *, base_currency: str = "USD", batch_size: int = 5000) -> RunReport:
    """A pipeline run from the primary (these tests are about the figures, not replication)."""
    return await run(dbs.source_primary, dbs.target_dsn, batch_size=batch_size, base_currency=base_currency)


async def reports(dbs: Databases, *, start: date, end: date, region: str | None) -> dict[str, Any]:
    """Every report figures.py gives for the range, asOf left out (the reference has no clock)."""
    conn = await asyncpg.connect(dbs.target_dsn)
    try:
        mrr = await figures.mrr_report(conn, start=start, end=end, region=region)
        mrr.pop("asOf")
        return {
            "mrr": mrr,
            "customers": await figures.cohort_report(conn, metric="customers", start=start, end=end, region=region),
            "cohort_mrr": await figures.cohort_report(conn, metric="mrr", start=start, end=end, region=region),
            "invoices": await figures.invoice_report(conn, start=start, end=end, region=region),
        }
    finally:
        await conn.close()


def reference_reports(history: History, *, start: date, end: date, region: str | None) -> dict[str, Any]:
    from analytics import reference

    return {
        "mrr": reference.mrr_report(history, start=start, end=end, region=region),
        "customers": reference.cohort_report(history, metric="customers", start=start, end=end, region=region),
        "cohort_mrr": reference.cohort_report(history, metric="mrr", start=start, end=end, region=region),
        "invoices": reference.invoice_report(history, start=start, end=end, region=region),
    }


METRIC_TABLES = ("company_mrr", "company_mrr_native", "mrr_summary", "invoice_lines", "invoices", "fx_rates")


async def metric_state(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """The derived tables' contents (load times left out), to compare incremental runs with a full recompute."""
    conn = await asyncpg.connect(dsn)
    try:
        out = {}
        for table in METRIC_TABLES:
            rows = await conn.fetch(f"SELECT * FROM analytics.{table}")
            out[table] = sorted(tuple(v for k, v in row.items() if k not in ("loaded_at",)) for row in rows)
        events = await conn.fetch(
            "SELECT invoice_id, event, ts, region, amount_base, voided FROM analytics.invoice_events"
        )
        out["invoice_events"] = sorted(tuple(r) for r in events)
        return out
    finally:
        await conn.close()
