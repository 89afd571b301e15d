"""0004_billing: rows from 0003 stay valid, an invoice totals its lines (checked at commit), line and rate checks."""

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pytest

from app.migrate import upgrade
from localdev.cluster import Cluster

SUBSCRIPTION_LINE = """
    INSERT INTO invoice_lines (invoice_id, position, kind, subscription_id, plan, interval, interval_count,
                               quantity, amount, discount, service_period_start, service_period_end)
    VALUES ($1, $2, 'subscription', 'sub_1', 'pro', 'month', 1, $3, $4, $5,
            '2026-01-05T00:00:00Z', '2026-02-05T00:00:00Z')
"""


@pytest.fixture(scope="module")
async def billing_db(pg_cluster: Cluster) -> AsyncIterator[asyncpg.Connection]:
    """A scratch database migrated to 0003 with a paid and a void invoice, then to head."""
    await asyncio.to_thread(pg_cluster.sql, "primary", "DROP DATABASE IF EXISTS billing_migration", "postgres")
    await asyncio.to_thread(pg_cluster.sql, "primary", "CREATE DATABASE billing_migration", "postgres")
    dsn = pg_cluster.dsn("primary", "billing_migration")
    await asyncio.to_thread(upgrade, dsn, "eu", "0003_invoices")
    conn = await asyncpg.connect(dsn)
    await conn.execute("""
        INSERT INTO companies (name, region) VALUES ('old', 'eu');
        INSERT INTO invoices (company_id, amount, currency, status, paid_at) VALUES (1, 10, 'EUR', 'paid', now());
        INSERT INTO invoices (company_id, amount, currency, status) VALUES (1, 20, 'EUR', 'void');
    """)
    await asyncio.to_thread(upgrade, dsn, "eu")
    try:
        yield conn
    finally:
        await conn.close()
        await asyncio.to_thread(pg_cluster.sql, "primary", "DROP DATABASE billing_migration WITH (FORCE)", "postgres")


async def _invoice(conn: asyncpg.Connection, amount: str, external_id: str | None = None) -> int:
    invoice_id: int = await conn.fetchval(
        "INSERT INTO invoices (company_id, amount, currency, external_id) VALUES (1, $1, 'EUR', $2) RETURNING id",
        Decimal(amount),
        external_id,
    )
    return invoice_id


async def test_rows_from_0003_stay_valid_and_void_rows_get_their_void_time(billing_db: asyncpg.Connection) -> None:
    rows = await billing_db.fetch("SELECT status, voided_at, updated_at, external_id FROM invoices ORDER BY id")
    assert [r["status"] for r in rows] == ["paid", "void"]
    assert rows[0]["voided_at"] is None
    assert rows[1]["voided_at"] is not None
    assert rows[1]["voided_at"] <= rows[1]["updated_at"]  # the backfill moved updated_at: the pipeline re-reads it
    assert all(r["external_id"] is None for r in rows)
    issued = await _invoice(billing_db, "1.00")
    before = await billing_db.fetchval("SELECT clock_timestamp()")
    voided_at = await billing_db.fetchval(
        "UPDATE invoices SET status = 'void' WHERE id = $1 RETURNING voided_at", issued
    )
    after = await billing_db.fetchval("SELECT clock_timestamp()")
    assert before <= voided_at <= after  # filled in by the trigger with the time of the void
    with pytest.raises(asyncpg.CheckViolationError, match="invoices_voided_at_check"):
        await billing_db.execute("UPDATE invoices SET voided_at = NULL WHERE id = $1", issued)
    with pytest.raises(asyncpg.CheckViolationError, match="invoices_voided_at_check"):
        await billing_db.execute("UPDATE invoices SET voided_at = now() WHERE status = 'paid'")


