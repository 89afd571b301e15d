"""`python -m analytics.pipeline` / `analytics.migrate` entry points: a working run, and clear one-line errors that
name the setting to fix (never a traceback)."""

import asyncio
import random

import asyncpg
import pytest

from analytics import migrate, pipeline
from localdev.cluster import free_port
from tests.analytics.helpers import Databases, seed, wait_replayed

ENV_NAMES = ("ANALYTICS_SOURCE_URL", "ANALYTICS_DATABASE_URL", "ANALYTICS_BATCH_SIZE", "ANALYTICS_OVERLAP_SECONDS")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def _closed_dsn() -> str:
    return f"postgresql://postgres@127.0.0.1:{free_port()}/nothing?sslmode=disable"


async def _seed_and_wait(dbs: Databases) -> None:
    conn = await asyncpg.connect(dbs.source_primary)
    try:
        await seed(conn, random.Random(11), companies_per_region=2, invoices=300)
    finally:
        await conn.close()
    await wait_replayed(dbs)


def test_run_migrates_an_empty_analytics_database_then_loads(
    dbs: Databases, empty_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed_and_wait(dbs))
    monkeypatch.setenv("ANALYTICS_SOURCE_URL", dbs.source_replica)
    monkeypatch.setenv("ANALYTICS_DATABASE_URL", empty_dsn)
    monkeypatch.setenv("ANALYTICS_BATCH_SIZE", "100")

    assert pipeline.main([]) == 0
    assert "done, 306 rows (companies 6, invoices 300, invoice_lines 0, fx_rates 0)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "argv", "named"),
    [
        ({}, ["--target", "postgresql://x/y"], "ANALYTICS_SOURCE_URL"),
        ({"ANALYTICS_SOURCE_URL": "postgresql://x/y"}, [], "ANALYTICS_DATABASE_URL"),
        (
            {"ANALYTICS_BATCH_SIZE": "1.5"},
            ["--source", "a", "--target", "b"],
            "ANALYTICS_BATCH_SIZE='1.5' is not an integer",
        ),
        ({"ANALYTICS_OVERLAP_SECONDS": "-1"}, ["--source", "a", "--target", "b"], "ANALYTICS_OVERLAP_SECONDS='-1'"),
        ({}, ["--source", "a", "--target", "b", "--batch-size", "0"], "--batch-size"),
        (  # a typo must not leave the batch size at its default
            {"ANALYTICS_BATCH_SZE": "50"},
            ["--source", "a", "--target", "b"],
            "ANALYTICS_BATCH_SZE: unknown variable (did you mean ANALYTICS_BATCH_SIZE?)",
        ),
    ],
)
def test_bad_settings_stop_with_usage_naming_them(
    env: dict[str, str],
    argv: list[str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_info:
        pipeline.main(argv)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err


def test_unreachable_source_is_named(dbs: Databases, capsys: pytest.CaptureFixture[str]) -> None:
    assert pipeline.main(["--source", _closed_dsn(), "--target", dbs.target_dsn]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to the source database (ANALYTICS_SOURCE_URL)" in err
    assert "Traceback" not in err


def test_unmigrated_analytics_database_says_how_to_fix(
    dbs: Databases, empty_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.main(["--source", dbs.source_replica, "--target", empty_dsn, "--no-migrate"]) == 1
    assert "run `python -m analytics.migrate`" in capsys.readouterr().err


def test_migrate_reports_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate.main(["--dsn", _closed_dsn()]) == 1
    err = capsys.readouterr().err
    assert "cannot migrate the analytics database (ANALYTICS_DATABASE_URL)" in err
    assert "Traceback" not in err
