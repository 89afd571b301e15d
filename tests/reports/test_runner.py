"""The scheduled runner against the real analytics database and a real SMTP server: exactly once per due time
with concurrent runners, the 24-hour catch-up rule after downtime, and failures that stay open and are retried."""

import asyncio
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import openpyxl
import pytest

from analytics.reports import runner
from analytics.reports.runner import run_once
from localdev.mail_sink import MailSink
from tests.reports.contract_figures import ContractFigures
from tests.reports.helpers import attachments, runs, saved_report, sink_mailer

NOW = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _subjects_by_due(sink: MailSink) -> list[str]:
    return sorted(message.get_body(("plain",)).get_content().splitlines()[0] for message in sink.messages)  # type: ignore[union-attr]


async def test_two_concurrent_runners_send_each_due_report_once(
    reports_conn: asyncpg.Connection, reports_dsn: str, mail_sink: MailSink
) -> None:
    every_6h = await saved_report(reports_conn, NOW - 20 * H, schedule="0 */6 * * *", name="Six-hourly")
    daily = await saved_report(reports_conn, NOW - 30 * H, schedule="30 7 * * *", name="Daily", format="csv")
    conns = [await asyncpg.connect(reports_dsn) for _ in range(3)]
    try:
        summaries = await asyncio.gather(
            *(run_once(conn, sink_mailer(mail_sink), ContractFigures(), now=NOW) for conn in conns)
        )
    finally:
        await asyncio.gather(*(conn.close() for conn in conns))
    # Six-hourly since 12:00 the day before: 18:00, 00:00, 06:00. Daily since 02:00 two days before: 07:30 both days,
    # but yesterday's 07:30 is 24.5 h old -> skipped.
    expected = [
        f"Daily, due {NOW - 0.5 * H:%Y-%m-%d %H:%M} UTC (schedule '30 7 * * *').",
        *(f"Six-hourly, due {NOW - k * H:%Y-%m-%d %H:%M} UTC (schedule '0 */6 * * *')." for k in (14, 8, 2)),
    ]
    assert _subjects_by_due(mail_sink) == sorted(expected)
    assert sum(len(summary.sent) for summary in summaries) == 4
    assert [status for _, status, _ in await runs(reports_conn, every_6h.id)] == ["sent"] * 3
    assert await runs(reports_conn, daily.id) == [(NOW - 24.5 * H, "skipped", 0), (NOW - 0.5 * H, "sent", 1)]


async def test_runner_after_a_48_hour_gap_sends_the_last_24_hours_once_and_skips_older(
    reports_conn: asyncpg.Connection, mail_sink: MailSink
) -> None:
    report = await saved_report(reports_conn, NOW - 80 * H, schedule="0 */6 * * *")
    last_run = NOW - 48 * H  # 2026-06-08 08:00: the runner worked until then, then was down for 48 hours
    await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=last_run)
    before = {due for due, status, _ in await runs(reports_conn, report.id) if status == "sent"}
    assert max(before) == last_run - 2 * H
    mail_sink.clear()

    summary = await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=NOW)

    after = await runs(reports_conn, report.id)
    gap = [(due, status) for due, status, _ in after if due > last_run]
    # Due every 6 h from 06-08 12:00 to 06-10 06:00: under 24 h old (>= 06-09 08:00) sent, older skipped.
    assert gap == [
        (NOW - 44 * H, "skipped"),
        (NOW - 38 * H, "skipped"),
        (NOW - 32 * H, "skipped"),
        (NOW - 26 * H, "skipped"),
        (NOW - 20 * H, "sent"),
        (NOW - 14 * H, "sent"),
        (NOW - 8 * H, "sent"),
        (NOW - 2 * H, "sent"),
    ]
    assert summary.skipped == 4
    assert len(mail_sink.messages) == 4
    again = await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=NOW + timedelta(minutes=5))
    assert (again.sent, again.skipped, len(mail_sink.messages)) == ([], 0, 4)


