"""The three export formats, parsed back with independent tools (openpyxl, pdftotext/pdffonts, csv/zipfile) and
compared cell by cell with the figures' JSON they were made from."""

import csv
import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTRect

from analytics.reports.definitions import SECTIONS, Section
from analytics.reports.export import display, render
from analytics.reports.pdf_export import FONT_DIR
from analytics.reports.tables import MONTH, Column, ReportData, Table, collect
from tests.reports.contract_figures import ContractFigures
from tests.reports.expected import RATE_SECTIONS, as_decimal, expected, pdf_text
from tests.reports.helpers import poppler

START, END = date(2025, 7, 1), date(2026, 6, 1)
GENERATED = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)
SHEETS = {"mrr": "MRR", "movements": "Movements", "churn": "Churn", "cohorts": "Cohorts", "invoices": "Invoices"}


async def _data(sections: list[Section], region: str | None = "eu", name: str = "Board pack Q2 / 2026") -> ReportData:
    return await collect(
        ContractFigures(), None, name=name, sections=sections, region=region, start=START, end=END,
        generated_at=GENERATED,
    )  # fmt: skip


async def _figures(region: str | None = "eu") -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    figures = ContractFigures()
    return (
        await figures.mrr_report(None, start=START, end=END, region=region),
        await figures.cohort_report(None, metric="customers", start=START, end=END, region=region),
        await figures.invoice_report(None, start=START, end=END, region=region),
    )


def xlsx_rows(data: bytes, sheet: str) -> tuple[list[str], list[list[Any]]]:
    worksheet = openpyxl.load_workbook(io.BytesIO(data))[sheet]
    rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
    return [str(title) for title in rows[0]], rows[1:]


async def test_xlsx_cells_equal_the_figures_with_types_and_formats() -> None:
    attachment = render(await _data(list(SECTIONS)), "xlsx")
    mrr, cohorts, invoices = await _figures()
    workbook = openpyxl.load_workbook(io.BytesIO(attachment.data))
    assert workbook.sheetnames == [SHEETS[s] for s in SECTIONS]
    for section in SECTIONS:
        sheet = workbook[SHEETS[section]]
        header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        want = expected(section, mrr, cohorts, invoices)
        got = [[f"{row[0]:%Y-%m}", *(as_decimal(v) for v in row[1:])] for row in rows]
        assert got == want, section
        assert all(isinstance(row[0], datetime) for row in rows), section  # months are dates, not text
        assert all(isinstance(v, int | float) for row in rows for v in row[1:] if v is not None), section
        assert sheet.freeze_panes == "B2", section
        first = next(iter(sheet.iter_rows(min_row=2, max_row=2)))
        assert first[0].is_date
        assert first[0].number_format == "yyyy-mm"
        for cell, column in zip(first[1:], header[1:], strict=True):
            if section in RATE_SECTIONS and column != "Customers":
                assert cell.number_format == "0.00%", (section, column)
            elif column in ("Customers", "Issued", "Paid"):
                assert cell.number_format == "#,##0", (section, column)
            else:
                assert cell.number_format == "#,##0.00", (section, column)
                assert "(USD)" in str(column)
        for letter, title in zip("ABCDEFGHIJKLMN", header, strict=False):
            assert sheet.column_dimensions[letter].width >= len(str(title)), (section, title)


async def test_xlsx_has_a_native_mrr_chart_over_the_mrr_cells() -> None:
    attachment = render(await _data(["movements", "mrr"]), "xlsx")
    with zipfile.ZipFile(io.BytesIO(attachment.data)) as archive:
        charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
        assert len(charts) == 1
        chart = archive.read(charts[0]).decode()
    assert "<c:barChart>" in chart
    assert "MRR!$B$2:$B$13" in chart  # the values are the MRR column's twelve months, live cells
    assert "MRR!$A$2:$A$13" in chart


async def test_pdf_shows_every_figure_title_period_and_region(tmp_path: Any) -> None:
    attachment = render(await _data(list(SECTIONS), name="Board pack Q2 & more"), "pdf")
    text = poppler("pdftotext", attachment.data, tmp_path, "-layout")
    mrr, cohorts, invoices = await _figures()
    assert "Board pack Q2 & more" in text
    assert "Period 2025-07 to 2026-06" in text
    assert "Region: eu" in text
    lines = text.splitlines()
    for section in SECTIONS:
        for row in expected(section, mrr, cohorts, invoices):
            month, *values = row
            printed = [pdf_text(v, section in RATE_SECTIONS and not isinstance(v, int)) for v in values]
            printed_present = [p for p in printed if p is not None]
            assert any(line.split()[:1] == [month] and _in_order(line, printed_present) for line in lines), (
                section,
                month,
                printed_present,
            )


def _in_order(line: str, parts: list[str]) -> bool:
    return re.search(r"\s+".join(re.escape(p) for p in parts), line) is not None


