"""/api/analytics/* against the real cluster: billing data in through the API, the pipeline, figures out.

The API must show exactly figures.py's numbers (parsed back as Decimal, to the cent), with the contract's field
names, plus hand-computed values for a small history (every movement kind once, a void, an unconverted line).
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from analytics import figures
from analytics.forecast import forecast
from app.migrate import upgrade as upgrade_app
from localdev.cluster import PRIMARY, REPLICAS, Cluster
from tests.analytics.helpers import Databases
from tests.analytics.revenue_helpers import pipeline
from tests.app.analytics_helpers import analytics_settings, bearer, unreachable_dsn
from tests.app.helpers import Live, running_app

SOURCE, TARGET = "revenue_app", "revenue_analytics"
MRR_FIELDS = {
    "month", "mrr", "arr", "customers", "arpa", "movements", "customerChurnRate", "grossMrrChurnRate",
    "netMrrChurnRate", "nrr", "grr", "ltv",
}  # fmt: skip
MOVEMENT_FIELDS = {"new", "expansion", "contraction", "churn", "reactivation", "fx"}


def exact(response: Any) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def _sub(amount: str, start: str, end: str, quantity: str = "1", discount: str = "0", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "subscription", "subscriptionId": "sub", "plan": "plan", "interval": "month", "intervalCount": 1,
        "amount": amount, "quantity": quantity, "discount": discount,
        "servicePeriodStart": f"{start}T00:00:00Z", "servicePeriodEnd": f"{end}T00:00:00Z", **extra,
    }  # fmt: skip


async def _post(live: Live, path: str, body: Any, status: int = 201) -> Any:
    response = await live.client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def _billing_history(live: Live) -> None:
    """The revenue-core scenario, entered through the billing API: company 1 (DE/eu, EUR) new in Jan at
    2 x 49 - 10 = 88 EUR, fx-only in Feb, expansion in Mar, churn in Apr, reactivation in Jun; company 2 (US/us,
    USD) yearly 1200 from Feb, contraction to 60 in May; company 3 (JP/asia, JPY) has no rate; a void invoice."""
    eu = (await _post(live, "/api/companies", {"name": "eu-co", "country": "DE"}))["id"]
    us = (await _post(live, "/api/companies", {"name": "us-co", "country": "US"}))["id"]
    asia = (await _post(live, "/api/companies", {"name": "asia-co", "country": "JP"}))["id"]
    rates = [
        {"date": "2026-01-01", "currency": "EUR", "rate": "1.1"},
        {"date": "2026-02-01", "currency": "EUR", "rate": "1.2"},
    ]
    assert (await live.client.put("/api/fx-rates", json=rates)).status_code == 204

    def invoice(company: int, currency: str, issued: str, lines: list[Any]) -> dict[str, Any]:
        return {"companyId": company, "currency": currency, "issuedAt": f"{issued}T00:00:00Z", "lines": lines}

    first = await _post(
        live,
        "/api/invoices",
        invoice(
            eu,
            "EUR",
            "2026-01-01",
            [_sub("49.00", "2026-01-01", "2026-02-01", "2", "10.00"), {"kind": "one_time", "amount": "100.00"}],
        ),
    )
    await _post(live, f"/api/invoices/{first['id']}/pay", {"paidAt": "2026-01-10T00:00:00Z"}, 200)
    await _post(
        live,
        "/api/invoices",
        invoice(eu, "EUR", "2026-02-01", [_sub("49.00", "2026-02-01", "2026-03-01", "2", "10.00")]),
    )
    await _post(
        live,
        "/api/invoices",
        invoice(eu, "EUR", "2026-03-01", [_sub("49.00", "2026-03-01", "2026-04-01", "3", "10.00")]),
    )
    await _post(live, "/api/invoices", invoice(eu, "EUR", "2026-06-01", [_sub("49.00", "2026-06-01", "2026-07-01")]))
    await _post(
        live,
        "/api/invoices",
        invoice(us, "USD", "2026-02-01", [_sub("1200.00", "2026-02-01", "2026-05-01", interval="year")]),
    )
    await _post(live, "/api/invoices", invoice(us, "USD", "2026-05-01", [_sub("60.00", "2026-05-01", "2027-01-01")]))
    await _post(live, "/api/invoices", invoice(asia, "JPY", "2026-01-01", [_sub("1000", "2026-01-01", "2026-12-01")]))
    void = await _post(
        live, "/api/invoices", invoice(us, "USD", "2026-01-01", [_sub("999.00", "2026-01-01", "2027-01-01")])
    )
    await _post(live, f"/api/invoices/{void['id']}/void", None, 200)  # fmt: skip


def _create(cluster: Cluster, name: str) -> None:
    cluster.sql(PRIMARY, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "postgres")
    cluster.sql(PRIMARY, f"CREATE DATABASE {name}", "postgres")


@pytest.fixture(scope="module")
async def revenue(migrated: Cluster) -> AsyncIterator[tuple[Live, Databases]]:
    """An app on its own main database (so other tests' invoices stay out of the figures) and analytics database,
    loaded with the scenario through the API and carried over by one pipeline run."""
    from analytics.migrate import upgrade as upgrade_analytics

    dbs = Databases(cluster=migrated, source=SOURCE, target=TARGET)
    for name in (SOURCE, TARGET):
        await asyncio.to_thread(_create, migrated, name)
    await asyncio.to_thread(upgrade_app, dbs.source_primary, "us")
    await asyncio.to_thread(upgrade_analytics, dbs.target_dsn)
    replicas = {f"database_read_replica_{r}": migrated.dsn(r, SOURCE) for r in REPLICAS}
    settings = analytics_settings(migrated, dbs.target_dsn, database_url=dbs.source_primary, **replicas)
    async with running_app(settings) as (app, client):
        live = Live(app=app, client=client, cluster=migrated)
        await _billing_history(live)
        await pipeline(dbs)
        yield live, dbs


@pytest.fixture(scope="module")
async def down(migrated: Cluster) -> AsyncIterator[Live]:
    async with running_app(analytics_settings(migrated, unreachable_dsn())) as (app, client):
        yield Live(app=app, client=client, cluster=migrated)


async def _direct(dbs: Databases) -> Any:
    return await asyncpg.connect(dbs.target_dsn)


async def _get(live: Live, path: str, **params: Any) -> Any:
    response = await live.client.get(path, params=params, headers=bearer())
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "private, no-store"
    return response


# -- figures -------------------------------------------------------------------------------------------------


async def test_mrr_hand_computed_and_field_names(revenue: tuple[Live, Databases]) -> None:
    live, _ = revenue
    response = await _get(live, "/api/analytics/mrr", **{"from": "2026-01", "to": "2026-07"})
    body = exact(response)
    assert set(body) == {"currency", "asOf", "unconvertedLines", "months"}
    assert body["currency"] == "USD"
    assert body["unconvertedLines"] == 1  # company 3's JPY line
    assert [m["month"] for m in body["months"]] == [f"2026-0{i}" for i in range(1, 8)]
    for month in body["months"]:
        assert set(month) == MRR_FIELDS
        assert set(month["movements"]) == MOVEMENT_FIELDS
    months = {m["month"]: m for m in body["months"]}
    assert months["2026-01"]["mrr"] == Decimal("96.80")  # 88 EUR at 1.1
    assert months["2026-01"]["arr"] == Decimal("1161.60")
    assert months["2026-01"]["movements"]["new"] == Decimal("96.80")
    assert months["2026-02"]["movements"]["fx"] == Decimal("8.80")
    assert months["2026-02"]["mrr"] == Decimal("205.60")
    assert months["2026-03"]["movements"]["expansion"] == Decimal("58.80")
    assert months["2026-04"]["movements"]["churn"] == Decimal("-164.40")
    assert months["2026-04"]["customerChurnRate"] == Decimal("0.5000")
    assert months["2026-05"]["movements"]["contraction"] == Decimal("-40.00")
    assert months["2026-06"]["movements"]["reactivation"] == Decimal("58.80")
    assert months["2026-01"]["grossMrrChurnRate"] is None  # MRR(Dec 2025) = 0
    assert '"mrr":96.80' in response.text  # an exact JSON number


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-01", "to": "2026-07"},
        {"from": "2025-11", "to": "2026-12", "region": "eu"},
        {"from": "2026-03", "to": "2026-03", "region": "US"},
        {"from": "2026-01", "to": "2026-09", "region": "asia"},
    ],
    ids=["all", "eu", "us-one-month", "asia"],
)
async def test_api_figures_equal_figures_py(revenue: tuple[Live, Databases], params: dict[str, str]) -> None:
    live, dbs = revenue
    start, end = (date.fromisoformat(f"{params[k]}-01") for k in ("from", "to"))
    region = params.get("region", "").lower() or None
    conn = await _direct(dbs)
    try:
        expected_mrr = await figures.mrr_report(conn, start=start, end=end, region=region)
        expected_cohorts = {
            metric: await figures.cohort_report(conn, metric=metric, start=start, end=end, region=region)
            for metric in ("customers", "mrr")
        }
        expected_invoices = await figures.invoice_report(conn, start=start, end=end, region=region)
    finally:
        await conn.close()
    assert exact(await _get(live, "/api/analytics/mrr", **params)) == expected_mrr
    for metric, expected in expected_cohorts.items():
        assert exact(await _get(live, "/api/analytics/cohorts", metric=metric, **params)) == expected
    invoices = exact(await _get(live, "/api/analytics/invoices", forecast=0, **params))
    assert invoices == {**expected_invoices, "forecast": []}


async def test_cohorts_shape(revenue: tuple[Live, Databases]) -> None:
    live, _ = revenue
    body = exact(await _get(live, "/api/analytics/cohorts", metric="customers", **{"from": "2026-01", "to": "2026-07"}))
    assert set(body) == {"metric", "cohorts"}
    assert body["metric"] == "customers"
    jan = body["cohorts"][0]
    assert set(jan) == {"cohort", "size", "values"}
    assert (jan["cohort"], jan["size"]) == ("2026-01", 1)  # company 1 (company 3 is unconverted: no MRR)
    assert jan["values"][:4] == [Decimal("1.0000"), Decimal("1.0000"), Decimal("1.0000"), Decimal("0.0000")]
    assert len(jan["values"]) == 7  # cohort month .. to
    default_metric = exact(await _get(live, "/api/analytics/cohorts", **{"from": "2026-01", "to": "2026-07"}))
    assert default_metric["metric"] == "customers"


async def test_invoices_with_forecast(revenue: tuple[Live, Databases]) -> None:
    live, _ = revenue
    body = exact(await _get(live, "/api/analytics/invoices", forecast=3, **{"from": "2026-01", "to": "2026-07"}))
    assert set(body) == {"currency", "months", "forecast"}
    assert body["months"][0] == {
        "month": "2026-01",
        "invoiced": Decimal("206.80"),
        "collected": Decimal("206.80"),
        "issuedCount": 2,
        "paidCount": 1,
    }  # fmt: skip  (96.80 + 110.00 of EUR at 1.1; the JPY invoice has no rate; the void one is out)
    assert [f["month"] for f in body["forecast"]] == ["2026-08", "2026-09", "2026-10"]
    for point in body["forecast"]:
        assert set(point) == {"month", "invoiced", "low", "high"}
        assert point["low"] <= point["invoiced"] <= point["high"]
    expected = forecast([m["invoiced"] for m in body["months"]], 3)
    assert [(f["invoiced"], f["low"], f["high"]) for f in body["forecast"]] == [
        (p.invoiced, p.low, p.high) for p in expected.points
    ]
    default = exact(await _get(live, "/api/analytics/invoices", **{"from": "2026-01", "to": "2026-07"}))
    assert len(default["forecast"]) == 3


async def test_forecast_skips_the_running_month(revenue: tuple[Live, Databases]) -> None:
    """A range ending in the running month fits on the complete months and still forecasts the months after
    `to`: the running month's partial total never drags the trend."""
    live, _ = revenue
    now = figures.month_label(date.today().replace(day=1))
    body = exact(await _get(live, "/api/analytics/invoices", forecast=2, **{"from": "2026-01", "to": now}))
    after = figures.add_months(date.today().replace(day=1), 1)
    assert [f["month"] for f in body["forecast"]] == [
        figures.month_label(after),
        figures.month_label(figures.add_months(after, 1)),
    ]
    history = [m["invoiced"] for m in body["months"] if m["month"] < now]
    assert [f["invoiced"] for f in body["forecast"]] == [p.invoiced for p in forecast(history, 3).points[1:]]


async def test_default_range_is_the_last_twelve_months(revenue: tuple[Live, Databases]) -> None:
    live, _ = revenue
    months = exact(await _get(live, "/api/analytics/mrr"))["months"]
    this_month = date.today().replace(day=1)
    assert [m["month"] for m in months] == [
        figures.month_label(figures.add_months(this_month, -k)) for k in range(11, -1, -1)
    ]


# -- errors --------------------------------------------------------------------------------------------------

ENDPOINTS = ["/api/analytics/mrr", "/api/analytics/cohorts", "/api/analytics/invoices"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"from": "2026-07", "to": "2026-01"}, "from"),
        ({"from": "2016-01", "to": "2026-01"}, "from"),  # 121 months
        ({"from": "2026-13"}, "from"),
        ({"from": "2026-1"}, "from"),
        ({"to": "january"}, "to"),
        ({"to": "2026-01-01"}, "to"),
        ({"to": "0000-01"}, "to"),
        ({"region": "mars"}, "region"),
        ({"region": ""}, "region"),
    ],
)
async def test_bad_query_is_422_naming_the_parameter(
    revenue: tuple[Live, Databases], path: str, params: dict[str, str], parameter: str
) -> None:
    live, _ = revenue
    response = await live.client.get(path, params=params, headers=bearer())
    assert response.status_code == 422, response.text
    assert ["query", parameter] in [e["loc"] for e in response.json()["detail"]]


