"""Billing history entered through the served app's API, carried into analytics by a real pipeline run."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

import httpx

from analytics import pipeline
from app.dashboard_query import add_months

# The history sits around the month the tests run in, because the page and the API default to "this month" from the
# clock: written as fixed dates it would only pass in the month it was written.
THIS_MONTH: Final = datetime.now(UTC).date().replace(day=1)


def month(offset: int, day: int = 1) -> date:
    """A day of the month `offset` months from this one."""
    return add_months(THIS_MONTH, offset).replace(day=day)


def label(offset: int) -> str:
    """`YYYY-MM` of the month `offset` months from this one, as the API and the page write months."""
    return f"{month(offset):%Y-%m}"


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
    """Three companies over the last four months (-3..0, 0 being this one): eu grows 100 -> 150, us pays yearly
    (100/month) from month -2, asia pays 50 in month -1 only (churns this month). Most invoices are paid, some a few
    days later."""
    eu, us, asia = company(client, "eu-co", "DE"), company(client, "us-co", "US"), company(client, "asia-co", "JP")
    for offset, amount in ((-3, "100.00"), (-2, "100.00"), (-1, "150.00"), (0, "150.00")):
        start, end = month(offset, 5), month(offset + 1, 5)
        invoice(client, eu, f"{start}", [subscription(amount, f"{start}", f"{end}")], paid=f"{start}")
    yearly = month(-2)
    invoice(client, us, f"{yearly}", [subscription("1200.00", f"{yearly}", f"{month(10)}", interval="year")],
            paid=f"{month(-2, 8)}")  # fmt: skip
    invoice(client, asia, f"{month(-1)}", [subscription("50.00", f"{month(-1)}", f"{month(0)}")])
    return {"eu": eu, "us": us, "asia": asia}


async def run_pipeline(source_dsn: str, analytics_dsn: str) -> None:
    await pipeline.run(source_dsn, analytics_dsn)