async def test_broken_smtp_leaves_the_run_open_and_it_is_retried_with_backoff(
    reports_conn: asyncpg.Connection, mail_sink: MailSink
) -> None:
    report = await saved_report(reports_conn, NOW - 3 * H, schedule="0 7 * * *")
    mail_sink.answer_with("451 4.3.0 queue full, try later")

    first = await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=NOW)

    assert [due for _, due, _ in first.failed] == [NOW - H]
    row = await reports_conn.fetchrow("SELECT * FROM analytics.report_runs WHERE report_id = $1", report.id)
    assert (row["status"], row["attempts"], row["finished_at"]) == ("failed", 1, None)
    assert "451 4.3.0 queue full" in row["last_error"]
    assert row["next_attempt_at"] == NOW + timedelta(minutes=5)
    assert mail_sink.attempts == 2  # the mailer's own two attempts

    mail_sink.answer_with("250 OK")
    early = await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=NOW + timedelta(minutes=4))
    assert (early.sent, mail_sink.attempts) == ([], 2)  # backoff: not before next_attempt_at

    later = await run_once(reports_conn, sink_mailer(mail_sink), ContractFigures(), now=NOW + timedelta(minutes=5))
    assert later.sent == [(report.id, NOW - H)]
    assert await runs(reports_conn, report.id) == [(NOW - H, "sent", 2)]
    [message] = mail_sink.messages
    [(_, _, data)] = attachments(message)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["MRR", "Invoices"]


async def test_failures_back_off_exponentially_and_stop_after_24_hours(
    reports_conn: asyncpg.Connection, mail_sink: MailSink
) -> None:
    await saved_report(reports_conn, NOW - 3 * H, schedule="0 7 * * *")
    mail_sink.answer_with("554 5.7.1 relay denied")
    moment = NOW
    waits = []
    for _ in range(4):
        summary = await run_once(reports_conn, sink_mailer(mail_sink, attempts=1), ContractFigures(), now=moment)
        assert len(summary.failed) == 1
        next_at = await reports_conn.fetchval("SELECT next_attempt_at FROM analytics.report_runs")
        waits.append(next_at - moment)
        moment = next_at
    assert waits == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    late = await run_once(reports_conn, sink_mailer(mail_sink, attempts=1), ContractFigures(), now=NOW + 24 * H)
    assert [due for _, due, _ in late.failed] == [NOW + 23 * H]  # only the next day's run; the first one gave up
    first = await reports_conn.fetchrow("SELECT * FROM analytics.report_runs WHERE due_at = $1", NOW - H)
    assert (first["status"], first["attempts"], first["finished_at"]) == ("failed", 4, None)


async def test_cli_sends_through_smtp_url_and_exits_nonzero_on_failure(
    reports_conn: asyncpg.Connection, reports_dsn: str, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    await saved_report(reports_conn, now - 30 * H, schedule=f"{now.minute} {now.hour} * * *", format="pdf")
    monkeypatch.setenv("SMTP_URL", mail_sink.url)
    monkeypatch.setenv("MAIL_FROM", "reports@example.com")
    monkeypatch.setattr(runner, "figures_module", ContractFigures)
    mail_sink.answer_with("554 5.7.1 not now")  # permanent: no waiting out the mailer's own backoff
    assert await asyncio.to_thread(runner.main, ["--dsn", reports_dsn]) == 1
    assert "FAILED report 1" in capsys.readouterr().err
    mail_sink.answer_with("250 OK")
    await reports_conn.execute("UPDATE analytics.report_runs SET next_attempt_at = now()")
    assert await asyncio.to_thread(runner.main, ["--dsn", reports_dsn]) == 0
    [message] = mail_sink.messages  # due at this minute yesterday (24 h ago: skipped) and today
    assert [content_type for _, content_type, _ in attachments(message)] == ["application/pdf"]


def test_cli_names_a_missing_sender(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MAIL_FROM", raising=False)
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")
    assert runner.main(["--dsn", "postgresql://nobody@127.0.0.1:1/x"]) == 2
    assert "MAIL_FROM is not set" in capsys.readouterr().err


def test_cli_refuses_an_unknown_analytics_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANALYTICS_DATABSE_URL", "postgresql://nobody@127.0.0.1:1/x")
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--dsn", "postgresql://nobody@127.0.0.1:1/x"])
    assert exit_info.value.code == 2
    assert "ANALYTICS_DATABSE_URL: unknown variable (did you mean ANALYTICS_DATABASE_URL?)" in capsys.readouterr().err


def test_python_dash_m_analytics_reports_is_the_runner() -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("MAIL_FROM", "SMTP_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "analytics.reports", "--dsn", "postgresql://nobody@127.0.0.1:1/x"],
        capture_output=True, text=True, env={**env, "SMTP_URL": "smtp://127.0.0.1:1"}, cwd=Path(__file__).parents[2],
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "analytics.reports: MAIL_FROM is not set: the sender address of reports and alerts is required"
    )
