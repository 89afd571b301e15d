"""The pipeline against the real cluster: reads a replica, matches a Python-computed expectation, stays exact
across re-runs, incremental updates, a crash mid-batch and transactions that commit out of order."""

import asyncio
import math
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import asyncpg

from analytics.pipeline import Progress, RunReport, run
from tests.analytics.helpers import Databases, assert_matches_source, seed, wait_replayed

NO_OVERLAP = timedelta(0)
# Neither a hypertable nor partitioned: a row lock there is the same on TimescaleDB and plain PostgreSQL.
BLOCKER_TABLE_IS_PLAIN = """
    SELECT relkind = 'r' AND NOT EXISTS (
        SELECT 1 FROM pg_inherits
        WHERE inhparent = 'analytics.invoices'::regclass OR inhrelid = 'analytics.invoices'::regclass
    ) FROM pg_class WHERE oid = 'analytics.invoices'::regclass
"""


async def _seeded(dbs: Databases, seed_value: int, **kwargs: Any) -> None:
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await seed(conn, random.Random(seed_value), **kwargs)
    finally:
        await conn.close()
    await wait_replayed(dbs)


async def _run(dbs: Databases, **kwargs: Any) -> RunReport:
    return await run(dbs.source_replica, dbs.target_dsn, **kwargs)


async def test_full_load_from_a_replica_matches_the_expectation(dbs: Databases) -> None:
    await _seeded(dbs, 1, invoices=5000)
    seen: list[Progress] = []
    report = await _run(dbs, batch_size=400, overlap=NO_OVERLAP, progress=seen.append)

    assert report.rows == {"companies": 90, "invoices": 5000, "invoice_lines": 0, "fx_rates": 0}
    assert report.batches["invoices"] == math.ceil(5000 / 400)
    invoice_progress = [p for p in seen if p.stream == "invoices"]
    assert [p.rows for p in invoice_progress] == [min(400 * i, 5000) for i in range(1, 14)]
    assert invoice_progress[-1].backlog == 5000
    await assert_matches_source(dbs)


async def test_rerun_within_the_overlap_rereads_but_changes_nothing(dbs: Databases) -> None:
    await _seeded(dbs, 2, invoices=2000)
    await _run(dbs, batch_size=500, overlap=NO_OVERLAP)
    report = await _run(dbs, batch_size=500, overlap=timedelta(hours=1))

    assert report.rows["invoices"] == 2000  # everything is inside the overlap window, so it is read again ...
    await assert_matches_source(dbs)  # ... and merged without a single double count


async def test_incremental_run_picks_up_updates_only(dbs: Databases) -> None:
    await _seeded(dbs, 3, invoices=3000)
    await _run(dbs, batch_size=1000, overlap=NO_OVERLAP)

    primary = await asyncpg.connect(dbs.source_primary)
    try:
        issued = await primary.fetch("SELECT id FROM invoices WHERE status = 'issued' ORDER BY id LIMIT 100")
        was_paid = [r["id"] for r in await primary.fetch("SELECT id FROM invoices WHERE status = 'paid' ORDER BY id")]
        async with primary.transaction():
            await primary.execute(
                "UPDATE invoices SET status = 'paid', paid_at = issued_at + interval '5 hours' WHERE id = ANY($1)",
                [r["id"] for r in issued],
            )
            await primary.execute(
                "UPDATE invoices SET status = 'void', paid_at = NULL WHERE id = ANY($1)", was_paid[-50:]
            )
            await primary.execute("UPDATE invoices SET amount = amount + 1.01 WHERE id = ANY($1)", was_paid[:40])
            moved = await primary.execute(
                "UPDATE companies SET region = 'asia' WHERE id IN"
                " (SELECT id FROM companies WHERE region = 'eu' ORDER BY id LIMIT 3)"
            )
    finally:
        await primary.close()
    assert moved == "UPDATE 3"
    await wait_replayed(dbs)

    report = await _run(dbs, batch_size=1000, overlap=NO_OVERLAP)

    assert report.rows == {"companies": 3, "invoices": 190, "invoice_lines": 0, "fx_rates": 0}
    await assert_matches_source(dbs)


