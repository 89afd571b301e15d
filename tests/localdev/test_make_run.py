"""`make run` end to end (issue 15's and issue 16's "Done when"): ONE real `python -m localdev run` for the module,
checked through what it prints: the dashboard URL and token sign in and show the demo history with the API's
figures, a change posted through the billing API reaches the page's stream through the pipeline loop the run
started, the printed SMTP_URL is the run's sink whose mail lands under its mail directory, and Ctrl-C stops
everything. The last test stops the run, so it stays last in the file."""

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from localdev.analytics import PIPELINE_PID_FILE
from localdev.cluster import NODES, PRIMARY, Cluster
from localdev.run import APP_PID_FILE, LOCAL_SENDER, MAIL_DIR_NAME, REPO
from tests.dashboard.billing import company, current_month_invoice
from tests.dashboard.helpers import Element, parse_html
from tests.localdev.make_run import Hints, LocalRun, alive, clean_environment, local_run, port_in_use
from tests.sse import EventReader

pytestmark = pytest.mark.slow
ADDED = Decimal("123.45")  # a month's MRR no demo figure is likely to move by on its own


@pytest.fixture(scope="module")
def run() -> Iterator[LocalRun]:
    with local_run() as started:
        yield started


@pytest.fixture(scope="module")
def hints(run: LocalRun) -> Hints:
    return Hints.parse(run.output())


@contextlib.contextmanager
def _signed_in(hints: Hints) -> Iterator[httpx.Client]:
    """A browser-like client signed in through the form with the printed token."""
    with httpx.Client(base_url=hints.base, timeout=60) as client:
        response = client.post(f"{hints.dashboard}/sign-in", data={"token": hints.token})
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/dashboard"
        yield client


def _json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def _cells(table: Element) -> dict[tuple[str, str], Decimal | None]:
    """(month, data-key) -> the exact data-value of every keyed cell of a dashboard table."""
    return {
        (row.attrs["data-month"], cell.attrs["data-key"]): Decimal(raw) if (raw := cell.attrs["data-value"]) else None
        for row in table.find_all("tr", data_month="*")
        for cell in row.find_all("td", data_key="*")
    }


def _tile(page: Element, metric: str) -> Decimal:
    return Decimal(page.find("div", data_metric=metric).find("dd", **{"class": "value"}).attrs["data-value"])


def test_it_prints_the_dashboard_url_and_a_token_that_signs_in_to_the_demo_history(run: LocalRun, hints: Hints) -> None:
    assert hints.base == f"http://127.0.0.1:{run.port}"
    assert hints.dashboard == f"{hints.base}/dashboard"
    with httpx.Client(timeout=60) as anonymous:
        assert anonymous.get(hints.dashboard).headers["location"] == "/dashboard/sign-in"  # the token is needed
        # The printed curl, as printed: the demo's two years, every month with customers.
        mrr = _json(anonymous.get(hints.mrr_url, headers=dict([hints.mrr_header])))
    months = mrr["months"]
    assert len(months) == 24, [m["month"] for m in months]
    assert all(m["mrr"] > 0 and m["customers"] > 0 for m in months), months
    with _signed_in(hints) as browser:
        response = browser.get(hints.dashboard, params=hints.mrr_query())
    assert response.status_code == 200, response.text
    page = parse_html(response.text)
    shown = _cells(page.find("table", id="table-mrr")) | _cells(page.find("table", id="table-churn"))
    for month in months:
        for key, value in month.items():
            if key not in ("month", "movements"):
                assert shown[(month["month"], key)] == value, (month["month"], key)
        for key, value in month["movements"].items():
            assert shown[(month["month"], key)] == value, (month["month"], key)