async def test_longest_range_is_120_months(revenue: tuple[Live, Databases]) -> None:
    live, _ = revenue
    body = exact(await _get(live, "/api/analytics/mrr", **{"from": "2016-02", "to": "2026-01"}))
    assert len(body["months"]) == 120


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/analytics/cohorts", {"metric": "revenue"}, "metric"),
        ("/api/analytics/invoices", {"forecast": "-1"}, "forecast"),
        ("/api/analytics/invoices", {"forecast": "25"}, "forecast"),
        ("/api/analytics/invoices", {"forecast": "three"}, "forecast"),
    ],
)
async def test_bad_metric_or_forecast_is_422(
    revenue: tuple[Live, Databases], path: str, params: dict[str, str], parameter: str
) -> None:
    live, _ = revenue
    response = await live.client.get(path, params=params, headers=bearer())
    assert response.status_code == 422, response.text
    assert ["query", parameter] in [e["loc"] for e in response.json()["detail"]]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_every_endpoint_needs_a_token(revenue: tuple[Live, Databases], path: str) -> None:
    live, _ = revenue
    for headers in ({}, bearer("not-the-right-token-at-all")):
        response = await live.client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_analytics_down_is_503_on_every_endpoint_only(down: Live, path: str) -> None:
    response = await down.client.get(path, headers=bearer())
    assert response.status_code == 503
    assert response.json()["error"] == "analytics_unavailable"
    assert (await down.client.get(path)).status_code == 401  # the token is still checked first
    assert (await down.client.get("/api/companies")).status_code == 200
