"""From the figures' JSON objects (analytics/figures.py, exactly what the API returns) to what the page shows.

Nothing here computes a figure: it picks, formats and lays out. Each displayed number keeps its exact value in a
`data-value` attribute, and the text is the same value rounded only as the API rounds it (money 2 decimals, rates
shown as percentages with the API's 4 decimals), so tests can compare the page with the API both ways.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from app import charts

Kind = Literal["money", "rate", "count"]
NONE_TEXT: Final = "—"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind


MRR_COLUMNS: Final = (
    Column("mrr", "MRR", "money"),
    Column("arr", "ARR", "money"),
    Column("customers", "Customers", "count"),
    Column("arpa", "ARPA", "money"),
    Column("new", "New", "money"),
    Column("expansion", "Expansion", "money"),
    Column("contraction", "Contraction", "money"),
    Column("churn", "Churn", "money"),
    Column("reactivation", "Reactivation", "money"),
    Column("fx", "FX", "money"),
    Column("ltv", "LTV", "money"),
)
RATE_COLUMNS: Final = (
    Column("customerChurnRate", "Customer churn", "rate"),
    Column("grossMrrChurnRate", "Gross MRR churn", "rate"),
    Column("netMrrChurnRate", "Net MRR churn", "rate"),
    Column("nrr", "NRR", "rate"),
    Column("grr", "GRR", "rate"),
)
TILES: Final = (
    *(c for c in MRR_COLUMNS if c.key in ("mrr", "arr", "customers", "arpa", "ltv")),
    *RATE_COLUMNS,
)


def fmt(value: Any, kind: Kind) -> str:
    """The displayed text: money with thousands separators and cents, rates as percentages, counts plain."""
    if value is None:
        return NONE_TEXT
    number = Decimal(value)
    if kind == "money":
        return f"{number:,.2f}"
    if kind == "rate":
        return f"{number * 100:,.2f}%"
    return f"{int(number):,}"


def fmt_change(cur: Any, prev: Any, kind: Kind) -> str:
    if cur is None or prev is None:
        return f"{NONE_TEXT} vs last month"
    delta = Decimal(cur) - Decimal(prev)
    sign = "+" if delta > 0 else ("\N{MINUS SIGN}" if delta < 0 else "\N{PLUS-MINUS SIGN}")
    if kind == "rate":
        return f"{sign}{abs(delta) * 100:,.2f} pp vs last month"
    text = f"{abs(delta):,.2f}" if kind == "money" else f"{abs(int(delta)):,}"
    return f"{sign}{text} vs last month"


def raw(value: Any) -> str:
    return "" if value is None else str(value)


def cell(key: str, value: Any, kind: Kind) -> dict[str, str]:
    return {"key": key, "raw": raw(value), "text": fmt(value, kind)}


def value_of(entry: dict[str, Any], key: str) -> Any:
    return entry["movements"][key] if key in entry["movements"] else entry[key]


def _rows(months: Sequence[dict[str, Any]], columns: Sequence[Column]) -> list[dict[str, Any]]:
    return [{"month": m["month"], "cells": [cell(c.key, value_of(m, c.key), c.kind) for c in columns]} for m in months]


def _tiles(cur: dict[str, Any], prev: dict[str, Any] | None) -> list[dict[str, str]]:
    tiles = []
    for column in TILES:
        value = value_of(cur, column.key)
        before = value_of(prev, column.key) if prev is not None else None
        tiles.append(
            {
                "key": column.key,
                "label": column.label,
                "raw": raw(value),
                "text": fmt(value, column.kind),
                "change": fmt_change(value, before, column.kind),
            }
        )
    return tiles


def _cohorts(report: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    cohorts = []
    width = 0
    for cohort in report["cohorts"]:
        values = cohort["values"]
        width = max(width, len(values))
        cells = [{"raw": raw(v), "text": fmt(v, "rate"), "css": charts.heat_class(v)} for v in values]
        cohorts.append({"cohort": cohort["cohort"], "size": cohort["size"], "cells": cells})
    return cohorts, width


def _invoice_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for m in report["months"]:
        cells = [
            cell("invoiced", m["invoiced"], "money"),
            cell("collected", m["collected"], "money"),
            cell("issuedCount", m["issuedCount"], "count"),
            cell("paidCount", m["paidCount"], "count"),
            cell("low", None, "money"),
            cell("high", None, "money"),
        ]
        rows.append({"month": m["month"], "kind": "actual", "cells": cells})
    for f in report.get("forecast", []):
        cells = [
            cell("invoiced", f["invoiced"], "money"),
            cell("collected", None, "money"),
            cell("issuedCount", None, "count"),
            cell("paidCount", None, "count"),
            cell("low", f["low"], "money"),
            cell("high", f["high"], "money"),
        ]
        rows.append({"month": f["month"], "kind": "forecast", "cells": cells})
    return rows


def panels(
    mrr: dict[str, Any],
    cohorts: dict[str, Any],
    invoices: dict[str, Any],
    requests: list[dict[str, Any]],
    *,
    shown_from: str,
) -> dict[str, Any]:
    """The template's model. `mrr` may start one month before `shown_from` (the tiles' comparison month)."""
    months = [m for m in mrr["months"] if m["month"] >= shown_from]
    cur = months[-1]
    earlier = [m for m in mrr["months"] if m["month"] < cur["month"]]
    prev = earlier[-1] if earlier else None
    cohort_rows, cohort_width = _cohorts(cohorts)
    currency = mrr["currency"]
    return {
        "currency": currency,
        "as_of": mrr["asOf"],
        "unconverted": mrr["unconvertedLines"],
        "month": cur["month"],
        "prev_month": prev["month"] if prev else "the month before",
        "tiles": _tiles(cur, prev),
        "mrr_columns": MRR_COLUMNS,
        "mrr_rows": _rows(months, MRR_COLUMNS),
        "rate_columns": RATE_COLUMNS,
        "rate_rows": _rows(months, RATE_COLUMNS),
        "mrr_chart": charts.mrr_chart(months, currency),
        "cohort_metric": cohorts["metric"],
        "cohorts": cohort_rows,
        "cohort_width": cohort_width,
        "invoice_rows": _invoice_rows(invoices),
        "invoice_chart": charts.invoice_chart(invoices["months"], invoices.get("forecast", []), currency),
        "requests": requests,
    }
