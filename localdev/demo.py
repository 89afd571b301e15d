"""A realistic demo billing history for `make run`: two years, three regions, three currencies with moving rates.

Each company starts on a plan (monthly, some yearly), adds or drops seats, moves between plans, may get an
introductory discount, churns and sometimes comes back; a setup fee on its first invoice; most invoices are paid
within two weeks, a few stay open, a few are voided. EUR and JPY rates against USD follow a daily random walk.
Written straight into the main database in one transaction (the same tables the billing API writes), with a fixed
seed, so every `make run` shows the same figures.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

import asyncpg

from analytics.figures import add_months

SEED: Final = 2026
MONTHS: Final = 24
COMPANIES_PER_REGION: Final = 40
REGIONS: Final = {
    "eu": ("EUR", ("DE", "FR", "IE", "NL", "ES")),
    "us": ("USD", ("US", "CA", "BR")),
    "asia": ("JPY", ("JP", "SG", "IN")),
}
# Monthly list prices per seat, by currency (JPY has no minor unit).
PLANS: Final = {
    "starter": {"USD": Decimal("29.00"), "EUR": Decimal("27.00"), "JPY": Decimal("4300")},
    "pro": {"USD": Decimal("99.00"), "EUR": Decimal("92.00"), "JPY": Decimal("14800")},
    "business": {"USD": Decimal("299.00"), "EUR": Decimal("279.00"), "JPY": Decimal("44800")},
}
TIERS: Final = tuple(PLANS)
SETUP_FEE: Final = {"USD": Decimal("250.00"), "EUR": Decimal("230.00"), "JPY": Decimal("37000")}
START_RATE: Final = {"EUR": 1.08, "JPY": 0.0068}
CENT: Final = Decimal("0.01")


@dataclass
class _Company:
    id: int
    region: str
    currency: str
    tier: int
    seats: int
    yearly: bool
    discount_months: int
    active: bool = True
    paid_until: date | None = None  # for yearly plans: the month the current year ends
    invoiced_once: bool = False
    lines: list[Any] = field(default_factory=list)


def _ts(month: date, day: int = 1) -> datetime:
    return datetime(month.year, month.month, day, tzinfo=UTC)


def _rates(rng: random.Random, first: date, last: date) -> list[tuple[date, str, Decimal]]:
    rows = []
    for currency, start in START_RATE.items():
        value = start
        day = first
        while day <= last:
            rows.append((day, currency, Decimal(f"{value:.10f}")))
            value *= 1 + rng.gauss(0, 0.004)
            day += timedelta(days=1)
    return rows


def generate(today: date) -> dict[str, list[tuple[Any, ...]]]:
    """The rows to insert (companies, invoices, lines, fx rates), ending at the current month."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not a secret
    this_month = today.replace(day=1)
    first = add_months(this_month, -(MONTHS - 1))
    companies: list[_Company] = []
    company_rows: list[tuple[Any, ...]] = []
    starts: dict[int, date] = {}
    for region, (currency, countries) in REGIONS.items():
        for n in range(COMPANIES_PER_REGION):
            company_id = len(companies) + 1
            company = _Company(
                company_id, region, currency, rng.choices((0, 1, 2), (5, 3, 1))[0], rng.randint(1, 12),
                rng.random() < 0.15, 3 if rng.random() < 0.3 else 0,
            )  # fmt: skip
            companies.append(company)
            company_rows.append((company_id, f"{region}-demo-{n + 1}", rng.choice(countries), region))
            # A quarter are customers from the start; the others sign up over the two years, more of them later.
            offset = 0 if rng.random() < 0.25 else int(MONTHS * rng.random() ** 0.8)
            starts[company_id] = add_months(first, offset)
    invoices: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    month = first
    while month <= this_month:
        for company in companies:
            if starts[company.id] > month:
                continue
            if company.active and company.invoiced_once and rng.random() < 0.03:
                company.active = False  # churn
            elif not company.active and rng.random() < 0.08:
                company.active, company.paid_until = True, None  # reactivation
            if not company.active:
                continue
            if company.invoiced_once:
                roll = rng.random()
                if roll < 0.05:
                    company.seats += rng.randint(1, 3)
                elif roll < 0.08 and company.seats > 1:
                    company.seats -= 1
                elif roll < 0.10 and company.tier < 2:
                    company.tier += 1
                elif roll < 0.11 and company.tier > 0:
                    company.tier -= 1
            if company.yearly and company.paid_until is not None and month < company.paid_until:
                continue  # inside a paid year
            _invoice(rng, company, month, this_month, invoices, lines)
        month = add_months(month, 1)
    return {
        "companies": company_rows,
        "invoices": invoices,
        "invoice_lines": lines,
        "fx_rates": _rates(rng, first - timedelta(days=31), today),
    }


