"""/api/reports on the real app: definitions validated field by field, stored in the analytics database with their
run history, behind the analytics token; exports with their content types and file names."""

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest
from croniter import croniter

from analytics.reports.runner import run_once
from localdev.cluster import Cluster
from localdev.mail_sink import MailSink
from tests.app.analytics_helpers import analytics_settings, bearer, unreachable_dsn
from tests.app.helpers import running_app
from tests.reports.contract_figures import ContractFigures
from tests.reports.expected import as_decimal, expected
from tests.reports.helpers import sink_mailer

WEEKLY: dict[str, Any] = {
    "name": "Weekly MRR",
    "sections": ["mrr", "movements", "churn", "cohorts", "invoices"],
    "region": "eu",
    "schedule": "0 7 * * 1",
    "format": "xlsx",
    "recipients": ["CFO@Example.com", "finance@example.com"],
}


async def _create(api: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await api.post("/api/reports", json={**WEEKLY, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_get_list_delete(api: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    created = await _create(api)
    assert {k: created[k] for k in ("name", "sections", "region", "schedule", "format")} == {
        k: WEEKLY[k] for k in ("name", "sections", "region", "schedule", "format")
    }
    assert created["recipients"] == ["CFO@example.com", "finance@example.com"]  # domain normalized
    assert (created["lastRunAt"], created["lastError"], created["runs"]) == (None, None, [])
    next_run = datetime.fromisoformat(created["nextRunAt"])
    assert next_run == croniter("0 7 * * 1", before).get_next(datetime)
    assert next_run.weekday() == 0
    assert next_run.hour == 7
    assert (await api.get(f"/api/reports/{created['id']}")).json() == created
    other = await _create(api, name="Monthly board pack", schedule="0 6 1 * *", region=None, format="pdf")
    listed = (await api.get("/api/reports")).json()
    assert [r["id"] for r in listed] == [created["id"], other["id"]]
    assert (await api.delete(f"/api/reports/{created['id']}")).status_code == 204
    assert (await api.get(f"/api/reports/{created['id']}")).status_code == 404
    assert (await api.delete(f"/api/reports/{created['id']}")).status_code == 404
    assert [r["id"] for r in (await api.get("/api/reports")).json()] == [other["id"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 201),
        ("sections", []),
        ("sections", ["mrr", "ebitda"]),
        ("sections", ["mrr", "mrr"]),
        ("region", "mars"),
        ("schedule", "every monday"),
        ("schedule", "0 7 * * 1 2026"),
        ("schedule", "*/10 * * * *"),
        ("format", "docx"),
        ("recipients", []),
        ("recipients", ["cfo@example.com", "not-an-address"]),
        ("recipients", [f"r{i}@example.com" for i in range(51)]),
    ],
)
async def test_bad_values_are_422_naming_the_field(api: httpx.AsyncClient, field: str, value: Any) -> None:
    response = await api.post("/api/reports", json={**WEEKLY, field: value})
    assert response.status_code == 422, response.text
    locs = [entry["loc"][:2] for entry in response.json()["detail"]]
    assert ["body", field] in locs, locs
    assert (await api.get("/api/reports")).json() == []  # nothing stored


async def test_missing_and_unknown_fields_are_named(api: httpx.AsyncClient) -> None:
    body = {k: v for k, v in WEEKLY.items() if k != "schedule"} | {"cc": ["x@example.com"]}
    response = await api.post("/api/reports", json=body)
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {("body", "schedule"), ("body", "cc")}


async def test_every_reports_call_needs_the_token(api: httpx.AsyncClient) -> None:
    created = await _create(api)
    anonymous = {"Authorization": "Bearer wrong-token-but-long-enough"}
    for method, path in [
        ("GET", "/api/reports"),
        ("POST", "/api/reports"),
        ("GET", f"/api/reports/{created['id']}"),
        ("DELETE", f"/api/reports/{created['id']}"),
        ("GET", f"/api/reports/{created['id']}/export"),
    ]:
        response = await api.request(method, path, headers=anonymous, json=WEEKLY if method == "POST" else None)
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert len((await api.get("/api/reports")).json()) == 1


async def test_run_history_shows_last_error_then_last_run(
    api: httpx.AsyncClient, reports_conn: asyncpg.Connection, mail_sink: MailSink
) -> None:
    created = await _create(api, schedule="0 6 * * *")
    now = datetime.now(UTC)
    due = croniter("0 6 * * *", now).get_prev(datetime)
    await reports_conn.execute("UPDATE analytics.reports SET created_at = $1", due - timedelta(minutes=1))
    mail_sink.answer_with("451 4.7.0 greylisted")
    await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=now)
    failed = (await api.get(f"/api/reports/{created['id']}")).json()
    assert failed["lastRunAt"] is None
    assert "451 4.7.0 greylisted" in failed["lastError"]
    assert [(r["dueAt"], r["status"], r["attempts"]) for r in failed["runs"]] == [(due.isoformat(), "failed", 1)]
    mail_sink.answer_with("250 OK")
    await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=now + timedelta(minutes=5))
    sent = (await api.get(f"/api/reports/{created['id']}")).json()
    assert sent["lastError"] is None
    assert datetime.fromisoformat(sent["lastRunAt"]) == now + timedelta(minutes=5)
    assert [(r["status"], r["attempts"]) for r in sent["runs"]] == [("sent", 2)]


def _filename(response: httpx.Response) -> str:
    match = re.fullmatch(r'attachment; filename="([^"]+)"', response.headers["Content-Disposition"])
    assert match, response.headers["Content-Disposition"]
    return match.group(1)


async def test_export_in_each_format_with_type_and_file_name(api: httpx.AsyncClient) -> None:
    report = await _create(api)
    base = f"/api/reports/{report['id']}/export?from=2026-01&to=2026-06"
    stamp = r"generated-\d{8}T\d{4}Z"
    figures = ContractFigures()
    start, end = datetime(2026, 1, 1).date(), datetime(2026, 6, 1).date()
    mrr = await figures.mrr_report(None, start=start, end=end, region="eu")
    cohorts = await figures.cohort_report(None, metric="customers", start=start, end=end, region="eu")
    invoices = await figures.invoice_report(None, start=start, end=end, region="eu")

    xlsx = await api.get(base)  # the report's own format
    assert xlsx.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.fullmatch(rf"weekly-mrr_2026-01_to_2026-06_eu_{stamp}\.xlsx", _filename(xlsx))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["MRR"]
    rows = [[f"{r[0]:%Y-%m}", *(as_decimal(v) for v in r[1:])] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows == expected("mrr", mrr, cohorts, invoices)

    pdf = await api.get(f"{base}&format=pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert re.fullmatch(rf"weekly-mrr_2026-01_to_2026-06_eu_{stamp}\.pdf", _filename(pdf))

    zipped = await api.get(f"{base}&format=csv")
    assert zipped.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert archive.namelist() == [f"{s}.csv" for s in WEEKLY["sections"]]
        header = next(csv.reader(io.StringIO(archive.read("churn.csv").decode())))
    assert header == ["month", "customerChurnRate", "grossMrrChurnRate", "netMrrChurnRate", "nrr", "grr"]

    single = await _create(api, sections=["invoices"], name="Invoices only")
    one = await api.get(f"/api/reports/{single['id']}/export?format=csv&from=2026-01&to=2026-06")
    assert one.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(rf"invoices-only_invoices_2026-01_to_2026-06_eu_{stamp}\.csv", _filename(one))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=docx", "format"),
        ("from=2026-13", "from"),
        ("from=26-01", "from"),
        ("to=2026-1", "to"),
        ("from=2026-06&to=2026-01", "to"),
        ("from=2000-01&to=2026-01", "to"),
    ],
)
async def test_bad_export_queries_are_422_naming_the_parameter(api: httpx.AsyncClient, query: str, field: str) -> None:
    report = await _create(api)
    response = await api.get(f"/api/reports/{report['id']}/export?{query}")
    assert response.status_code == 422, response.text
    assert ["query", field] in [entry["loc"] for entry in response.json()["detail"]]


async def test_export_of_an_unknown_report_is_404(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/reports/999/export")).status_code == 404
    assert (await api.get("/api/reports/0")).status_code == 422


async def test_reports_and_exports_are_never_cached(api: httpx.AsyncClient) -> None:
    report = await _create(api)
    for response in (
        await api.get("/api/reports"),
        await api.get(f"/api/reports/{report['id']}"),
        await api.get(f"/api/reports/{report['id']}/export?format=csv"),
        await api.get(f"/api/reports/{report['id']}/export?format=pdf"),
        await api.delete(f"/api/reports/{report['id']}"),
    ):
        assert response.headers["Cache-Control"] == "private, no-store", response.request.url


async def test_definitions_use_the_write_url_and_exports_the_read_pool(
    pg_cluster: Cluster, reports_dsn: str, reports_conn: asyncpg.Connection
) -> None:
    """ANALYTICS_WRITE_DATABASE_URL takes the definitions; the figures come from ANALYTICS_DATABASE_URL (down here)."""
    settings = analytics_settings(pg_cluster, unreachable_dsn(), analytics_write_database_url=reports_dsn)
    async with running_app(settings) as (_, client):
        created = await client.post("/api/reports", json=WEEKLY, headers=bearer())
        assert created.status_code == 201, created.text
        export = await client.get(f"/api/reports/{created.json()['id']}/export", headers=bearer())
        assert export.status_code == 503
        assert export.json()["error"] == "analytics_unavailable"
    settings = analytics_settings(pg_cluster, unreachable_dsn())
    async with running_app(settings) as (_, client):
        down = await client.post("/api/reports", json=WEEKLY, headers=bearer())
        assert down.status_code == 503
        assert down.json()["error"] == "analytics_unavailable"
    assert await reports_conn.fetchval("SELECT count(*) FROM analytics.reports") == 1
