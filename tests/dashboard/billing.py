"""Billing history entered through the served app's API, carried into analytics by a real pipeline run."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from analytics import pipeline
from app.dashboard_query import add_months


def subscription(amount: str, start: str, end: str, *, interval: str = "month") -> dict[str, Any]:
    return {
        "kind": "subscription", "subscriptionId": f"sub-{start}", "plan": "pro", "interval": interval,
        "intervalCount": 1, "quantity": 1, "amount": amount,
        "servicePeriodStart": f"{start}T00:00:00Z", "servicePeriodEnd": f"{end}T00:00:00Z",
    }  # fmt: skip


def post(client: httpx.Client, path: str, body: Any, status: int = 201) -> Any:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def invoice(client: httpx.Client, company: int, issued: str, lines: list[Any], paid: str | None = None) -> int:
    body = {"companyId": company, "currency": "USD", "issuedAt": f"{issued}T00:00:00Z", "lines": lines}
    created = post(client, "/api/invoices", body)
    if paid is not None:
        post(client, f"/api/invoices/{created['id']}/pay", {"paidAt": f"{paid}T00:00:00Z"}, 200)
    return int(created["id"])


def current_month_invoice(client: httpx.Client, company: int, amount: Decimal) -> int:
    """A monthly subscription over the whole current month: that month's MRR grows by `amount`."""
    start = datetime.now(UTC).date().replace(day=1)
    return invoice(client, company, f"{start}", [subscription(str(amount), f"{start}", f"{add_months(start, 1)}")])


def company(client: httpx.Client, name: str, country: str) -> int:
    return int(post(client, "/api/companies", {"name": name, "country": country})["id"])


def history(client: httpx.Client) -> dict[str, int]:
    """Three companies over Sep..Dec 2026: eu grows 100 -> 150, us pays yearly (100/month) from Oct, asia pays
    50 in November only (churns in December). Most invoices are paid, some a few days later."""
    eu, us, asia = company(client, "eu-co", "DE"), company(client, "us-co", "US"), company(client, "asia-co", "JP")
    for start, end, amount in (
        ("2026-09-05", "2026-10-05", "100.00"),
        ("2026-10-05", "2026-11-05", "100.00"),
        ("2026-11-05", "2026-12-05", "150.00"),
        ("2026-12-05", "2027-01-05", "150.00"),
    ):
        invoice(client, eu, start, [subscription(amount, start, end)], paid=start)  # fmt: skip
    invoice(client, us, "2026-10-01", [subscription("1200.00", "2026-10-01", "2027-10-01", interval="year")],
            paid="2026-10-08")  # fmt: skip
    invoice(client, asia, "2026-11-01", [subscription("50.00", "2026-11-01", "2026-12-01")])
    return {"eu": eu, "us": us, "asia": asia}


async def run_pipeline(source_dsn: str, analytics_dsn: str) -> None:
    await pipeline.run(source_dsn, analytics_dsn)
