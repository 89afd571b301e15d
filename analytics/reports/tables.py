"""The figures of a report as plain tables: the one shape every export format renders.

Values come unchanged from `analytics.figures` (the functions the API serves), so every format shows the API's
numbers: money and rates stay `Decimal`, counts `int`, missing values `None`; only months become `date`s.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, Protocol

from analytics.reports.definitions import Section

Kind = Literal["month", "int", "money", "rate"]
Cell = date | int | Decimal | None


@dataclass(frozen=True)
class Column:
    key: str  # the API's field name, used as the CSV header
    title: str  # what a person reads (spreadsheet and PDF headers)
    kind: Kind


@dataclass(frozen=True)
class Table:
    section: Section
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def column(self, key: str) -> list[Cell]:
        index = [column.key for column in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class ReportData:
    """Everything a renderer needs: what was asked (name, region, period) and the tables, in section order."""

    name: str
    region: str | None
    start: date
    end: date
    currency: str | None
    as_of: str | None
    generated_at: datetime
    tables: tuple[Table, ...]

    def table(self, section: Section) -> Table | None:
        return next((table for table in self.tables if table.section == section), None)


class Figures(Protocol):
    """`analytics.figures` (INTERFACES.md §3); a protocol so the tables can be built from any connection."""

    async def mrr_report(self, conn: Any, *, start: date, end: date, region: str | None) -> dict[str, Any]: ...

    async def cohort_report(
        self, conn: Any, *, metric: Literal["customers", "mrr"], start: date, end: date, region: str | None
    ) -> dict[str, Any]: ...

    async def invoice_report(self, conn: Any, *, start: date, end: date, region: str | None) -> dict[str, Any]: ...


TITLES: Final[dict[Section, str]] = {
    "mrr": "MRR",
    "movements": "Movements",
    "churn": "Churn",
    "cohorts": "Cohorts",
    "invoices": "Invoices",
}
MONTH: Final = Column("month", "Month", "month")


def _money(key: str, title: str, currency: str | None) -> Column:
    return Column(key, f"{title} ({currency})" if currency else title, "money")


def parse_month(value: str) -> date:
    return datetime.strptime(value, "%Y-%m").date()


def mrr_columns(currency: str | None) -> tuple[Column, ...]:
    return (
        MONTH,
        _money("mrr", "MRR", currency),
        _money("arr", "ARR", currency),
        Column("customers", "Customers", "int"),
        _money("arpa", "ARPA", currency),
        _money("ltv", "LTV", currency),
    )


MOVEMENTS: Final = ("new", "expansion", "contraction", "churn", "reactivation", "fx")
CHURN: Final = (
    Column("customerChurnRate", "Customer churn", "rate"),
    Column("grossMrrChurnRate", "Gross MRR churn", "rate"),
    Column("netMrrChurnRate", "Net MRR churn", "rate"),
    Column("nrr", "NRR", "rate"),
    Column("grr", "GRR", "rate"),
)
INVOICES: Final = (("invoiced", "Invoiced"), ("collected", "Collected"))


def _mrr_tables(sections: Sequence[Section], mrr: dict[str, Any]) -> dict[Section, Table]:
    currency = mrr.get("currency")
    months = mrr["months"]
    tables: dict[Section, Table] = {}
    if "mrr" in sections:
        columns = mrr_columns(currency)
        rows = tuple((parse_month(m["month"]), *(m[c.key] for c in columns[1:])) for m in months)
        tables["mrr"] = Table("mrr", TITLES["mrr"], columns, rows)
    if "movements" in sections:
        columns = (MONTH, *(_money(key, key.capitalize(), currency) for key in MOVEMENTS))
        rows = tuple((parse_month(m["month"]), *(m["movements"][key] for key in MOVEMENTS)) for m in months)
        tables["movements"] = Table("movements", TITLES["movements"], columns, rows)
    if "churn" in sections:
        rows = tuple((parse_month(m["month"]), *(m[c.key] for c in CHURN)) for m in months)
        tables["churn"] = Table("churn", TITLES["churn"], (MONTH, *CHURN), rows)
    return tables


def cohort_table(cohorts: dict[str, Any]) -> Table:
    """One row per cohort: its size, then the share still active k months later (k = 0, 1, ...)."""
    entries = cohorts["cohorts"]
    width = max((len(entry["values"]) for entry in entries), default=0)
    columns = (
        Column("cohort", "Cohort", "month"),
        Column("size", "Customers", "int"),
        *(Column(f"month{k}", f"Month {k}", "rate") for k in range(width)),
    )
    rows = tuple(
        (parse_month(e["cohort"]), e["size"], *e["values"], *([None] * (width - len(e["values"])))) for e in entries
    )
    return Table("cohorts", TITLES["cohorts"], columns, rows)


def invoice_table(invoices: dict[str, Any]) -> Table:
    currency = invoices.get("currency")
    columns = (
        MONTH,
        *(_money(key, title, currency) for key, title in INVOICES),
        Column("issuedCount", "Issued", "int"),
        Column("paidCount", "Paid", "int"),
    )
    rows = tuple((parse_month(m["month"]), *(m[c.key] for c in columns[1:])) for m in invoices["months"])
    return Table("invoices", TITLES["invoices"], columns, rows)


async def collect(
    figures: Figures,
    conn: Any,
    *,
    name: str,
    sections: Sequence[Section],
    region: str | None,
    start: date,
    end: date,
    generated_at: datetime,
) -> ReportData:
    """Ask `figures` only for what the sections need (one MRR query serves mrr, movements and churn)."""
    tables: dict[Section, Table] = {}
    currency: str | None = None
    as_of: str | None = None
    if {"mrr", "movements", "churn"} & set(sections):
        mrr = await figures.mrr_report(conn, start=start, end=end, region=region)
        currency, as_of = mrr.get("currency"), mrr.get("asOf")
        tables.update(_mrr_tables(sections, mrr))
    if "cohorts" in sections:
        cohorts = await figures.cohort_report(conn, metric="customers", start=start, end=end, region=region)
        tables["cohorts"] = cohort_table(cohorts)
    if "invoices" in sections:
        invoices = await figures.invoice_report(conn, start=start, end=end, region=region)
        currency = currency or invoices.get("currency")
        tables["invoices"] = invoice_table(invoices)
    return ReportData(
        name=name,
        region=region,
        start=start,
        end=end,
        currency=currency,
        as_of=as_of,
        generated_at=generated_at,
        tables=tuple(tables[section] for section in sections),
    )
