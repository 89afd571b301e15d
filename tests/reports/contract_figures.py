"""Figures in the exact shapes of ANALYTICS.md / INTERFACES.md §3 (Decimal money and rates, int counts, None for
null), varied enough that a renderer mixing up columns, rows or types shows it: no two numbers are equal."""

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from analytics.reports.definitions import add_months

CENT = Decimal("0.01")
RATE = Decimal("0.0001")


def _months(start: date, end: date) -> list[date]:
    months = [start]
    while months[-1] < end:
        months.append(add_months(months[-1], 1))
    return months


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _rate(value: float) -> Decimal:
    return Decimal(str(value)).quantize(RATE)


class ContractFigures:
    """Deterministic contract-shaped answers; `calls` records what was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, date, date, str | None]] = []

    async def mrr_report(self, conn: Any, *, start: date, end: date, region: str | None) -> dict[str, Any]:
        self.calls.append(("mrr", start, end, region))
        months = []
        for i, month in enumerate(_months(start, end)):
            first = i == 0
            months.append(
                {
                    "month": f"{month:%Y-%m}",
                    "mrr": _money(10000 + 1234.56 * i),
                    "arr": _money(12 * (10000 + 1234.56 * i)),
                    "customers": 40 + 3 * i,
                    "arpa": _money((10000 + 1234.56 * i) / (40 + 3 * i)),
                    "movements": {
                        "new": _money(900.10 + i),
                        "expansion": _money(400.20 + i),
                        "contraction": _money(-50.30 - i),
                        "churn": _money(-15.44 - i),
                        "reactivation": _money(0.11 * (i + 1)),
                        "fx": _money(-0.07 * (i + 1)),
                    },
                    "customerChurnRate": None if first else _rate(0.0123 + 0.0001 * i),
                    "grossMrrChurnRate": None if first else _rate(0.0234 + 0.0001 * i),
                    "netMrrChurnRate": None if first else _rate(-0.0345 - 0.0001 * i),
                    "nrr": None if first else _rate(1.0456 + 0.0001 * i),
                    "grr": None if first else _rate(0.9567 - 0.0001 * i),
                    "ltv": None if first else _money(20000.99 + 7 * i),
                }
            )
        return {"currency": "USD", "asOf": "2026-06-30T23:59:00+00:00", "unconvertedLines": 0, "months": months}

    async def cohort_report(
        self, conn: Any, *, metric: Literal["customers", "mrr"], start: date, end: date, region: str | None
    ) -> dict[str, Any]:
        self.calls.append((f"cohorts:{metric}", start, end, region))
        months = _months(start, end)
        cohorts = [
            {
                "cohort": f"{month:%Y-%m}",
                "size": 5 + i,
                "values": [_rate(1 - 0.0311 * k - 0.0007 * i) for k in range(len(months) - i)],
            }
            for i, month in enumerate(months)
        ]
        return {"metric": metric, "cohorts": cohorts}

    async def invoice_report(self, conn: Any, *, start: date, end: date, region: str | None) -> dict[str, Any]:
        self.calls.append(("invoices", start, end, region))
        months = [
            {
                "month": f"{month:%Y-%m}",
                "invoiced": _money(5000.5 + 101.01 * i),
                "collected": _money(4000.25 + 99.99 * i),
                "issuedCount": 20 + i,
                "paidCount": 15 + i,
            }
            for i, month in enumerate(_months(start, end))
        ]
        return {"currency": "USD", "months": months}
