"""Helpers of the reports tests: saved reports with a chosen creation time, run rows, mailers for the sink."""

import subprocess
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from analytics.mailer import SmtpMailer
from analytics.reports import store
from analytics.reports.definitions import ReportIn
from localdev.mail_sink import MailSink

SENDER = "reports@example.com"


def sink_mailer(sink: MailSink, attempts: int = 2) -> SmtpMailer:
    """The production SMTP mailer aimed at the sink, retrying without waiting (tests need no real backoff)."""
    host, _, port = sink.url.removeprefix("smtp://").rpartition(":")
    return SmtpMailer(host, int(port), SENDER, attempts=attempts, backoff_s=0, sleep=lambda _: None)


async def saved_report(conn: Any, created_at: datetime, **fields: Any) -> store.Report:
    body = ReportIn(
        **{
            "name": "Weekly MRR",
            "sections": ["mrr", "invoices"],
            "schedule": "0 7 * * 1",
            "format": "xlsx",
            "recipients": ["cfo@example.com"],
            **fields,
        }
    )
    report = await store.create(conn, body)
    await conn.execute("UPDATE analytics.reports SET created_at = $2 WHERE id = $1", report.id, created_at)
    found = await store.get(conn, report.id)
    assert found is not None
    return found


async def runs(conn: Any, report_id: int) -> list[tuple[datetime, str, int]]:
    rows = await conn.fetch(
        "SELECT due_at, status, attempts FROM analytics.report_runs WHERE report_id = $1 ORDER BY due_at", report_id
    )
    return [(row["due_at"], row["status"], row["attempts"]) for row in rows]


def attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    """(filename, content type, bytes) of each attachment of a received mail."""
    found = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found.append((part.get_filename() or "", part.get_content_type(), payload))
    return found


def poppler(tool: str, data: bytes, directory: Path, *args: str) -> str:
    """Run a poppler-utils tool (pdftotext, pdffonts, pdfinfo) on PDF bytes; its standard output."""
    path = directory / "report.pdf"
    path.write_bytes(data)
    command = [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout
