"""The dashboard in real headless Chromium (Debian's, driven by Playwright): sign in, the API's figures on the page,
live updates without a reload after new invoices and a pipeline run, an alert appearing, and no request to any
other origin. One browser for the module; each test its own context (cookies)."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from app.stream_hub import Client, StreamHub
from tests.app.analytics_helpers import TOKEN, bearer
from tests.dashboard.billing import current_month_invoice, invoice, label, month, run_pipeline, subscription
from tests.dashboard.helpers import Served, insert_requests, p95

CHROMIUM: Final = "/usr/bin/chromium"
ARGS: Final = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SLOW_MS: Final = 60_000  # a shared 2-core machine: the first page load imports statsmodels
LIVE: Final = re.compile(r"^Live(: updated .+)?$")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


def _api(served: Served, path: str, **params: str) -> Any:
    with httpx.Client(base_url=served.base_url, headers=bearer(), timeout=60) as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def _alert_and_invoice(served: Served, threshold: Decimal, company: int) -> None:
    """An alert just above today's MRR, then this month's revenue that crosses it."""
    with httpx.Client(base_url=served.base_url, headers=bearer(), timeout=30) as client:
        alert = client.post("/api/alerts", json={"metric": "mrr", "op": "above", "threshold": str(threshold)})
        assert alert.status_code == 201, alert.text
        invoice(client, company, f"{month(0)}", [subscription("80.00", f"{month(0)}", f"{month(1)}")])


def _number(text: str) -> Decimal:
    """Back from the page's formatting: thousands separators, percentages, the minus sign."""
    cleaned = text.strip().replace(",", "").replace("\N{MINUS SIGN}", "-")
    if cleaned.endswith("%"):
        return Decimal(cleaned[:-1]) / 100
    return Decimal(cleaned)


