"""Exports and mailed reports built from real data: the revenue scenario through the pipeline. Every cell of every
format must equal what GET /api/analytics/* answers for the same months and region."""

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest
from fastapi import FastAPI

from analytics import figures
from analytics.reports.runner import run_once
from localdev.mail_sink import MailSink
from tests.app.analytics_helpers import bearer
from tests.reports.expected import RATE_SECTIONS, as_decimal, expected, pdf_text
from tests.reports.helpers import attachments, poppler, saved_report, sink_mailer

SECTIONS = ["mrr", "movements", "churn", "cohorts", "invoices"]
START, END = date(2026, 1, 1), date(2026, 7, 1)


async def _api_figures(client: httpx.AsyncClient, region: str | None) -> tuple[dict[str, Any], ...]:
    """What GET /api/analytics/* answers for the same months and region, numbers read back as exact Decimals."""
    params = {"from": f"{START:%Y-%m}", "to": f"{END:%Y-%m}", **({"region": region} if region else {})}
    answers = []
    for path, extra in (("mrr", {}), ("cohorts", {"metric": "customers"}), ("invoices", {})):
        response = await client.get(f"/api/analytics/{path}", params={**params, **extra}, headers=bearer())
        assert response.status_code == 200, response.text
        answers.append(json.loads(response.content, parse_float=Decimal))
    return tuple(answers)


def _xlsx_matches(data: bytes, figures_json: tuple[dict[str, Any], ...], sections: list[str]) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for section, sheet in zip(sections, workbook.worksheets, strict=True):
        rows = [
            [f"{r[0]:%Y-%m}", *(as_decimal(v) for v in r[1:])] for r in sheet.iter_rows(min_row=2, values_only=True)
        ]
        assert rows == expected(section, *figures_json), section


@pytest.fixture
async def client(
    reports_app: tuple[FastAPI, httpx.AsyncClient], reports_conn: asyncpg.Connection, revenue_history: str
) -> httpx.AsyncClient:
    _, http = reports_app
    return http


@pytest.mark.parametrize("region", [None, "eu"])
async def test_exports_equal_the_figures_in_every_format(
    client: httpx.AsyncClient, revenue_history: str, tmp_path: Path, region: str | None
) -> None:
    body = {"name": "Scenario", "sections": SECTIONS, "region": region, "schedule": "0 7 * * 1",
            "recipients": ["cfo@example.com"]}  # fmt: skip
    report = (await client.post("/api/reports", json=body, headers=bearer())).json()
    figures_json = await _api_figures(client, region)
    assert figures_json[0]["months"][1]["movements"]["fx"] != 0 or region is not None  # the scenario's fx month
    url = f"/api/reports/{report['id']}/export?from=2026-01&to=2026-07"

    xlsx = await client.get(f"{url}&format=xlsx", headers=bearer())
    assert xlsx.status_code == 200, xlsx.text
    _xlsx_matches(xlsx.content, figures_json, SECTIONS)

    zipped = await client.get(f"{url}&format=csv", headers=bearer())
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        for section in SECTIONS:
            _, *rows = csv.reader(io.StringIO(archive.read(f"{section}.csv").decode("utf-8")))
            parsed = [
                [r[0], *(None if v == "" else as_decimal(v) if "." in v else int(v) for v in r[1:])] for r in rows
            ]
            assert parsed == expected(section, *figures_json), section

    pdf = await client.get(f"{url}&format=pdf", headers=bearer())
    text = poppler("pdftotext", pdf.content, tmp_path, "-layout")
    lines = [line.split() for line in text.splitlines()]
    for section in SECTIONS:
        for month, *values in expected(section, *figures_json):
            printed = [pdf_text(v, section in RATE_SECTIONS and not isinstance(v, int)) for v in values]
            want = [p if p is not None else "\u2013" for p in printed]
            assert [month, *want] in lines, (section, month, want)


async def test_the_mailed_report_carries_the_figures(
    reports_conn: asyncpg.Connection, revenue_history: str, mail_sink: MailSink
) -> None:
    now = datetime(2026, 7, 6, 7, 30, tzinfo=UTC)  # a Monday; the report covers 2025-08 .. 2026-07
    await saved_report(reports_conn, now - timedelta(days=1), sections=SECTIONS, format="xlsx")
    summary = await run_once(reports_conn, sink_mailer(mail_sink), figures, now=now)
    assert len(summary.sent) == 1
    [message] = mail_sink.messages
    assert message["Subject"] == "Weekly MRR: 2025-08 to 2026-07 (all regions)"
    [(filename, _, data)] = attachments(message)
    assert filename.startswith("weekly-mrr_2025-08_to_2026-07_all-regions_generated-20260706T0730Z")
    conn = await asyncpg.connect(revenue_history)
    try:
        start, end = date(2025, 8, 1), date(2026, 7, 1)
        figures_json = (
            await figures.mrr_report(conn, start=start, end=end, region=None),
            await figures.cohort_report(conn, metric="customers", start=start, end=end, region=None),
            await figures.invoice_report(conn, start=start, end=end, region=None),
        )
    finally:
        await conn.close()
    _xlsx_matches(data, figures_json, SECTIONS)
    body = message.get_body(("plain",))
    assert body is not None
    assert f"MRR 2026-07: {figures_json[0]['months'][-1]['mrr']:,.2f} USD" in body.get_content()