async def test_transaction_committing_behind_the_watermark_needs_the_overlap(dbs: Databases) -> None:
    await _seeded(dbs, 4, companies_per_region=2, invoices=50)
    await _run(dbs, overlap=NO_OVERLAP)
    slow, fast = await asyncpg.connect(dbs.source_primary), await asyncpg.connect(dbs.source_primary)
    insert = "INSERT INTO invoices (company_id, amount, currency) SELECT min(id), 7.00, 'EUR' FROM companies"
    try:
        tx = slow.transaction()
        await tx.start()
        await slow.execute(insert)  # updated_at = this transaction's start, before `fast` commits
        await asyncio.sleep(0.05)
        await fast.execute(insert)
        await wait_replayed(dbs)
        await _run(dbs, overlap=NO_OVERLAP)  # the watermark moves past the slow row's updated_at
        await tx.commit()
    finally:
        await slow.close()
        await fast.close()
    await wait_replayed(dbs)

    without_overlap = await _run(dbs, overlap=NO_OVERLAP)
    assert without_overlap.rows["invoices"] == 0  # the late row is behind the watermark: this is the hazard

    with_overlap = await _run(dbs, overlap=timedelta(seconds=60))
    assert with_overlap.rows["invoices"] >= 1
    await assert_matches_source(dbs)


def _pipeline_process(dbs: Databases, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ANALYTICS_SOURCE_URL": dbs.source_replica, "ANALYTICS_DATABASE_URL": dbs.target_dsn}
    return subprocess.Popen(
        [sys.executable, "-m", "analytics.pipeline", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _wait_for(what: str, check: Any, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_killed_mid_batch_then_rerun_gives_exact_totals(dbs: Databases) -> None:
    """Batch 3 is held mid-merge by a conflicting uncommitted row; the process is SIGKILLed there.

    The blocker is a row of analytics.invoices, a plain table on both engines: on TimescaleDB an uncommitted row
    in a hypertable (invoice_events) would create a chunk and hold the pipeline already in batch 1, on a
    relation lock rather than on the row (issue 19, item 16).
    """
    await _seeded(dbs, 5, invoices=2500)
    batch, blocked_batch = 500, 3
    source = await asyncpg.connect(dbs.source_primary)
    target = await asyncpg.connect(dbs.target_dsn)
    try:
        assert await target.fetchval(BLOCKER_TABLE_IS_PLAIN), "the blocker must live in a plain table"
        victim = await source.fetchrow(
            "SELECT id, issued_at FROM invoices ORDER BY updated_at, id OFFSET $1 LIMIT 1",
            batch * (blocked_batch - 1) + 7,
        )
        blocker = target.transaction()
        await blocker.start()
        await target.execute(
            "INSERT INTO analytics.invoices (invoice_id, company_id, currency, amount, status, issued_at,"
            " source_updated_at) VALUES ($1, 0, 'EUR', 0, 'issued', $2, now())",
            victim["id"],
            victim["issued_at"],
        )
        process = _pipeline_process(dbs, "--batch-size", str(batch), "--overlap-seconds", "0", "--no-migrate")

        async def pipeline_blocked() -> bool:
            waiting = await source.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", dbs.target
            )
            return bool(waiting)

        await _wait_for("the pipeline to block on batch 3", pipeline_blocked)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        await blocker.rollback()

        async def orphan_gone() -> bool:
            others = await source.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2",
                dbs.target,
                target.get_server_pid(),
            )
            return bool(others == 0)

        await _wait_for("the killed run's session to end", orphan_gone)
        state = await target.fetchval("SELECT rows_total FROM analytics.pipeline_state WHERE stream = 'invoices'")
        loaded = await target.fetchval("SELECT count(DISTINCT invoice_id) FROM analytics.invoice_events")
    finally:
        await source.close()
        await target.close()
    assert process.returncode == -signal.SIGKILL
    assert state == loaded == batch * (blocked_batch - 1)  # two committed batches, nothing of the third

    report = await _run(dbs, batch_size=batch, overlap=NO_OVERLAP)
    assert report.rows["invoices"] == 2500 - batch * (blocked_batch - 1)
    await assert_matches_source(dbs)
