"""Excel workbook (xlsxwriter): one sheet per section, real numbers and dates with money/percent formats, frozen
header row, fitted column widths, and a native Excel chart of MRR on the MRR sheet."""

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from analytics.mailer import Attachment
from analytics.reports.export import CONTENT_TYPES, display, file_name
from analytics.reports.tables import Kind, ReportData, Table

NUMBER_FORMATS: Final[dict[Kind, str]] = {
    "month": "yyyy-mm",
    "int": "#,##0",
    "money": "#,##0.00",
    "rate": "0.00%",
}
MIN_WIDTH: Final = 8
MAX_WIDTH: Final = 40


def _fit(table: Table, index: int) -> int:
    column = table.columns[index]
    longest = max([len(column.title), *(len(display(row[index], column.kind)) for row in table.rows)])
    return min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)


def _write_table(sheet: Worksheet, table: Table, header: Any, formats: dict[Kind, Any]) -> None:
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, column.title, header)
        sheet.set_column(col, col, _fit(table, col), formats[column.kind])
    for row_index, row in enumerate(table.rows, start=1):
        for col, (cell, column) in enumerate(zip(row, table.columns, strict=True)):
            fmt = formats[column.kind]
            if cell is None:
                sheet.write_blank(row_index, col, None, fmt)
            elif isinstance(cell, date):
                sheet.write_datetime(row_index, col, datetime(cell.year, cell.month, cell.day), fmt)
            elif isinstance(cell, Decimal | int):
                sheet.write_number(row_index, col, float(cell), fmt)  # Excel stores IEEE doubles
            else:  # pragma: no cover - Cell has no other types
                raise TypeError(f"unexpected cell {cell!r}")
    sheet.freeze_panes(1, 1)
    if table.rows:
        sheet.autofilter(0, 0, len(table.rows), len(table.columns) - 1)


def _mrr_chart(workbook: Any, sheet: Worksheet, table: Table) -> None:
    """A column chart of MRR by month, anchored beside the table; it references the cells, so it is live."""
    rows = len(table.rows)
    if rows == 0:
        return
    chart = workbook.add_chart({"type": "column"})
    name = sheet.get_name()
    chart.add_series(
        {
            "name": [name, 0, 1],
            "categories": [name, 1, 0, rows, 0],
            "values": [name, 1, 1, rows, 1],
        }
    )
    chart.set_title({"name": "MRR by month"})
    chart.set_legend({"none": True})
    chart.set_x_axis({"num_format": "yyyy-mm", "date_axis": False})
    chart.set_y_axis({"num_format": "#,##0"})
    chart.set_size({"width": 720, "height": 360})
    sheet.insert_chart(1, len(table.columns) + 1, chart)


def render(data: ReportData) -> Attachment:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    workbook.set_properties(
        {
            "title": data.name,
            "subject": f"{data.start:%Y-%m} to {data.end:%Y-%m}, {data.region or 'all regions'}",
            "comments": f"figures as of {data.as_of or 'no data'}; generated {data.generated_at.isoformat()}",
        }
    )
    header = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": False})
    formats: dict[Kind, Any] = {kind: workbook.add_format({"num_format": f}) for kind, f in NUMBER_FORMATS.items()}
    for table in data.tables:
        sheet = workbook.add_worksheet(table.title)
        _write_table(sheet, table, header, formats)
        if table.section == "mrr":
            _mrr_chart(workbook, sheet, table)
    workbook.close()
    return Attachment(file_name(data, "xlsx"), CONTENT_TYPES["xlsx"], buffer.getvalue())
