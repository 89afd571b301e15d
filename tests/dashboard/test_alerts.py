"""Alerts: the /api/alerts contract (422 naming the field), and evaluation: fire once on crossing, again only after
crossing back, every firing stored and mailed through a real SMTP server (aiosmtpd), a failed send recorded."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import asyncpg
import httpx
import pytest

from analytics.alerts import evaluate_alerts, holds, step
from analytics.mailer import mailer_from_env
from localdev.mail_sink import MailSink, running_sink
from tests.app.analytics_helpers import bearer
from tests.dashboard.helpers import Served

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base_url, headers=bearer()) as http:
        yield http


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    with running_sink() as server:
        yield server


def test_create_list_delete(client: httpx.Client, analytics: asyncpg.Connection) -> None:
    body = {"metric": "mrr", "op": "below", "threshold": 10000, "region": None, "notify": ["ops@example.com"]}
    created = client.post("/api/alerts", json=body)
    assert created.status_code == 201
    alert = created.json()
    assert isinstance(alert["id"], int)
    assert (alert["metric"], alert["op"], alert["threshold"], alert["notify"]) == (
        "mrr",
        "below",
        10000,
        body["notify"],
    )
    assert [a["id"] for a in client.get("/api/alerts").json()] == [alert["id"]]
    assert client.delete(f"/api/alerts/{alert['id']}").status_code == 204
    assert client.delete(f"/api/alerts/{alert['id']}").status_code == 404
    assert client.get("/api/alerts").json() == []
    assert client.get("/api/alerts", headers={"Authorization": "Bearer nope-nope-nope-nope"}).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [({"metric": "revenue"}, "metric"), ({"op": "equals"}, "op"), ({"notify": ["not-an-address"]}, "notify"),
     ({"threshold": "lots"}, "threshold"), ({"region": "mars"}, "region"), ({"extra": 1}, "extra")],
)  # fmt: skip
def test_bad_fields_are_422_naming_the_field(
    client: httpx.Client, analytics: asyncpg.Connection, change: dict[str, Any], field: str
) -> None:
    body = {"metric": "mrr", "op": "below", "threshold": 10000, "notify": []} | change
    response = client.post("/api/alerts", json=body)
    assert response.status_code == 422
    assert field in [str(part) for error in response.json()["detail"] for part in error["loc"]]
    assert client.get("/api/alerts").json() == []  # nothing stored


def test_crossing_rules() -> None:
    assert holds("below", Decimal("9.99"), Decimal(10))
    assert not holds("below", Decimal(10), Decimal(10))
    assert holds("above", Decimal("10.01"), Decimal(10))
    assert not holds("above", Decimal(10), Decimal(10))
    assert step(armed=True, condition=True) == (True, False)  # crosses: fire, disarm
    assert step(armed=False, condition=True) == (False, False)  # stays over: no repeat
    assert step(armed=False, condition=False) == (False, True)  # crossed back: re-arm
    assert step(armed=True, condition=False) == (False, True)


async def _entry(
    values: dict[str | None, dict[str, Any]], conn: Any, month: date, region: str | None
) -> dict[str, Any]:
    assert month == date(2026, 12, 1)  # the current month of NOW
    return values[region]


async def test_fires_once_per_crossing_stores_and_mails(analytics: asyncpg.Connection, sink: MailSink) -> None:
    sink.clear()
    await analytics.execute(
        "INSERT INTO analytics.alerts (metric, op, threshold, region, notify) VALUES"
        " ('mrr', 'below', 1000, NULL, '{ops@example.com}'), ('nrr', 'above', 1.1, 'eu', '{}')"
    )
    env = {"SMTP_URL": sink.url, "MAIL_FROM": "alerts@example.com"}
    values: dict[str | None, dict[str, Any]] = {}
    fired_per_run = []
    for mrr, nrr in [(1200, 1.0), (900, 1.2), (800, 1.3), (1100, 1.0), (950, None), (990, 1.2)]:
        values.update({None: {"mrr": Decimal(mrr)}, "eu": {"nrr": None if nrr is None else Decimal(str(nrr))}})
        fired = await evaluate_alerts(
            analytics, now=NOW, entry_for=partial(_entry, values), mailer=partial(mailer_from_env, env)
        )
        fired_per_run.append([(f.metric, f.value) for f in fired])
    assert fired_per_run == [
        [],
        [("mrr", Decimal(900)), ("nrr", Decimal("1.2"))],  # both cross
        [],  # both still over: no repeat
        [],  # both crossed back: re-armed
        [("mrr", Decimal(950))],  # nrr unknown (null): no crossing either way
        [("nrr", Decimal("1.2"))],  # mrr still below: no repeat; nrr, re-armed at 1.0, crosses again
    ]
    stored = await analytics.fetch(
        "SELECT metric, value, month, mailed_at, mail_error FROM analytics.alert_firings ORDER BY id"
    )
    assert [(r["metric"], r["value"], r["month"]) for r in stored] == [
        ("mrr", Decimal(900), date(2026, 12, 1)),
        ("nrr", Decimal("1.2"), date(2026, 12, 1)),
        ("mrr", Decimal(950), date(2026, 12, 1)),
        ("nrr", Decimal("1.2"), date(2026, 12, 1)),
    ]
    mailed = [r for r in stored if r["metric"] == "mrr"]
    assert all(r["mailed_at"] is not None and r["mail_error"] is None for r in mailed)
    assert [m["To"] for m in sink.messages] == ["ops@example.com", "ops@example.com"]
    assert "mrr for all regions in 2026-12 is 900" in sink.messages[0].get_content()


async def test_a_failed_send_is_recorded_on_the_firing(analytics: asyncpg.Connection, sink: MailSink) -> None:
    await analytics.execute(
        "INSERT INTO analytics.alerts (metric, op, threshold, notify)"
        " VALUES ('customers', 'above', 5, '{a@example.com}')"
    )
    sink.answer_with("554 5.7.1 rejected for testing")
    try:
        env = {"SMTP_URL": sink.url, "MAIL_FROM": "alerts@example.com"}
        fired = await evaluate_alerts(
            analytics,
            now=NOW,
            entry_for=partial(_entry, {None: {"customers": 6}}),
            mailer=partial(mailer_from_env, env),
        )
    finally:
        sink.answer_with("250 OK")
    assert len(fired) == 1
    row = await analytics.fetchrow("SELECT mailed_at, mail_error FROM analytics.alert_firings")
    assert row["mailed_at"] is None
    assert "554" in row["mail_error"]
    # No mailer configured at all (MAIL_FROM unset) is recorded the same way, and the firing is still stored.
    await analytics.execute("UPDATE analytics.alerts SET armed = true")
    await evaluate_alerts(
        analytics, now=NOW, entry_for=partial(_entry, {None: {"customers": 7}}), mailer=partial(mailer_from_env, {})
    )
    errors = [
        r["mail_error"] for r in await analytics.fetch("SELECT mail_error FROM analytics.alert_firings ORDER BY id")
    ]
    assert len(errors) == 2
    assert "MAIL_FROM" in errors[1]
