"""The contract's figures (ANALYTICS.md) from the analytics database: the only code that computes them.

The API, dashboard, stream, alerts and exports all call these, so every surface shows the same number. The
pipeline keeps per region x cohort x month sums (analytics.mrr_summary) at full precision, so each report is one
indexed aggregate over a few hundred rows whatever the number of companies; ratios are taken of the unrounded
sums and everything is rounded only here, half away from zero: money to 0.01, rates to 0.0001.
Return conventions (INTERFACES.md §3): money and rates as Decimal, counts as int, None for null, months as
"YYYY-MM", asOf as an ISO-8601 UTC string.
"""

import decimal
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final, Literal

from analytics.revenue import MOVEMENTS

CENT: Final = Decimal("0.01")
RATE: Final = Decimal("0.0001")
LTV_MONTHS: Final = 6  # ltv(m) averages the churn rates of m-5..m
DEFAULT_CURRENCY: Final = "USD"
_CONTEXT: Final = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)

_REGION = "($3::text IS NULL OR region = $3)"
MONTHLY_SQL: Final = f"""
    SELECT month, sum(mrr) AS mrr, sum(customers) AS customers, sum(churned_customers) AS churned,
           {", ".join(f"sum({name}) AS {name}" for name in MOVEMENTS)}
    FROM analytics.mrr_summary
    WHERE month BETWEEN $1 AND $2 AND {_REGION}
    GROUP BY month
"""
COHORT_SQL: Final = f"""
    SELECT cohort, month, sum(customers) AS customers, sum(mrr) AS mrr
    FROM analytics.mrr_summary
    WHERE cohort BETWEEN $1 AND $2 AND month <= $2 AND {_REGION}
    GROUP BY cohort, month
"""
INVOICE_SQL: Final = f"""
    SELECT (month AT TIME ZONE 'UTC')::date AS month, sum(invoiced) AS invoiced, sum(collected) AS collected,
           sum(issued_count) AS issued_count, sum(paid_count) AS paid_count
    FROM analytics.invoice_monthly
    WHERE month >= $1::timestamptz AND month < $2::timestamptz AND {_REGION}
    GROUP BY 1
"""
# Subscription lines of non-void invoices, active at some month end in the range, with no rate to convert at.
UNCONVERTED_SQL: Final = """
    SELECT count(*)
    FROM analytics.invoice_lines l
    JOIN analytics.invoices i ON i.invoice_id = l.invoice_id AND i.status <> 'void'
    LEFT JOIN analytics.companies c ON c.company_id = l.company_id
    WHERE l.rate IS NULL AND l.kind = 'subscription'
      AND l.first_month <= $2 AND l.last_month >= $1 AND l.last_month >= l.first_month
      AND ($3::text IS NULL OR coalesce(c.region, l.region) = $3)
"""
SETTINGS_SQL: Final = "SELECT base_currency, synced_at FROM analytics.revenue_settings"


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_range(start: date, end: date) -> Iterator[date]:
    month = start
    while month <= end:
        yield month
        month = add_months(month, 1)


def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, context=_CONTEXT)


def rate(value: Decimal) -> Decimal:
    return value.quantize(RATE, context=_CONTEXT)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else _CONTEXT.divide(numerator, denominator)


def _optional(value: Decimal | None, rounder: Any) -> Decimal | None:
    return None if value is None else rounder(value)


async def _settings(conn: Any) -> tuple[str, str | None]:
    row = await conn.fetchrow(SETTINGS_SQL)
    if row is None:
        return DEFAULT_CURRENCY, None
    synced: datetime | None = row["synced_at"]
    return row["base_currency"].strip(), None if synced is None else synced.astimezone(UTC).isoformat()


