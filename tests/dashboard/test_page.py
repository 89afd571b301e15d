"""GET /dashboard without a browser: sign-in redirect, strict headers, the API's numbers in tiles and tables."""

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.app.analytics_helpers import bearer
from tests.dashboard.billing import label
from tests.dashboard.helpers import Element, Served, parse_html, signed_in_cookies


def test_signed_out_goes_to_the_sign_in_form(served: Served) -> None:
    with httpx.Client(base_url=served.base_url) as client:
        response = client.get("/dashboard")
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/sign-in"
        assert client.get("/dashboard/panels").status_code == 401


def test_page_headers_are_strict(served: Served, seeded: dict[str, int]) -> None:
    with httpx.Client(base_url=served.base_url, cookies=signed_in_cookies(served.base_url), timeout=60) as client:
        response = client.get("/dashboard")
    assert response.status_code == 200, response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["cache-control"] == "private, no-store"
    assert "<script>" not in response.text  # no inline script
    assert " style=" not in response.text  # no inline style (CSP style-src 'self')


def test_bad_query_is_shown_naming_the_parameter(served: Served, seeded: dict[str, int]) -> None:
    with httpx.Client(base_url=served.base_url, cookies=signed_in_cookies(served.base_url), timeout=60) as client:
        response = client.get("/dashboard", params={"from": "2026-13"})
    assert response.status_code == 422
    assert "from: must be a month" in response.text


def _api(base_url: str, path: str, **params: str) -> Any:
    with httpx.Client(base_url=base_url, headers=bearer()) as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def _page(served: Served, **params: str) -> Element:
    with httpx.Client(base_url=served.base_url, cookies=signed_in_cookies(served.base_url), timeout=60) as client:
        response = client.get("/dashboard", params=params)
    assert response.status_code == 200, response.text
    return parse_html(response.text)


def _cells(table: Element, row_key: str) -> dict[tuple[str, str], str]:
    """(row id, data-key) -> the exact data-value of every keyed cell of a table."""
    return {
        (row.attrs[row_key], cell.attrs["data-key"]): cell.attrs["data-value"]
        for row in table.find_all("tr", **{row_key.replace("-", "_"): "*"})
        for cell in row.find_all("td", data_key="*")
    }


def _decimal(raw: str) -> Decimal | None:
    return Decimal(raw) if raw else None


PARAMS = {"from": label(-4), "to": label(0), "region": "eu"}


def test_tables_hold_the_api_numbers(served: Served, seeded: dict[str, int]) -> None:
    page = _page(served, **PARAMS)
    mrr = _api(served.base_url, "/api/analytics/mrr", **PARAMS)
    assert page.find("time", id="as-of").attrs["datetime"] == mrr["asOf"]
    mrr_chart = page.find("svg", id="chart-mrr")  # the charts tests/dashboard/test_charts.py reads, on the page
    assert len(mrr_chart.find_all("rect")) == sum(v != 0 for m in mrr["months"] for v in m["movements"].values())
    assert len(page.find("svg", id="chart-invoices").find_all("polygon", **{"class": "band"})) == 1
    shown = _cells(page.find("table", id="table-mrr"), "data-month") | _cells(
        page.find("table", id="table-churn"), "data-month"
    )
    for month in mrr["months"]:
        for key, value in month.items():
            if key not in ("month", "movements"):
                assert _decimal(shown[(month["month"], key)]) == value, (month["month"], key)
        for key, value in month["movements"].items():
            assert Decimal(shown[(month["month"], key)]) == value
    invoices = _api(served.base_url, "/api/analytics/invoices", **PARAMS)
    rows = _cells(page.find("table", id="table-invoices"), "data-month")
    for month in invoices["months"]:
        for key in ("invoiced", "collected", "issuedCount", "paidCount"):
            assert Decimal(rows[(month["month"], key)]) == month[key], (month["month"], key)
    assert invoices["forecast"]
    for point in invoices["forecast"]:
        for key in ("invoiced", "low", "high"):
            assert Decimal(rows[(point["month"], key)]) == point[key], (point["month"], key)
    assert Decimal(shown[(label(0), "mrr")]) == Decimal("150.00")  # eu only: the hand-computed value


def _signed(text: str) -> Decimal:
    """A tile's change text back to a number: "+1,234.50 vs last month", "\N{MINUS SIGN}3.37 pp ...", "\u00b10"."""
    number = text.split()[0].replace(",", "").replace("\N{MINUS SIGN}", "-").replace("\N{PLUS-MINUS SIGN}", "")
    return Decimal(number) / (100 if " pp " in text else 1)


def test_tiles_hold_the_api_numbers_and_the_change_against_last_month(served: Served, seeded: dict[str, int]) -> None:
    page = _page(served, **PARAMS)
    last, shown = _api(served.base_url, "/api/analytics/mrr", **{**PARAMS, "from": label(-1)})["months"]
    tiles = page.find_all("div", data_metric="*")
    keys = [tile.attrs["data-metric"] for tile in tiles]
    assert keys == ["mrr", "arr", "customers", "arpa", "ltv", "customerChurnRate", "grossMrrChurnRate",
                    "netMrrChurnRate", "nrr", "grr"]  # fmt: skip
    for tile, key in zip(tiles, keys, strict=True):
        value = tile.find("dd", **{"class": "value"})
        assert _decimal(value.attrs["data-value"]) == shown[key], key
        change = tile.find("dd", **{"class": "change"}).text()
        if shown[key] is None or last[key] is None:
            assert change.startswith("\N{EM DASH} vs last month"), (key, change)
        else:
            assert _signed(change) == shown[key] - last[key], (key, change)
            assert change.endswith(f"against {label(-1)}"), change


@pytest.mark.parametrize("metric", ["customers", "mrr"])
def test_the_cohort_heatmap_holds_the_api_numbers(served: Served, seeded: dict[str, int], metric: str) -> None:
    params = {"from": label(-4), "to": label(0), "cohort": metric}
    page = _page(served, **params)
    api = _api(served.base_url, "/api/analytics/cohorts", **{**params, "metric": metric})
    assert api["cohorts"]
    rows = page.find("table", id="table-cohorts").find_all("tr", data_cohort="*")
    shown = {row.attrs["data-cohort"]: [_decimal(c.attrs["data-value"]) for c in row.find_all("td")] for row in rows}
    assert shown == {c["cohort"]: [Decimal(c["size"]), *c["values"]] for c in api["cohorts"]}
    assert f"Cohort retention ({metric})" in page.find("h2", id="h-cohorts").text()