def _invoice(
    rng: random.Random,
    company: _Company,
    month: date,
    this_month: date,
    invoices: list[tuple[Any, ...]],
    lines: list[tuple[Any, ...]],
) -> None:
    invoice_id = len(invoices) + 1
    price = PLANS[TIERS[company.tier]][company.currency]
    months = 12 if company.yearly else 1
    amount = price * 10 if company.yearly else price  # yearly: two months free
    quantity = Decimal(company.seats)
    discount = Decimal(0)
    if company.discount_months > 0:
        discount = (amount * quantity * Decimal("0.2")).quantize(CENT, ROUND_HALF_UP)
        company.discount_months -= 1
    end = add_months(month, months)
    issued = _ts(month, 1) + timedelta(hours=rng.randint(0, 20))
    position = 1
    lines.append((
        invoice_id, position, "subscription", f"sub-{company.id}", TIERS[company.tier],
        "year" if company.yearly else "month", 1, quantity, amount, discount, None, _ts(month), _ts(end),
    ))  # fmt: skip
    total = (amount * quantity - discount).quantize(CENT, ROUND_HALF_UP)
    if not company.invoiced_once:
        position += 1
        fee = SETUP_FEE[company.currency]
        lines.append((invoice_id, position, "one_time", None, None, None, None, Decimal(1), fee, Decimal(0),
                      "setup", None, None))  # fmt: skip
        total += fee
    company.invoiced_once = True
    company.paid_until = end if company.yearly else None
    status = "paid"
    paid_at: datetime | None = issued + timedelta(days=rng.randint(0, 14), hours=rng.randint(0, 23))
    voided_at: datetime | None = None
    roll = rng.random()
    if roll < 0.02:
        status, paid_at, voided_at = "void", None, issued + timedelta(days=rng.randint(1, 5))
    elif roll < 0.06 or (month == this_month and roll < 0.5):
        status, paid_at = "issued", None
    if paid_at is not None and paid_at > datetime.now(UTC):
        status, paid_at = "issued", None
    invoices.append((invoice_id, company.id, company.currency, total, status, issued, paid_at, voided_at))


async def seed_if_empty(dsn: str, today: date | None = None) -> int:
    """Seed the demo history into an empty billing database; returns the invoices written (0: left alone)."""
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM invoices) OR EXISTS (SELECT 1 FROM companies)"):
            return 0
        rows = generate(today or datetime.now(UTC).date())
        async with conn.transaction():
            await conn.copy_records_to_table(
                "companies", records=rows["companies"], columns=["id", "name", "country", "region"]
            )
            await conn.copy_records_to_table(
                "invoices",
                records=rows["invoices"],
                columns=["id", "company_id", "currency", "amount", "status", "issued_at", "paid_at", "voided_at"],
            )
            await conn.copy_records_to_table(
                "invoice_lines",
                records=rows["invoice_lines"],
                columns=[
                    "invoice_id", "position", "kind", "subscription_id", "plan", "interval", "interval_count",
                    "quantity", "amount", "discount", "description", "service_period_start", "service_period_end",
                ],
            )  # fmt: skip
            await conn.copy_records_to_table("fx_rates", records=rows["fx_rates"], columns=["day", "currency", "rate"])
            for table in ("companies", "invoices"):  # ids were given explicitly: move the identities past them
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        return len(rows["invoices"])
    finally:
        await conn.close()