def _month_entry(
    month: date, cur: dict[str, Any], prev: dict[str, Any], churn_rates: list[Decimal | None]
) -> dict[str, Any]:
    mrr, prev_mrr = cur["mrr"], prev["mrr"]
    customers = cur["customers"]
    moves = {name: cur[name] for name in MOVEMENTS}
    arpa = _ratio(mrr, Decimal(customers))
    known = [r for r in churn_rates if r is not None]
    mean_churn = _CONTEXT.divide(sum(known, Decimal(0)), Decimal(len(known))) if known else None
    ltv = None if arpa is None or not mean_churn else _CONTEXT.divide(arpa, mean_churn)
    lost = moves["churn"] + moves["contraction"]
    return {
        "month": month_label(month),
        "mrr": money(mrr),
        "arr": money(12 * mrr),
        "customers": int(customers),
        "arpa": _optional(arpa, money),
        "movements": {name: money(value) for name, value in moves.items()},
        "customerChurnRate": _optional(churn_rates[-1], rate),
        "grossMrrChurnRate": _optional(_ratio(-lost, prev_mrr), rate),
        "netMrrChurnRate": _optional(_ratio(-(lost + moves["expansion"] + moves["reactivation"]), prev_mrr), rate),
        "nrr": _optional(_ratio(prev_mrr + moves["expansion"] + lost, prev_mrr), rate),
        "grr": _optional(_ratio(prev_mrr + lost, prev_mrr), rate),
        "ltv": _optional(ltv, money),
    }


def _zero_month() -> dict[str, Any]:
    return {"mrr": Decimal(0), "customers": 0, "churned": 0, **{name: Decimal(0) for name in MOVEMENTS}}


async def mrr_report(conn: Any, *, start: date, end: date, region: str | None) -> dict[str, Any]:
    """`GET /api/analytics/mrr`: one entry per month from start to end (first days of months, inclusive)."""
    currency, as_of = await _settings(conn)
    first = add_months(start, -LTV_MONTHS)  # rates need m-1, ltv needs the churn rates of m-5..m
    rows = {row["month"]: dict(row) for row in await conn.fetch(MONTHLY_SQL, first, end, region)}
    unconverted = await conn.fetchval(UNCONVERTED_SQL, start, end, region)
    months = list(month_range(first, end))
    totals = [rows.get(month, _zero_month()) for month in months]
    churn_rates: list[Decimal | None] = [None]
    churn_rates += [_ratio(Decimal(cur["churned"]), Decimal(prev["customers"])) for prev, cur in pairwise(totals)]
    entries = [
        _month_entry(month, totals[i], totals[i - 1], churn_rates[i - LTV_MONTHS + 1 : i + 1])
        for i, month in enumerate(months)
        if month >= start
    ]
    return {"currency": currency, "asOf": as_of, "unconvertedLines": int(unconverted), "months": entries}


async def cohort_report(
    conn: Any, *, metric: Literal["customers", "mrr"], start: date, end: date, region: str | None
) -> dict[str, Any]:
    """`GET /api/analytics/cohorts`: per cohort month in [start, end], the retained share up to `end`."""
    cells: dict[date, dict[date, Any]] = {}
    for row in await conn.fetch(COHORT_SQL, start, end, region):
        cells.setdefault(row["cohort"], {})[row["month"]] = row
    cohorts = []
    for cohort in sorted(cells):
        base = cells[cohort].get(cohort)
        if base is None or base["customers"] == 0:
            continue
        values: list[Decimal | None] = []
        for month in month_range(cohort, end):
            cell = cells[cohort].get(month)
            if metric == "customers":
                kept = Decimal(0 if cell is None else cell["customers"])
                values.append(_optional(_ratio(kept, Decimal(base["customers"])), rate))
            else:
                kept = Decimal(0) if cell is None else cell["mrr"]
                values.append(_optional(_ratio(kept, base["mrr"]), rate))
        cohorts.append({"cohort": month_label(cohort), "size": int(base["customers"]), "values": values})
    return {"metric": metric, "cohorts": cohorts}


async def invoice_report(conn: Any, *, start: date, end: date, region: str | None) -> dict[str, Any]:
    """`GET /api/analytics/invoices` without `forecast` (revenue-api adds it from analytics/forecast.py)."""
    currency, _ = await _settings(conn)
    since = datetime(start.year, start.month, 1, tzinfo=UTC)
    after = add_months(end, 1)
    until = datetime(after.year, after.month, 1, tzinfo=UTC)
    rows = {row["month"]: row for row in await conn.fetch(INVOICE_SQL, since, until, region)}
    months = []
    for month in month_range(start, end):
        row = rows.get(month)
        months.append(
            {
                "month": month_label(month),
                "invoiced": money(Decimal(0) if row is None else row["invoiced"]),
                "collected": money(Decimal(0) if row is None else row["collected"]),
                "issuedCount": 0 if row is None else int(row["issued_count"]),
                "paidCount": 0 if row is None else int(row["paid_count"]),
            }
        )
    return {"currency": currency, "months": months}
