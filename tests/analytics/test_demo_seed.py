"""`make run`'s demo history: seeded only into an empty billing database, and realistic enough that every figure
of the contract has something to show (two years, three regions, three currencies, every movement kind)."""

from datetime import date

import asyncpg

from analytics import figures
from localdev.demo import MONTHS, seed_if_empty
from tests.analytics.helpers import Databases
from tests.analytics.revenue_helpers import pipeline

TODAY = date(2026, 12, 3)


async def test_demo_history_shows_every_figure(dbs: Databases) -> None:
    written = await seed_if_empty(dbs.source_primary, TODAY)
    assert written > 500
    assert await seed_if_empty(dbs.source_primary, TODAY) == 0  # not empty any more: left alone
    await pipeline(dbs)
    start, end = date(2025, 1, 1), date(2026, 12, 1)
    source = await asyncpg.connect(dbs.source_primary)
    conn = await asyncpg.connect(dbs.target_dsn)
    try:
        currencies = {r["currency"] for r in await source.fetch("SELECT DISTINCT currency FROM invoices")}
        statuses = {r["status"] for r in await source.fetch("SELECT DISTINCT status FROM invoices")}
        next_id = await source.fetchval(
            "INSERT INTO companies (name, region) VALUES ('after-seed', 'eu') RETURNING id"
        )  # the identity moved past the seeded ids
        report = await figures.mrr_report(conn, start=start, end=end, region=None)
        regions = {
            region: (await figures.mrr_report(conn, start=end, end=end, region=region))["months"][0]["mrr"]
            for region in ("eu", "us", "asia")
        }
        invoices = await figures.invoice_report(conn, start=start, end=end, region=None)
    finally:
        await source.close()
        await conn.close()
    assert currencies == {"EUR", "USD", "JPY"}
    assert statuses == {"issued", "paid", "void"}
    assert next_id > 3 * 40
    months = report["months"]
    assert len(months) == MONTHS
    assert all(m["mrr"] > 0 for m in months)
    assert report["unconvertedLines"] == 0  # every currency has a rate from before the first service period
    assert months[-1]["mrr"] > months[0]["mrr"]  # a growing business
    for kind in ("new", "expansion", "contraction", "churn", "reactivation", "fx"):
        assert any(m["movements"][kind] != 0 for m in months), kind
    assert all(value > 0 for value in regions.values()), regions
    assert all(m["invoiced"] > 0 and m["collected"] > 0 for m in invoices["months"])