async def _sign_in(page: Page, served: Served, origins: set[str]) -> None:
    page.on("request", lambda request: origins.add(urlsplit(request.url).netloc))
    await page.goto(f"{served.base_url}/dashboard", timeout=SLOW_MS)
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Analytics token").fill("not-the-right-token-at-all")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not valid")
    await page.get_by_label("Analytics token").fill(TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Revenue dashboard")).to_be_visible(timeout=SLOW_MS)


async def test_signed_in_page_shows_the_api_figures_and_loads_nothing_from_elsewhere(
    browser: Browser, served: Served, seeded: dict[str, Any]
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    origins: set[str] = set()
    await _sign_in(page, served, origins)
    # Connected: "Live", or "Live: updated <time>" when the stream's first snapshot already refreshed the panels.
    await expect(page.locator("#live-status")).to_have_text(LIVE, timeout=SLOW_MS)
    mrr = await asyncio.to_thread(_api, served, "/api/analytics/mrr")
    current = mrr["months"][-1]
    for key in ("mrr", "arr", "customers", "arpa"):
        tile = page.locator(f'.tile[data-metric="{key}"] .value')
        assert _number(await tile.inner_text()) == current[key], key
    # The MRR table: every month and column the API gives, as the visible text.
    for entry in mrr["months"]:
        row = page.locator(f'#table-mrr tr[data-month="{entry["month"]}"]')
        for key in ("mrr", "customers", "new", "churn", "expansion"):
            value = entry["movements"][key] if key in entry["movements"] else entry[key]
            assert _number(await row.locator(f'td[data-key="{key}"]').inner_text()) == value, (entry["month"], key)
    churn = page.locator(f'#table-churn tr[data-month="{label(0)}"] td[data-key="customerChurnRate"]')
    assert _number(await churn.inner_text()) == current["customerChurnRate"]
    # Keyboard: the filters are reachable with Tab, in order.
    await page.locator("#f-region").focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "f-from"
    assert origins == {urlsplit(served.base_url).netloc}, origins
    await context.close()


async def test_page_updates_without_reload_and_shows_an_alert(
    browser: Browser, served: Served, seeded: dict[str, Any], main_db: str, analytics_dsn: str
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    origins: set[str] = set()
    await _sign_in(page, served, origins)
    # Connected: "Live", or "Live: updated <time>" when the stream's first snapshot already refreshed the panels.
    await expect(page.locator("#live-status")).to_have_text(LIVE, timeout=SLOW_MS)
    tile = page.locator('.tile[data-metric="mrr"] .value')
    before = _number(await tile.inner_text())
    await page.evaluate("window.__notReloaded = true")
    await asyncio.to_thread(_alert_and_invoice, served, before + 50, seeded["asia"])
    await run_pipeline(main_db, analytics_dsn)
    expected = (await asyncio.to_thread(_api, served, "/api/analytics/mrr"))["months"][-1]["mrr"]
    assert expected == before + 80
    await expect(tile).to_have_text(f"{expected:,.2f}", timeout=SLOW_MS)
    assert await page.evaluate("window.__notReloaded === true")  # the same document: no reload happened
    await expect(page.locator("#alerts li.alert").first).to_contain_text("mrr (all regions) is above", timeout=SLOW_MS)
    assert origins == {urlsplit(served.base_url).netloc}, origins
    await context.close()


def _drop_and_fill(hub: StreamHub) -> list[Client]:
    """On the server loop: end every open stream as if the network broke, then take every free place, so the
    browser's reconnect is refused with 503; returns the placeholders."""
    for client in list(hub.clients):
        hub._drop(client)  # what the hub does to a client it gives up on
    placeholders = []
    while (placeholder := hub.subscribe()) is not None:
        placeholders.append(placeholder)
    return placeholders


async def test_page_reconnects_by_itself_after_the_stream_breaks_and_is_refused(
    browser: Browser, served: Served, seeded: dict[str, Any], main_db: str, analytics_dsn: str
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await _sign_in(page, served, set())
    status = page.locator("#live-status")
    await expect(status).to_have_text(LIVE, timeout=SLOW_MS)
    await page.evaluate("window.__notReloaded = true")
    hub: StreamHub = served.app.state.stream_hub
    placeholders = await asyncio.to_thread(served.call, lambda: _drop_and_fill(hub))
    # The stream ended and the retry got 503: EventSource gives up on that, the page's own backoff takes over.
    await expect(status).to_contain_text("Disconnected, reconnecting in", timeout=SLOW_MS)
    await asyncio.to_thread(served.call, lambda: hub.clients.difference_update(placeholders))
    await expect(status).to_have_text(LIVE, timeout=SLOW_MS)
    # The new connection carries updates: a new invoice and pipeline run change the tile without a reload.
    tile = page.locator('.tile[data-metric="mrr"] .value')
    before = _number(await tile.inner_text())
    with httpx.Client(base_url=served.base_url, timeout=30) as client:
        await asyncio.to_thread(current_month_invoice, client, seeded["us"], Decimal("20.00"))
    await run_pipeline(main_db, analytics_dsn)
    await expect(tile).to_have_text(f"{before + 20:,.2f}", timeout=SLOW_MS)
    assert await page.evaluate("window.__notReloaded === true")
    await context.close()


async def test_request_rates_and_p95_update_live(
    browser: Browser, served: Served, seeded: dict[str, Any], analytics: asyncpg.Connection
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await _sign_in(page, served, set())
    # The first `metrics` event always refreshes the panels once; after it only new data would.
    await expect(page.locator("#live-status")).to_have_text(re.compile(r"^Live: updated "), timeout=SLOW_MS)
    refreshed = await page.locator("#content").get_attribute("data-updated")
    await page.evaluate("window.__notReloaded = true")
    asia = page.locator('#table-requests tr[data-region="asia"]')
    await expect(asia.locator('td[data-key="p95Ms"]')).to_have_text("\N{EM DASH}")  # nothing from asia yet
    latencies = [10.0 * k for k in range(1, 11)]
    await insert_requests(analytics, "asia", latencies, age_s=5, status=502)
    # The stream's `requests` snapshot (every few polls) rewrites the row in place.
    await expect(asia.locator('td[data-key="p95Ms"]')).to_have_text(str(p95(latencies)), timeout=SLOW_MS)
    await expect(asia.locator('td[data-key="serverErrors"]')).to_have_text("10")
    await expect(asia.locator('td[data-key="recentRatePerSecond"]')).to_have_text(str(round(10 / 60, 3)))
    assert await page.evaluate("window.__notReloaded === true")
    assert await page.locator("#content").get_attribute("data-updated") == refreshed  # not a panel refresh
    await context.close()


async def test_the_filter_form_shows_the_apis_figures_for_the_chosen_region_and_months(
    browser: Browser, served: Served, seeded: dict[str, Any]
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await _sign_in(page, served, set())
    query = {"region": "eu", "from": label(-2), "to": label(0)}
    # As a person would: the region by keyboard from the focused select, the months typed, Apply pressed.
    await page.locator("#f-region").focus()
    await page.keyboard.press("ArrowDown")  # "All regions" -> the first region
    await page.locator("#f-region").select_option(query["region"])
    await page.get_by_role("textbox", name="From").fill(query["from"])
    await page.get_by_role("textbox", name="To").fill(query["to"])
    await page.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(re.compile(r"region=eu"), timeout=SLOW_MS)
    shown_query = dict(part.split("=") for part in urlsplit(page.url).query.split("&"))
    assert {key: shown_query[key] for key in query} == query
    await expect(page.locator("#f-region")).to_have_value("eu")  # the form keeps what was chosen
    mrr = await asyncio.to_thread(_api, served, "/api/analytics/mrr", **query)
    everywhere = await asyncio.to_thread(
        _api, served, "/api/analytics/mrr", **{"from": query["from"], "to": query["to"]}
    )
    rows = page.locator("#table-mrr tr[data-month]")
    assert [await row.get_attribute("data-month") for row in await rows.all()] == [m["month"] for m in mrr["months"]]
    for entry in mrr["months"]:
        row = page.locator(f'#table-mrr tr[data-month="{entry["month"]}"]')
        assert _number(await row.locator('td[data-key="mrr"]').inner_text()) == entry["mrr"], entry["month"]
    tile = page.locator('.tile[data-metric="mrr"] .value')
    assert _number(await tile.inner_text()) == mrr["months"][-1]["mrr"]
    assert mrr["months"][-1]["mrr"] != everywhere["months"][-1]["mrr"]  # so eu's figures are not all regions'
    await context.close()
