"""What each section must show, read straight from the figures' JSON (the API's answer), independently of the
exports' own table code: the tests compare every file cell by cell against these rows."""

from decimal import Decimal
from typing import Any

Row = list[Any]

MRR_KEYS = ("mrr", "arr", "customers", "arpa", "ltv")
MOVEMENT_KEYS = ("new", "expansion", "contraction", "churn", "reactivation", "fx")
CHURN_KEYS = ("customerChurnRate", "grossMrrChurnRate", "netMrrChurnRate", "nrr", "grr")
INVOICE_KEYS = ("invoiced", "collected", "issuedCount", "paidCount")
RATE_SECTIONS = {"churn", "cohorts"}


def expected(section: str, mrr: dict[str, Any], cohorts: dict[str, Any], invoices: dict[str, Any]) -> list[Row]:
    """Rows as (month "YYYY-MM", values...) with the API's Decimal/int/None values."""
    if section == "mrr":
        return [[m["month"], *(m[k] for k in MRR_KEYS)] for m in mrr["months"]]
    if section == "movements":
        return [[m["month"], *(m["movements"][k] for k in MOVEMENT_KEYS)] for m in mrr["months"]]
    if section == "churn":
        return [[m["month"], *(m[k] for k in CHURN_KEYS)] for m in mrr["months"]]
    if section == "invoices":
        return [[m["month"], *(m[k] for k in INVOICE_KEYS)] for m in invoices["months"]]
    width = max(len(c["values"]) for c in cohorts["cohorts"])
    return [[c["cohort"], c["size"], *c["values"], *[None] * (width - len(c["values"]))] for c in cohorts["cohorts"]]


def as_decimal(value: Any) -> Any:
    """A spreadsheet or CSV number back as Decimal (floats via their shortest repr: exact for cents and 4 dp)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def pdf_text(value: Any, rate: bool) -> str | None:
    """How the PDF prints a figure (None prints as a dash and is not searched for)."""
    if value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if rate:
        return f"{value * 100:,.2f}%"
    return f"{value:,.2f}"
