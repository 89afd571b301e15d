"""The definitions of ANALYTICS.md in plain Python, straight from billing rows: the test oracle for the SQL.

Deliberately naive (every company, every month, every line, no incremental state, no SQL) so that it can be
read against the contract line by line. The only choices it shares with the database are the ones the contract
leaves open (README "Revenue analytics: definitions"): a line's MRR is kept to 20 decimal places (rounded half
up), rounding is half away from zero, and invoice amounts convert at the rate of the event's day.
"""

import decimal
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

MOVEMENT_NAMES = ("new", "expansion", "contraction", "churn", "reactivation", "fx")
_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)
_LINE_PLACES = 20


@dataclass(frozen=True)
class Line:
    kind: Literal["subscription", "one_time"]
    amount: Decimal
    quantity: Decimal = Decimal(1)
    discount: Decimal = Decimal(0)
    interval: Literal["month", "year"] | None = None
    interval_count: int | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Invoice:
    company_id: int
    currency: str
    issued_at: datetime
    lines: Sequence[Line]
    status: Literal["issued", "paid", "void"] = "issued"
    paid_at: datetime | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount * line.quantity - line.discount for line in self.lines), Decimal(0)).quantize(
            Decimal("0.01"), context=_CONTEXT
        )


@dataclass
class History:
    """Everything the main database holds that the figures depend on."""

    base_currency: str
    regions: dict[int, str] = field(default_factory=dict)  # company -> current region
    invoices: list[Invoice] = field(default_factory=list)
    rates: dict[tuple[str, date], Decimal] = field(default_factory=dict)  # (currency, day) -> base per unit


def _month(ts: datetime) -> date:
    utc = ts.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def _shift(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _months(start: date, end: date) -> list[date]:
    out = []
    while start <= end:
        out.append(start)
        start = _shift(start, 1)
    return out


def _last_instant(month: date) -> datetime:
    nxt = _shift(month, 1)
    return datetime(nxt.year, nxt.month, 1, tzinfo=UTC) - timedelta(microseconds=1)


def line_mrr_native(line: Line) -> Decimal:
    """(amount x quantity - discount) / months of the interval, to 20 places, half up (all exact until then)."""
    assert line.interval is not None
    assert line.interval_count is not None
    months = line.interval_count * (12 if line.interval == "year" else 1)
    exact = Fraction(line.amount * line.quantity - line.discount) / months
    scaled = exact * 10**_LINE_PLACES
    return Decimal(int(scaled + Fraction(1, 2))).scaleb(-_LINE_PLACES)  # floor(x + 1/2): half up for x >= 0


def rate_on(history: History, currency: str, day: date) -> Decimal | None:
    if currency == history.base_currency:
        return Decimal(1)
    known = [d for (c, d) in history.rates if c == currency and d <= day]
    return history.rates[(currency, max(known))] if known else None


def _active(line: Line, instant: datetime) -> bool:
    assert line.start is not None
    assert line.end is not None
    return line.start <= instant < line.end


@dataclass(frozen=True)
class CompanyMonth:
    mrr: Decimal  # base currency, converted lines only
    native: dict[str, Decimal]  # converted lines, per currency


def _subscription_lines(history: History) -> Iterable[tuple[Invoice, Line]]:
    for invoice in history.invoices:
        if invoice.status == "void":
            continue
        for line in invoice.lines:
            if line.kind == "subscription":
                yield invoice, line


def history_months(history: History) -> list[date]:
    """From the first service month to the month after the last one (where a churn can fall)."""
    bounds = [m for _, line in _subscription_lines(history) for m in (_month(line.start), _month(line.end))]  # type: ignore[arg-type]
    return _months(min(bounds), _shift(max(bounds), 1)) if bounds else []


def company_months(history: History) -> dict[int, dict[date, CompanyMonth]]:
    """MRR of every company at the last instant of every month of the history."""
    out: dict[int, dict[date, CompanyMonth]] = defaultdict(dict)
    months = history_months(history)
    companies = {invoice.company_id for invoice in history.invoices}
    for company in companies:
        for month in months:
            instant = _last_instant(month)
            base = Decimal(0)
            native: dict[str, Decimal] = defaultdict(lambda: Decimal(0))
            for invoice, line in _subscription_lines(history):
                if invoice.company_id != company or not _active(line, instant):
                    continue
                rate = rate_on(history, invoice.currency, line.start.astimezone(UTC).date())  # type: ignore[union-attr]
                if rate is None:
                    continue  # left out of base-currency figures (counted in unconvertedLines)
                value = line_mrr_native(line)
                base += value * rate
                native[invoice.currency] += value
            out[company][month] = CompanyMonth(base, dict(native))
    return out


def movements(history: History) -> dict[int, dict[date, dict[str, Decimal]]]:
    """Each company's movements in each month of the history, from its MRR in the month before."""
    out: dict[int, dict[date, dict[str, Decimal]]] = {}
    for company, by_month in company_months(history).items():
        had_mrr = False
        prev = CompanyMonth(Decimal(0), {})
        out[company] = {}
        for month in sorted(by_month):
            cur = by_month[month]
            moves = dict.fromkeys(MOVEMENT_NAMES, Decimal(0))
            if prev.mrr == 0 < cur.mrr:
                moves["reactivation" if had_mrr else "new"] = cur.mrr
            elif prev.mrr > 0 == cur.mrr:
                moves["churn"] = -prev.mrr
            elif prev.mrr > 0 and cur.mrr > 0:
                currencies = set(prev.native) | set(cur.native)
                if all(prev.native.get(c, 0) == cur.native.get(c, 0) for c in currencies):
                    moves["fx"] = cur.mrr - prev.mrr
                elif cur.mrr > prev.mrr:
                    moves["expansion"] = cur.mrr - prev.mrr
                elif cur.mrr < prev.mrr:
                    moves["contraction"] = cur.mrr - prev.mrr
            out[company][month] = moves
            had_mrr = had_mrr or cur.mrr > 0
            prev = cur
    return out


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), context=_CONTEXT)


