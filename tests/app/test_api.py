"""Companies API against the real cluster: create, read back, list by region, and input errors."""

from typing import Any

import pytest

from app.lsn import parse_lsn
from tests.app.helpers import Live, geo, wait_until


async def _create(live: Live, body: Any, country: str = "JP") -> dict[str, Any]:
    response = await live.client.post("/api/companies", json=body, headers=geo(country))
    assert response.status_code == 201, response.text
    assert response.headers["X-DB-Node"] == "primary"
    assert response.headers["X-Region"] == {"JP": "asia", "DE": "eu", "US": "us"}[country]
    created: dict[str, Any] = {**response.json(), "token": response.headers["X-Consistency-Token"]}
    return created


async def test_region_from_body_country_else_viewer(healthy: Live) -> None:
    assert (await _create(healthy, {"name": "Berlin GmbH", "country": "de"}))["region"] == "eu"
    from_viewer = await _create(healthy, {"name": "  Tokyo KK  "})
    assert from_viewer["region"] == "asia"
    assert from_viewer["name"] == "Tokyo KK"
    assert from_viewer["country"] is None


async def test_get_by_id_and_list_by_region(healthy: Live) -> None:
    eu = await _create(healthy, {"name": "Paris SA", "country": "FR"}, country="US")
    asia = await _create(healthy, {"name": "Sydney Pty", "country": "AU"}, country="US")
    headers = {**geo("US"), "X-Consistency-Token": asia["token"]}

    # Once the viewer's home replica has replayed the token, the read is served there (app/routing.py).
    token_lsn = parse_lsn(asia["token"])
    assert token_lsn is not None, asia["token"]
    await wait_until(lambda: (healthy.monitor.state["us"].replay_lsn or 0) >= token_lsn, "us has the token")
    one = await healthy.client.get(f"/api/companies/{eu['id']}", headers=headers)
    assert one.status_code == 200
    assert one.json()["name"] == "Paris SA"
    assert one.headers["X-DB-Node"] == "us"

    listed = await healthy.client.get("/api/companies?region=asia&limit=1000", headers=headers)
    assert listed.status_code == 200
    ids = {company["id"] for company in listed.json()}
    assert asia["id"] in ids
    assert eu["id"] not in ids
    assert {company["region"] for company in listed.json()} == {"asia"}


async def test_missing_company_is_404_with_node(healthy: Live) -> None:
    response = await healthy.client.get("/api/companies/999999999", headers=geo("DE"))
    assert response.status_code == 404
    assert response.headers["X-DB-Node"] == "eu"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 42}, "name"),
        ({"name": "nul\u0000byte"}, "name"),
        ({"name": "ok", "country": "XX"}, "country"),
        ({"name": "ok", "country": "DEU"}, "country"),
        ({"name": "ok", "extra": 1}, "extra"),
    ],
)
async def test_bad_fields_are_422_naming_the_field(healthy: Live, body: Any, field: str) -> None:
    response = await healthy.client.post("/api/companies", json=body)
    assert response.status_code == 422
    assert ["body", field] in [error["loc"] for error in response.json()["detail"]]


async def test_malformed_json_is_422(healthy: Live) -> None:
    response = await healthy.client.post(
        "/api/companies", content=b'{"name": "unterminated', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("path", "headers", "loc"),
    [
        ("/api/companies/abc", {}, ["path", "company_id"]),
        ("/api/companies/99999999999999999999", {}, ["path", "company_id"]),
        ("/api/companies/0", {}, ["path", "company_id"]),
        ("/api/companies?region=mars", {}, ["query", "region"]),
        ("/api/companies?limit=0", {}, ["query", "limit"]),
        ("/api/companies/1", {"X-Consistency-Token": "latest"}, ["header", "X-Consistency-Token"]),
    ],
)
async def test_bad_path_query_and_token_are_422(
    healthy: Live, path: str, headers: dict[str, str], loc: list[str]
) -> None:
    response = await healthy.client.get(path, headers=headers)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]


async def test_regional_health_has_the_original_report_shape(healthy: Live) -> None:
    report = (await healthy.client.get("/health/regional", headers=geo("JP"))).json()
    assert report["status"] == "ok"
    assert report["region"] == "asia"
    assert report["services"]["primaryDatabase"] == "healthy"  # a string, as existing monitors compare it
    assert isinstance(report["services"]["primaryDatabaseLatency"], float)
    assert report["replicaCount"] == 3
    replicas = report["services"]["readReplicas"]
    assert [r["region"] for r in replicas] == ["eu", "us", "asia"]
    for replica in replicas:
        assert replica["status"] == "healthy"
        assert isinstance(replica["latency"], float)
        assert isinstance(replica["lagMs"], float)
    assert isinstance(report["uptime"], float)
