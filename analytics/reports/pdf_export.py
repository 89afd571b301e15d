"""PDF (ReportLab): title, period and region, the MRR chart, then each section as a table; DejaVu TrueType fonts
are embedded (subset), so the file renders the same everywhere. A4 landscape: the cohort table is wide."""

import io
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from analytics.mailer import Attachment
from analytics.reports.export import CONTENT_TYPES, display, file_name
from analytics.reports.tables import ReportData, Table

FONT_DIR: Final = Path("/usr/share/fonts/truetype/dejavu")  # Debian fonts-dejavu-core (bootstrap, Dockerfile)
FONT: Final = "DejaVuSans"
BOLD: Final = "DejaVuSans-Bold"
MISSING: Final = "\u2013"  # en dash: no value (a rate without denominator, a cohort month not reached yet)
PAGE: Final = landscape(A4)


class FontMissing(RuntimeError):
    """The TrueType fonts the PDF embeds are not installed."""


@cache
def _register_fonts() -> None:
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        path = FONT_DIR / file
        if not path.exists():
            raise FontMissing(f"{path} is missing: install Debian's fonts-dejavu-core (scripts/bootstrap.sh)")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=18, leading=22, spaceAfter=4),
        "meta": ParagraphStyle("meta", fontName=FONT, fontSize=9, leading=12, textColor=colors.HexColor("#444444")),
        "heading": ParagraphStyle("heading", fontName=BOLD, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4),
    }


def _table(table: Table) -> PdfTable:
    header = [column.title for column in table.columns]
    body = [
        [display(cell, column.kind, MISSING) for cell, column in zip(row, table.columns, strict=True)]
        for row in table.rows
    ]
    font_size = 8 if len(table.columns) <= 8 else 6.5
    pdf_table = PdfTable([header, *body], repeatRows=1, hAlign="LEFT")
    pdf_table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, font_size),
                ("FONT", (0, 0), (-1, 0), BOLD, font_size),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")]),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return pdf_table


def _mrr_chart(table: Table) -> Drawing:
    width, height = PAGE[0] - 40 * mm, 55 * mm
    drawing = Drawing(width, height, initialFontName=FONT)  # else its renderer starts in unembedded Helvetica
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 45, 15, width - 60, height - 25
    chart.data = [[float(value) if isinstance(value, Decimal) else 0.0 for value in table.column("mrr")]]
    chart.categoryAxis.categoryNames = [display(month, "month") for month in table.column("month")]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda value: f"{value:,.0f}"
    chart.bars[0].fillColor = colors.HexColor("#2f6db5")
    drawing.add(chart)
    return drawing


def render(data: ReportData) -> Attachment:
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=data.name,
        subject=f"{data.start:%Y-%m} to {data.end:%Y-%m}",
        author="global-api reports",
        initialFontName=FONT,  # the canvas's start-of-page font; else an unused, unembedded Helvetica is referenced
    )
    region = data.region or "all regions"
    story: list[Any] = [
        Paragraph(_escape(data.name), styles["title"]),
        Paragraph(f"Period {data.start:%Y-%m} to {data.end:%Y-%m} · Region: {region}", styles["meta"]),
        Paragraph(
            f"Currency {data.currency or MISSING} · Data as of {data.as_of or 'no data yet'} · "
            f"Generated {data.generated_at:%Y-%m-%d %H:%M} UTC",
            styles["meta"],
        ),
    ]
    mrr = data.table("mrr")
    if mrr is not None and mrr.rows:
        story += [Paragraph("MRR by month", styles["heading"]), _mrr_chart(mrr)]
    for table in data.tables:
        story.append(KeepTogether([Paragraph(table.title, styles["heading"]), Spacer(1, 2)]))
        story.append(_table(table))
    document.build(story)
    return Attachment(file_name(data, "pdf"), CONTENT_TYPES["pdf"], buffer.getvalue())


def _escape(text: str) -> str:
    """Paragraph text is mini-HTML; a report name like `A&B <draft>` must print as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