def _rate(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), context=_CONTEXT)


def _div(a: Decimal, b: Decimal) -> Decimal | None:
    return None if b == 0 else _CONTEXT.divide(a, b)


def _label(month: date) -> str:
    return month.strftime("%Y-%m")


def _in_region(history: History, company: int, region: str | None) -> bool:
    return region is None or history.regions.get(company) == region


def mrr_report(history: History, *, start: date, end: date, region: str | None) -> dict[str, Any]:
    """The same object as analytics.figures.mrr_report, without asOf (the caller compares the rest)."""
    by_company = company_months(history)
    moves = movements(history)
    companies = [c for c in by_company if _in_region(history, c, region)]
    zero = CompanyMonth(Decimal(0), {})

    def mrr(month: date) -> Decimal:
        return sum((by_company[c].get(month, zero).mrr for c in companies), Decimal(0))

    def customers(month: date) -> int:
        return sum(1 for c in companies if by_company[c].get(month, zero).mrr > 0)

    def churn_rate(month: date) -> Decimal | None:
        churned = sum(1 for c in companies if moves[c].get(month, {}).get("churn", 0) != 0)
        return _div(Decimal(churned), Decimal(customers(_shift(month, -1))))

    entries = []
    for month in _months(start, end):
        total, prev = mrr(month), mrr(_shift(month, -1))
        m = {
            name: sum((moves[c].get(month, {}).get(name, Decimal(0)) for c in companies), Decimal(0))
            for name in MOVEMENT_NAMES
        }
        arpa = _div(total, Decimal(customers(month)))
        rates = [r for r in (churn_rate(_shift(month, -k)) for k in range(6)) if r is not None]
        mean = _CONTEXT.divide(sum(rates, Decimal(0)), Decimal(len(rates))) if rates else None
        ltv = None if arpa is None or not mean else _CONTEXT.divide(arpa, mean)
        gross = _div(-(m["churn"] + m["contraction"]), prev)
        net = _div(-(m["churn"] + m["contraction"] + m["expansion"] + m["reactivation"]), prev)
        nrr = _div(prev + m["expansion"] + m["contraction"] + m["churn"], prev)
        grr = _div(prev + m["contraction"] + m["churn"], prev)
        customer_churn = churn_rate(month)
        entries.append(
            {
                "month": _label(month),
                "mrr": _money(total),
                "arr": _money(12 * total),
                "customers": customers(month),
                "arpa": None if arpa is None else _money(arpa),
                "movements": {name: _money(value) for name, value in m.items()},
                "customerChurnRate": None if customer_churn is None else _rate(customer_churn),
                "grossMrrChurnRate": None if gross is None else _rate(gross),
                "netMrrChurnRate": None if net is None else _rate(net),
                "nrr": None if nrr is None else _rate(nrr),
                "grr": None if grr is None else _rate(grr),
                "ltv": None if ltv is None else _money(ltv),
            }
        )
    return {
        "currency": history.base_currency,
        "unconvertedLines": unconverted_lines(history, start=start, end=end, region=region),
        "months": entries,
    }


