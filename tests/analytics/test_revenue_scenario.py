"""Hand-computed figures for a small history: every movement kind once, a void, a late invoice, an fx month."""

from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg

from analytics.reference import History, Invoice, Line
from tests.analytics.helpers import Databases
from tests.analytics.revenue_helpers import pipeline, reference_reports, reports, write_history, write_invoice


def _ts(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _monthly(amount: str, start: datetime, end: datetime, quantity: str = "1", discount: str = "0") -> Line:
    return Line("subscription", Decimal(amount), Decimal(quantity), Decimal(discount), "month", 1, start=start, end=end)


def scenario() -> History:
    """Company 1 (eu, EUR): new in Jan at 2 x 49 - 10 = 88 EUR, fx-only change in Feb (a new rate for the Feb
    renewal), expansion in Mar, churn in Apr, reactivation in Jun. Company 2 (us, USD): a yearly plan of
    1200 from Feb (100/month), contraction to 60 in May. Company 3 (asia, JPY): no JPY rate, so unconverted."""
    history = History(base_currency="USD", regions={1: "eu", 2: "us", 3: "asia"})
    history.rates = {("EUR", date(2026, 1, 1)): Decimal("1.1"), ("EUR", date(2026, 2, 1)): Decimal("1.2")}
    jan, feb, mar, apr = _ts(2026, 1), _ts(2026, 2), _ts(2026, 3), _ts(2026, 4)
    history.invoices = [
        Invoice(1, "EUR", jan, [_monthly("49.00", jan, feb, "2", "10.00"), Line("one_time", Decimal("100.00"))],
                status="paid", paid_at=_ts(2026, 1, 10)),
        Invoice(1, "EUR", feb, [_monthly("49.00", feb, mar, "2", "10.00")]),
        Invoice(1, "EUR", mar, [_monthly("49.00", mar, apr, "3", "10.00")]),
        Invoice(1, "EUR", _ts(2026, 6), [_monthly("49.00", _ts(2026, 6), _ts(2026, 7))]),
        Invoice(2, "USD", feb, [Line("subscription", Decimal("1200.00"), interval="year", interval_count=1,
                                     start=feb, end=_ts(2026, 5))]),
        Invoice(2, "USD", _ts(2026, 5), [_monthly("60.00", _ts(2026, 5), _ts(2027, 1))]),
        Invoice(3, "JPY", jan, [_monthly("1000", jan, _ts(2026, 12))]),
        Invoice(2, "USD", jan, [_monthly("999.00", jan, _ts(2027, 1))], status="void"),
    ]  # fmt: skip
    return history


async def _load(dbs: Databases, history: History) -> None:
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await write_history(conn, history)
    finally:
        await conn.close()


async def test_hand_computed_months(dbs: Databases) -> None:
    history = scenario()
    await _load(dbs, history)
    await pipeline(dbs)
    got = await reports(dbs, start=date(2026, 1, 1), end=date(2026, 7, 1), region=None)
    months = {m["month"]: m for m in got["mrr"]["months"]}

    assert months["2026-01"]["mrr"] == Decimal("96.80")  # 88 EUR at 1.1; company 3 has no rate
    assert months["2026-01"]["movements"]["new"] == Decimal("96.80")
    assert months["2026-02"]["movements"]["fx"] == Decimal("8.80")  # 88 EUR at 1.2 - at 1.1
    assert months["2026-02"]["movements"]["new"] == Decimal("100.00")  # company 2's yearly plan / 12
    assert months["2026-02"]["mrr"] == Decimal("205.60")
    assert months["2026-03"]["movements"]["expansion"] == Decimal("58.80")  # (137 - 88) EUR at 1.2
    assert months["2026-04"]["movements"]["churn"] == Decimal("-164.40")
    assert months["2026-04"]["customerChurnRate"] == Decimal("0.5000")
    assert months["2026-05"]["movements"]["contraction"] == Decimal("-40.00")
    assert months["2026-06"]["movements"]["reactivation"] == Decimal("58.80")  # 49 EUR at 1.2
    assert months["2026-06"]["customers"] == 2
    assert months["2026-06"]["arpa"] == Decimal("59.40")
    assert got["mrr"]["unconvertedLines"] == 1
    assert got["invoices"]["months"][0] == {
        "month": "2026-01", "invoiced": Decimal("206.80"), "collected": Decimal("206.80"),
        "issuedCount": 2, "paidCount": 1,
    }  # fmt: skip
    assert got == reference_reports(history, start=date(2026, 1, 1), end=date(2026, 7, 1), region=None)


async def test_late_invoice_and_void_rewrite_history(dbs: Databases) -> None:
    history = scenario()
    await _load(dbs, history)
    await pipeline(dbs)
    late = Invoice(1, "EUR", _ts(2026, 4, 20), [_monthly("10.00", _ts(2026, 4), _ts(2026, 6))])
    history.invoices.append(late)
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await write_invoice(conn, late)
        first = await conn.fetchval("SELECT min(id) FROM invoices")
        await conn.execute("UPDATE invoices SET status = 'void', paid_at = NULL WHERE id = $1", first)
    finally:
        await conn.close()
    history.invoices[0] = Invoice(**{**history.invoices[0].__dict__, "status": "void", "paid_at": None})
    await pipeline(dbs)
    for region in (None, "eu", "us"):
        got = await reports(dbs, start=date(2025, 12, 1), end=date(2026, 8, 1), region=region)
        assert got == reference_reports(history, start=date(2025, 12, 1), end=date(2026, 8, 1), region=region)
    months = {m["month"]: m for m in got["mrr"]["months"]}
    assert months["2026-04"]["movements"]["churn"] == Decimal("0.00")  # company 1 no longer churns in April ...


async def _row_versions(dsn: str) -> dict[tuple[int, date], str]:
    """Each company_mrr row's xmin: a row the batch rewrote (even with equal values) gets its transaction's id."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT company_id, month, xmin::text AS version FROM analytics.company_mrr")
    finally:
        await conn.close()
    return {(r["company_id"], r["month"]): r["version"] for r in rows}


async def test_a_batch_recomputes_only_the_touched_company_from_the_month_it_touched(dbs: Databases) -> None:
    """Issue 14 item 4: a late invoice of company 2 starting in June rewrites company 2's rows from June on and
    no other row: company 1's history and company 2's months before June are left as they were."""
    history = scenario()
    await _load(dbs, history)
    await pipeline(dbs)
    before = await _row_versions(dbs.target_dsn)
    late = Invoice(2, "USD", _ts(2026, 6, 15), [_monthly("25.00", _ts(2026, 6), _ts(2026, 8))])
    history.invoices.append(late)
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await write_invoice(conn, late)
    finally:
        await conn.close()
    await pipeline(dbs)
    after = await _row_versions(dbs.target_dsn)
    june = date(2026, 6, 1)
    rewritten = {key for key in after if before.get(key) != after[key]}
    assert rewritten, "the late invoice changed nothing"
    assert {company for company, _ in rewritten} == {2}, sorted(rewritten)
    assert min(month for _, month in rewritten) == june, sorted(rewritten)
    assert {key: version for key, version in after.items() if key not in rewritten} == {
        key: version for key, version in before.items() if key not in rewritten
    }  # nothing else deleted either
    got = await reports(dbs, start=date(2026, 1, 1), end=date(2026, 12, 1), region=None)
    assert got == reference_reports(history, start=date(2026, 1, 1), end=date(2026, 12, 1), region=None)
