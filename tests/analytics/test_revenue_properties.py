"""Generated billing histories through the real pipeline: the SQL figures equal the pure-Python reference to the
cent, MRR(m) = MRR(m-1) + movements, incremental runs equal one full recompute, and a re-run changes nothing.

Each example is a history (plans, upgrades and downgrades, discounts that end, cancellations, reactivations,
one-time charges, three currencies with moving rates and a missing one) loaded and run in small batches, then a
second phase of changes (voids, late invoices, rate corrections, region moves) loaded and run incrementally.
"""

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.reference import History, Invoice, Line
from tests.analytics.helpers import REGIONS, Databases, empty
from tests.analytics.revenue_helpers import (
    metric_state,
    pipeline,
    reference_reports,
    reports,
    write_companies,
    write_invoice,
    write_rates,
)

pytestmark = pytest.mark.slow  # ten generated histories through the real pipeline: started first in parallel runs

START, END = date(2025, 12, 1), date(2027, 3, 1)
CURRENCIES = ("USD", "EUR", "GBP")  # base USD; EUR has rates from the start, GBP only from mid-2026
FIRST_DAY = datetime(2026, 1, 1, tzinfo=UTC)
COMPANIES = range(1, 5)

money = st.integers(min_value=0, max_value=50_000).map(lambda cents: Decimal(cents) / 100)
rates = st.integers(min_value=5_000, max_value=20_000).map(lambda r: Decimal(r) / 10_000)


@st.composite
def lines(draw: st.DrawFn, start: datetime) -> Line:
    """One subscription line from `start`: monthly, quarterly or yearly, maybe discounted, maybe several seats."""
    interval = draw(st.sampled_from(["month", "month", "year"]))
    count = draw(st.sampled_from([1, 1, 3])) if interval == "month" else 1
    amount = draw(money)
    quantity = draw(st.sampled_from([Decimal(1), Decimal(1), Decimal(2), Decimal("1.5")]))
    discount = draw(st.sampled_from([Decimal(0), Decimal(0), (amount * quantity / 3).quantize(Decimal("0.01"))]))
    days = {"month": 30 * count, "year": 365}[interval] + draw(st.integers(-3, 3))
    end = start + timedelta(days=days)
    return Line("subscription", amount, quantity, discount, interval, count, start=start, end=end)  # type: ignore[arg-type]


@st.composite
def invoices(draw: st.DrawFn, company: int) -> list[Invoice]:
    """A company's renewals: a start, then back-to-back periods, with gaps (churn, reactivation) now and then."""
    out: list[Invoice] = []
    at = FIRST_DAY + timedelta(days=draw(st.integers(0, 200)), hours=draw(st.integers(0, 23)))
    currency = draw(st.sampled_from(CURRENCIES))
    subscription: list[Line] = []
    for _ in range(draw(st.integers(1, 5))):
        same_terms: bool = draw(st.booleans())
        if subscription and same_terms:
            # A renewal on the same terms: the native MRR is unchanged, so in EUR or GBP the month's change in
            # base currency is the new period's rate alone (an `fx` movement).
            subscription = [replace(line, start=at, end=at + (line.end - line.start)) for line in subscription]  # type: ignore[operator]
        else:
            subscription = [draw(lines(at))]
            if draw(st.booleans()):
                subscription.append(draw(lines(at)))  # an add-on, possibly on another interval
        extra = [Line("one_time", draw(money))] if draw(st.integers(0, 4)) == 0 else []
        status = draw(st.sampled_from(["issued", "paid", "paid", "void"]))
        paid_at = at + timedelta(days=draw(st.integers(0, 40))) if status == "paid" else None
        out.append(Invoice(company, currency, at, [*subscription, *extra], status, paid_at))  # type: ignore[arg-type]
        at = max(line.end for line in subscription if line.end is not None)
        at += timedelta(days=draw(st.sampled_from([0, 0, 0, 45, 120])))  # gap: churn, later reactivation
    return out


@st.composite
def rate_tables(draw: st.DrawFn) -> dict[tuple[str, date], Decimal]:
    table = {}
    for currency, first in (("EUR", date(2025, 12, 1)), ("GBP", date(2026, 6, 1))):
        day = first
        while day < date(2027, 6, 1):
            table[(currency, day)] = draw(rates)
            day += timedelta(days=draw(st.sampled_from([20, 45, 90])))
    return table