async def test_total_is_checked_against_lines_at_commit(billing_db: asyncpg.Connection) -> None:
    async with billing_db.transaction():  # 2 x 49.00 - 10.00 + 100.00: the contract's example invoice
        invoice_id = await _invoice(billing_db, "188.00")
        await billing_db.execute(SUBSCRIPTION_LINE, invoice_id, 1, Decimal(2), Decimal("49.00"), Decimal("10.00"))
        await billing_db.execute(
            "INSERT INTO invoice_lines (invoice_id, position, kind, amount, description)"
            " VALUES ($1, 2, 'one_time', 100, 'setup')",
            invoice_id,
        )
    transaction = billing_db.transaction()
    await transaction.start()
    wrong = await _invoice(billing_db, "88.01")
    await billing_db.execute(SUBSCRIPTION_LINE, wrong, 1, Decimal(2), Decimal("49.00"), Decimal("10.00"))
    with pytest.raises(asyncpg.CheckViolationError, match="does not equal the sum of its lines"):
        await transaction.commit()
    assert await billing_db.fetchval("SELECT count(*) FROM invoices WHERE amount = 88.01") == 0
    with pytest.raises(asyncpg.CheckViolationError, match="does not equal the sum of its lines"):
        await billing_db.execute("UPDATE invoices SET amount = 1 WHERE id = $1", invoice_id)
    # Fractional quantities round to cents: 3 x 0.3333 x 10.00 = 9.999 -> 10.00.
    async with billing_db.transaction():
        rounded = await _invoice(billing_db, "10.00")
        await billing_db.execute(SUBSCRIPTION_LINE, rounded, 1, Decimal("0.9999"), Decimal("10.00"), Decimal(0))


async def test_external_id_is_unique(billing_db: asyncpg.Connection) -> None:
    await _invoice(billing_db, "5.00", "inv_unique")
    with pytest.raises(asyncpg.UniqueViolationError, match="invoices_external_id_key"):
        await _invoice(billing_db, "5.00", "inv_unique")


@pytest.mark.parametrize(
    ("quantity", "amount", "discount", "constraint"),
    [
        (Decimal(0), Decimal(1), Decimal(0), "invoice_lines_quantity_check"),
        (Decimal(1), Decimal(-1), Decimal(0), "invoice_lines_amount_check"),
        (Decimal(1), Decimal(1), Decimal(-1), "invoice_lines_discount_check"),
        (Decimal(2), Decimal(1), Decimal("2.01"), "invoice_lines_discount_le_total_check"),
    ],
)
async def test_line_money_checks(
    billing_db: asyncpg.Connection, quantity: Decimal, amount: Decimal, discount: Decimal, constraint: str
) -> None:
    invoice_id = await _invoice(billing_db, "0.00")
    with pytest.raises(asyncpg.CheckViolationError, match=constraint):
        await billing_db.execute(SUBSCRIPTION_LINE, invoice_id, 1, quantity, amount, discount)


@pytest.mark.parametrize(
    ("columns", "values", "constraint"),
    [
        ("kind", "'monthly'", "invoice_lines_kind_check"),
        ("kind, interval", "'one_time', 'week'", "invoice_lines_interval_check"),
        ("kind, interval_count", "'one_time', 0", "invoice_lines_interval_count_check"),
        ("kind", "'subscription'", "invoice_lines_subscription_fields_check"),
        (
            "kind, service_period_start, service_period_end",
            "'one_time', '2026-02-01Z', '2026-02-01Z'",
            "invoice_lines_service_period_check",
        ),
    ],
)
async def test_line_shape_checks(billing_db: asyncpg.Connection, columns: str, values: str, constraint: str) -> None:
    invoice_id = await _invoice(billing_db, "0.00")
    with pytest.raises(asyncpg.CheckViolationError, match=constraint):
        await billing_db.execute(
            f"INSERT INTO invoice_lines (invoice_id, position, amount, {columns}) VALUES ($1, 1, 0, {values})",
            invoice_id,
        )


async def test_fx_rates_unique_per_day_and_currency_and_positive(billing_db: asyncpg.Connection) -> None:
    await billing_db.execute("INSERT INTO fx_rates (day, currency, rate) VALUES ('2026-01-01', 'EUR', 1.085)")
    with pytest.raises(asyncpg.UniqueViolationError, match="fx_rates_day_currency_key"):
        await billing_db.execute("INSERT INTO fx_rates (day, currency, rate) VALUES ('2026-01-01', 'EUR', 1.1)")
    with pytest.raises(asyncpg.CheckViolationError, match="fx_rates_rate_check"):
        await billing_db.execute("INSERT INTO fx_rates (day, currency, rate) VALUES ('2026-01-02', 'EUR', 0)")
    before = await billing_db.fetchval("SELECT updated_at FROM fx_rates WHERE currency = 'EUR'")
    await billing_db.execute("UPDATE fx_rates SET rate = 1.09 WHERE currency = 'EUR'")
    assert await billing_db.fetchval("SELECT updated_at FROM fx_rates WHERE currency = 'EUR'") > before
