"""One entry point for every format: the file (name, content type, bytes) of a report for a period."""

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Final

from analytics.mailer import Attachment
from analytics.reports.definitions import Format
from analytics.reports.tables import Cell, Kind, ReportData

CONTENT_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
_HUNDRED: Final = Decimal(100)


def slug(text: str) -> str:
    """ASCII, lower case, dashes: safe in any file system and in a plain Content-Disposition filename."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "report"


def file_name(data: ReportData, extension: str, part: str | None = None) -> str:
    """What and when: report name (and section), period, region, generation time, e.g.
    `weekly-mrr_2025-07_to_2026-06_eu_generated-20261207T0700Z.xlsx`."""
    pieces = [slug(data.name), *([part] if part else []), f"{data.start:%Y-%m}_to_{data.end:%Y-%m}"]
    pieces.append(data.region or "all-regions")
    pieces.append(f"generated-{data.generated_at:%Y%m%dT%H%MZ}")
    return "_".join(pieces) + f".{extension}"


def display(cell: Cell, kind: Kind, missing: str = "") -> str:
    """How a person reads a value (PDF cells, spreadsheet column widths); exact: rates have 4 decimals."""
    if cell is None:
        return missing
    if kind == "month" and isinstance(cell, date):
        return f"{cell:%Y-%m}"
    if kind == "money" and isinstance(cell, Decimal):
        return f"{cell:,.2f}"
    if kind == "rate" and isinstance(cell, Decimal):
        return f"{cell * _HUNDRED:,.2f}%"
    return str(cell)


def render(data: ReportData, fmt: Format) -> Attachment:
    from analytics.reports import csv_export, pdf_export, xlsx_export

    renderers: dict[str, Callable[[ReportData], Attachment]] = {
        "csv": csv_export.render,
        "xlsx": xlsx_export.render,
        "pdf": pdf_export.render,
    }
    return renderers[fmt](data)
