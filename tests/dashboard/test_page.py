"""GET /dashboard without a browser: sign-in redirect, strict headers, the API's numbers in tiles and tables."""

import json
from decimal import Decimal
from typing import Any

import httpx

from tests.app.analytics_helpers import bearer
from tests.dashboard.helpers import Served, signed_in_cookies


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


def test_tables_hold_the_api_numbers(served: Served, seeded: dict[str, int]) -> None:
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.values: dict[tuple[str, str], str] = {}
            self.month = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "tr" and a.get("data-month"):
                self.month = a["data-month"] or ""
            if tag == "td" and a.get("data-key") and self.month:
                self.values[(self.month, a["data-key"] or "")] = a.get("data-value") or ""

    params = {"from": "2026-08", "to": "2026-12", "region": "eu"}
    with httpx.Client(base_url=served.base_url, cookies=signed_in_cookies(served.base_url), timeout=60) as client:
        html = client.get("/dashboard", params=params).text
    parser = Cells()
    parser.feed(html)
    mrr = _api(served.base_url, "/api/analytics/mrr", **params)
    for month in mrr["months"]:
        for key in ("mrr", "arr", "customers", "arpa", "nrr", "grr", "customerChurnRate"):
            shown = parser.values[(month["month"], key)]
            assert (Decimal(shown) if shown else None) == month[key], (month["month"], key)
        for key, value in month["movements"].items():
            assert Decimal(parser.values[(month["month"], key)]) == value
    invoices = _api(served.base_url, "/api/analytics/invoices", **params)
    for month in invoices["months"]:
        assert Decimal(parser.values[(month["month"], "invoiced")]) == month["invoiced"]
        assert Decimal(parser.values[(month["month"], "collected")]) == month["collected"]
    assert invoices["forecast"]
    for point in invoices["forecast"]:
        assert Decimal(parser.values[(point["month"], "high")]) == point["high"]
    assert Decimal(parser.values[("2026-12", "mrr")]) == Decimal("150.00")  # eu only: the hand-computed value
