"""CSV for people's own tools: UTF-8, a header row of the API's field names, ISO months, plain decimals.
One section is one `text/csv` file; several are a zip with one CSV per section."""

import csv
import io
import zipfile
from datetime import date

from analytics.mailer import Attachment
from analytics.reports.export import CONTENT_TYPES, file_name
from analytics.reports.tables import Cell, ReportData, Table


def _value(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return f"{cell:%Y-%m}"  # ISO 8601 calendar month, as the API writes months
    return str(cell)  # Decimal keeps its exact digits (never a float)


def table_csv(table: Table) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([column.key for column in table.columns])
    writer.writerows([_value(cell) for cell in row] for row in table.rows)
    return out.getvalue().encode("utf-8")


def render(data: ReportData) -> Attachment:
    if len(data.tables) == 1:
        [table] = data.tables
        return Attachment(file_name(data, "csv", table.section), CONTENT_TYPES["csv"], table_csv(table))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in data.tables:
            archive.writestr(f"{table.section}.csv", table_csv(table))
    return Attachment(file_name(data, "zip"), CONTENT_TYPES["zip"], buffer.getvalue())