def unconverted_lines(history: History, *, start: date, end: date, region: str | None) -> int:
    """Subscription lines of non-void invoices, active at some month end in [start, end], without a rate."""
    count = 0
    for invoice, line in _subscription_lines(history):
        if not _in_region(history, invoice.company_id, region):
            continue
        if rate_on(history, invoice.currency, line.start.astimezone(UTC).date()) is not None:  # type: ignore[union-attr]
            continue
        if any(_active(line, _last_instant(month)) for month in _months(start, end)):
            count += 1
    return count


def cohort_report(
    history: History, *, metric: Literal["customers", "mrr"], start: date, end: date, region: str | None
) -> dict[str, Any]:
    by_company = company_months(history)
    cohorts: dict[date, list[int]] = defaultdict(list)
    for company, months in by_company.items():
        if not _in_region(history, company, region):
            continue
        positive = [m for m in sorted(months) if months[m].mrr > 0]
        if positive and start <= positive[0] <= end:
            cohorts[positive[0]].append(company)
    out = []
    for cohort in sorted(cohorts):
        members = cohorts[cohort]
        values: list[Decimal | None] = []
        for month in _months(cohort, end):
            cells = [by_company[c].get(month, CompanyMonth(Decimal(0), {})).mrr for c in members]
            if metric == "customers":
                share = _div(Decimal(sum(1 for v in cells if v > 0)), Decimal(len(members)))
            else:
                base = sum((by_company[c][cohort].mrr for c in members), Decimal(0))
                share = _div(sum(cells, Decimal(0)), base)
            values.append(None if share is None else _rate(share))
        out.append({"cohort": _label(cohort), "size": len(members), "values": values})
    return {"metric": metric, "cohorts": out}


@dataclass
class _InvoiceMonth:
    invoiced: Decimal = Decimal(0)
    collected: Decimal = Decimal(0)
    issued: int = 0
    paid: int = 0


def invoice_report(history: History, *, start: date, end: date, region: str | None) -> dict[str, Any]:
    months = {m: _InvoiceMonth() for m in _months(start, end)}
    for invoice in history.invoices:
        if not _in_region(history, invoice.company_id, region) or invoice.status == "void":
            continue
        issued = months.get(_month(invoice.issued_at))
        if issued is not None:
            issued.issued += 1
            rate = rate_on(history, invoice.currency, invoice.issued_at.astimezone(UTC).date())
            if rate is not None:
                issued.invoiced += invoice.total * rate
        if invoice.status == "paid" and invoice.paid_at is not None:
            paid = months.get(_month(invoice.paid_at))
            if paid is not None:
                paid.paid += 1
                rate = rate_on(history, invoice.currency, invoice.paid_at.astimezone(UTC).date())
                if rate is not None:
                    paid.collected += invoice.total * rate
    return {
        "currency": history.base_currency,
        "months": [
            {
                "month": _label(m),
                "invoiced": _money(v.invoiced),
                "collected": _money(v.collected),
                "issuedCount": v.issued,
                "paidCount": v.paid,
            }
            for m, v in months.items()
        ],
    }