async def test_pdf_embeds_every_font_it_uses_and_is_a4(tmp_path: Any) -> None:
    attachment = render(await _data(list(SECTIONS)), "pdf")  # tables and the MRR chart
    fonts = poppler("pdffonts", attachment.data, tmp_path)
    used = {parts[0].split("+")[-1]: parts[-5] for parts in (line.split() for line in fonts.splitlines()[2:])}
    assert used == {"DejaVuSans": "yes", "DejaVuSans-Bold": "yes"}  # name -> the "emb" column
    info = poppler("pdfinfo", attachment.data, tmp_path)
    assert re.search(r"Page size:\s+841\.89 x 595\.2\d* pts \(A4\)", info), info


async def test_csv_one_section_is_one_utf8_file_with_iso_months() -> None:
    attachment = render(await _data(["invoices"], name="Rechnungen Zürich"), "csv")
    assert attachment.content_type == "text/csv; charset=utf-8"
    assert attachment.filename == "rechnungen-zurich_invoices_2025-07_to_2026-06_eu_generated-20260608T0700Z.csv"
    mrr, cohorts, invoices = await _figures()
    rows = list(csv.reader(io.StringIO(attachment.data.decode("utf-8"))))
    assert rows[0] == ["month", "invoiced", "collected", "issuedCount", "paidCount"]
    assert [[r[0], *(as_decimal(v) if "." in v else int(v) for v in r[1:])] for r in rows[1:]] == expected(
        "invoices", mrr, cohorts, invoices
    )


async def test_csv_several_sections_are_a_zip_of_csvs_that_parse_back() -> None:
    attachment = render(await _data(["mrr", "churn", "cohorts"], region=None), "csv")
    assert attachment.content_type == "application/zip"
    assert attachment.filename.endswith("_all-regions_generated-20260608T0700Z.zip")
    mrr, cohorts, invoices = await _figures(None)
    with zipfile.ZipFile(io.BytesIO(attachment.data)) as archive:
        assert archive.namelist() == ["mrr.csv", "churn.csv", "cohorts.csv"]
        for section in ("mrr", "churn", "cohorts"):
            header, *rows = csv.reader(io.StringIO(archive.read(f"{section}.csv").decode("utf-8")))
            assert header[0] == ("cohort" if section == "cohorts" else "month")
            parsed = [
                [r[0], *(None if v == "" else as_decimal(v) if "." in v else int(v) for v in r[1:])] for r in rows
            ]
            assert parsed == expected(section, mrr, cohorts, invoices), section


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "csv"])
async def test_file_name_says_what_and_when(fmt: str) -> None:
    attachment = render(await _data(["mrr"], name="Weekly MRR"), fmt)  # type: ignore[arg-type]
    assert attachment.filename.startswith("weekly-mrr_")
    assert "2025-07_to_2026-06_eu_generated-20260608T0700Z" in attachment.filename


def test_the_image_installs_the_fonts_the_pdf_embeds() -> None:
    dockerfile = (Path(__file__).parents[2] / "app" / "Dockerfile").read_text()
    final_stage = dockerfile.rpartition("\nFROM ")[2]
    assert re.search(r"apt-get install -y --no-install-recommends [^\n]*\bfonts-dejavu-core\b", final_stage)
    assert Path("/usr/share/fonts/truetype/dejavu") == FONT_DIR  # where Debian's fonts-dejavu-core puts them


BAR_COLOUR = (0.184314, 0.427451, 0.709804)  # pdf_export's #2f6db5, as pdfminer reads the fill colour


async def test_pdf_draws_the_mrr_chart_one_bar_per_month_to_scale() -> None:
    attachment = render(await _data(["movements", "mrr"]), "pdf")
    mrr, _, _ = await _figures()
    first_page = next(iter(extract_pages(io.BytesIO(attachment.data))))
    bars = sorted(
        (e for e in first_page if isinstance(e, LTRect) and e.non_stroking_color == BAR_COLOUR), key=lambda e: e.x0
    )
    values = [m["mrr"] for m in mrr["months"]]
    assert len(bars) == len(values) == 12
    tallest = max(bar.height for bar in bars)
    for bar, value in zip(bars, values, strict=True):  # from a zero baseline: height proportional to MRR
        assert abs(bar.height / tallest - float(value / max(values))) < 0.005, (bar.height, value)


async def test_xlsx_columns_are_wide_enough_for_their_values() -> None:
    data = await _data(list(SECTIONS))
    big = Table("mrr", "MRR", (MONTH, Column("mrr", "MRR", "money")), ((START, Decimal("1234567890.12")),))
    for report in (data, replace(data, tables=(big,))):  # the second: values far wider than their header
        workbook = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx").data))
        for table in report.tables:
            sheet = workbook[SHEETS[table.section]]
            for index, column in enumerate(table.columns):
                letter = openpyxl.utils.get_column_letter(index + 1)
                widest = max(len(display(row[index], column.kind)) for row in table.rows)
                assert sheet.column_dimensions[letter].width >= widest, (table.section, column.key)