@st.composite
def histories(draw: st.DrawFn) -> tuple[History, dict[str, Any]]:
    """A first history and the changes of a second phase."""
    history = History(base_currency="USD")
    history.regions = {c: draw(st.sampled_from(REGIONS)) for c in COMPANIES}
    history.rates = draw(rate_tables())
    for company in COMPANIES:
        if draw(st.integers(0, 5)):
            history.invoices.extend(draw(invoices(company)))
    late = [inv for c in COMPANIES if draw(st.booleans()) for inv in draw(invoices(c))]
    changes = {
        "void": draw(st.sets(st.integers(0, max(len(history.invoices) - 1, 0)), max_size=3)),
        "late": late,
        "rates": {key: draw(rates) for key in draw(st.sets(st.sampled_from(sorted(history.rates)), max_size=3))},
        "moves": {
            c: draw(st.sampled_from(REGIONS)) for c in draw(st.sets(st.sampled_from(list(COMPANIES)), max_size=2))
        },
    }  # fmt: skip
    return history, changes


async def _write_phase_one(dbs: Databases, history: History) -> list[int]:
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await write_companies(conn, history)
        await write_rates(conn, history.rates)
        return [await write_invoice(conn, invoice) for invoice in history.invoices]
    finally:
        await conn.close()


async def _apply_changes(dbs: Databases, history: History, ids: list[int], changes: dict[str, Any]) -> None:
    """Writes phase two into the source and into `history` alike."""
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        for index in sorted(changes["void"]):
            if index < len(history.invoices) and history.invoices[index].status != "paid":
                await conn.execute("UPDATE invoices SET status = 'void' WHERE id = $1", ids[index])
                history.invoices[index] = Invoice(**{**history.invoices[index].__dict__, "status": "void"})
        for invoice in changes["late"]:
            await write_invoice(conn, invoice)
            history.invoices.append(invoice)
        await write_rates(conn, changes["rates"])
        history.rates.update(changes["rates"])
        history.regions.update(changes["moves"])
        await write_companies(conn, history)
    finally:
        await conn.close()


def _assert_movements_add_up(report: dict[str, Any]) -> None:
    """MRR(m) = MRR(m-1) + the month's movements: within the rounding of the 8 figures involved."""
    months = report["months"]
    for prev, cur in itertools.pairwise(months):
        moved = sum(cur["movements"].values(), Decimal(0))
        assert abs(cur["mrr"] - prev["mrr"] - moved) <= Decimal("0.04"), (cur["month"], prev, cur)


async def _assert_unrounded_identity(dsn: str) -> None:
    """The same, exactly, per company and month in the stored full-precision rows (a gap month counts as 0)."""
    conn = await asyncpg.connect(dsn)
    try:
        broken = await conn.fetch("""
            SELECT m.company_id, m.month FROM analytics.company_mrr m
            LEFT JOIN analytics.company_mrr p ON p.company_id = m.company_id
                 AND p.month = (m.month - INTERVAL '1 month')::date
            WHERE m.mrr <> coalesce(p.mrr, 0) + m.new + m.expansion + m.contraction + m.churn + m.reactivation + m.fx
        """)
    finally:
        await conn.close()
    assert not broken, broken


async def _assert_matches_reference(dbs: Databases, history: History) -> None:
    for region in (None, *REGIONS):
        got = await reports(dbs, start=START, end=END, region=region)
        assert got == reference_reports(history, start=START, end=END, region=region), region
        _assert_movements_add_up(got["mrr"])


@settings(max_examples=10, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=histories(), batch_size=st.sampled_from([3, 5000]))
async def test_sql_equals_reference_incrementally_and_after_full_recompute(
    pair: Databases, case: tuple[History, dict[str, Any]], batch_size: int
) -> None:
    history, changes = case
    await empty(pair)
    ids = await _write_phase_one(pair, history)
    await pipeline(pair, batch_size=batch_size)
    await _assert_matches_reference(pair, history)

    await _apply_changes(pair, history, ids, changes)
    await pipeline(pair, batch_size=batch_size)
    await _assert_matches_reference(pair, history)
    await _assert_unrounded_identity(pair.target_dsn)
    incremental = await metric_state(pair.target_dsn)

    await pipeline(pair, batch_size=batch_size)  # everything is inside the overlap: re-read, changes nothing
    assert await metric_state(pair.target_dsn) == incremental

    await empty(pair, source=False)
    await pipeline(pair)  # one full recompute of the same source
    assert await metric_state(pair.target_dsn) == incremental