def _events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) per Server-Sent Event; comments (the heartbeat) are skipped."""
    reader = EventReader()
    for line in lines:
        if (event := reader.feed(line)) is not None:
            yield event


def _metrics_until(events: Iterator[tuple[str, str]], mrr: Decimal, timeout_s: float) -> list[Decimal]:
    """The MRR of every `metrics` event until one carries `mrr`; fails after `timeout_s` (checked per event: the
    stream sends at least a heartbeat comment every 15 s and a `metrics` event after every pipeline run)."""
    seen: list[Decimal] = []
    deadline = time.monotonic() + timeout_s
    for event, data in events:
        if event == "metrics":
            seen.append(json.loads(data, parse_float=Decimal)["mrr"])
            if seen[-1] == mrr:
                return seen
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no `metrics` event with MRR {mrr} within {timeout_s}s; saw {seen}")


def test_an_invoice_posted_through_the_api_reaches_the_page_through_the_pipeline_loop(hints: Hints) -> None:
    month = f"{datetime.now(UTC):%Y-%m}"
    with _signed_in(hints) as browser:
        before = _json(browser.get("/api/analytics/mrr", params={"from": month, "to": month}))["months"][0]["mrr"]
        # The page's own stream (the session cookie), opened before the change and kept open: no restart, no reload.
        with browser.stream("GET", "/api/analytics/stream", timeout=httpx.Timeout(60, read=30)) as stream:
            assert stream.status_code == 200
            events = _events(stream.iter_lines())
            _metrics_until(events, before, timeout_s=30)  # what the page shows on connecting
            customer = company(browser, "make-run-test-co", "US")
            current_month_invoice(browser, customer, ADDED)  # into the main database, through the billing API
            _metrics_until(events, before + ADDED, timeout_s=90)  # the loop ran the pipeline into analytics
        page = parse_html(browser.get(hints.dashboard).text)
    assert _tile(page, "mrr") == before + ADDED


def _mails(hints: Hints) -> dict[str, EmailMessage]:
    return {
        path.name: message_from_bytes(path.read_bytes(), policy=policy.default) for path in hints.mail_dir.glob("*.eml")
    }


def test_the_printed_smtp_url_is_the_runs_sink_and_the_report_runner_mails_into_its_mail_dir(
    run: LocalRun, hints: Hints
) -> None:
    assert hints.mail_dir == run.state_dir / MAIL_DIR_NAME
    assert f"SMTP_URL='{hints.smtp_url}'" in hints.reports_command
    earlier = _mails(hints)
    with httpx.Client(base_url=hints.base, headers=dict([hints.mrr_header]), timeout=60) as api:
        created = api.post(
            "/api/reports",
            json={"name": "Make run hourly MRR", "sections": ["mrr"], "region": None, "schedule": "0 * * * *",
                  "format": "csv", "recipients": ["cfo@example.com"]},
        )  # fmt: skip
    assert created.status_code == 201, created.text
    report = created.json()["id"]
    # As if created an hour ago: its first due time (the top of this hour) has passed, so the runner sends it now.
    Cluster.load(run.run_dir).sql(
        PRIMARY, f"UPDATE analytics.reports SET created_at = now() - interval '61 minutes' WHERE id = {report}",
        "analytics",
    )  # fmt: skip
    # The runner command exactly as printed (its variables point it at this run's analytics database and sink).
    sent = subprocess.run(
        ["bash", "-c", hints.reports_command],
        env=clean_environment(), cwd=REPO, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    sends = sent.stdout.count(f"sent report {report} due ")
    assert sends >= 1, sent.stdout + sent.stderr
    arrived = [mail for name, mail in _mails(hints).items() if name not in earlier]
    assert len(arrived) == sends
    for mail in arrived:
        assert mail["To"] == "cfo@example.com"
        assert mail["From"] == LOCAL_SENDER
        assert str(mail["Subject"]).startswith("Make run hourly MRR: ")
        [attachment] = list(mail.iter_attachments())
        assert str(attachment.get_filename()).endswith(".csv")
        assert attachment.get_content().splitlines()[0].startswith("month,")


def test_ctrl_c_stops_every_process_and_frees_every_port(run: LocalRun, hints: Hints) -> None:
    cluster = Cluster.load(run.run_dir)
    pids = [run.pid(APP_PID_FILE), run.pid(PIPELINE_PID_FILE)]
    pids += [int((cluster.datadir(node) / "postmaster.pid").read_text().split()[0]) for node in NODES]
    ports = [run.port, int(hints.smtp_url.rpartition(":")[2]), *cluster.ports.values()]
    assert all(alive(pid) for pid in pids), pids  # the checks below would pass vacuously otherwise
    assert all(port_in_use(port) for port in ports), ports
    assert run.interrupt() == 0, run.output()
    assert run.output().rstrip().endswith("localdev: stopped"), run.output()[-2000:]
    deadline = time.monotonic() + 15  # postmasters are not our children: allow their exit a moment
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in pids if alive(pid)] == []
    assert [port for port in ports if port_in_use(port)] == []
    assert not run.run_dir.exists()  # the cluster is removed ...
    assert hints.mail_dir.is_dir()  # ... the received mail is kept for the person to open
