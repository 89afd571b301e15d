"""Migrations: idempotent, backfill region from country (unknown -> primary region), updated_at trigger."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from app.countries import COUNTRY_REGION
from app.migrate import alembic_config, upgrade
from localdev.cluster import Cluster


@pytest.fixture
async def scratch(pg_cluster: Cluster) -> AsyncIterator[str]:
    """A throwaway database on the primary, so history can be replayed from scratch."""
    await asyncio.to_thread(pg_cluster.sql, "primary", "DROP DATABASE IF EXISTS migration_test", "postgres")
    await asyncio.to_thread(pg_cluster.sql, "primary", "CREATE DATABASE migration_test", "postgres")
    yield pg_cluster.dsn("primary", "migration_test")
    await asyncio.to_thread(pg_cluster.sql, "primary", "DROP DATABASE migration_test WITH (FORCE)", "postgres")


async def _fetch(dsn: str, query: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def test_backfill_from_country_then_region_required(scratch: str) -> None:
    await asyncio.to_thread(upgrade, scratch, "asia", "0001_companies")
    codes = sorted(COUNTRY_REGION)
    await _fetch(
        scratch,
        "INSERT INTO companies (name, country) SELECT 'c-' || coalesce(c, 'none'), c FROM unnest($1::text[]) c",
        [*codes, None],
    )
    await asyncio.to_thread(upgrade, scratch, "asia")
    rows = await _fetch(scratch, "SELECT country, region FROM companies")
    expected: dict[str | None, str] = {None: "asia"}
    expected.update(COUNTRY_REGION)
    assert {row["country"]: row["region"] for row in rows} == expected
    with pytest.raises(asyncpg.NotNullViolationError):
        await _fetch(scratch, "INSERT INTO companies (name) VALUES ('no region')")


async def test_upgrade_is_idempotent_and_trigger_updates_timestamp(scratch: str) -> None:
    await asyncio.to_thread(upgrade, scratch, "eu")
    await asyncio.to_thread(upgrade, scratch, "eu")
    [version] = await _fetch(scratch, "SELECT version_num FROM alembic_version")
    assert version["version_num"] == ScriptDirectory.from_config(alembic_config(scratch, "eu")).get_current_head()
    [created] = await _fetch(scratch, "INSERT INTO companies (name, region) VALUES ('a', 'eu') RETURNING *")
    [updated] = await _fetch(
        scratch, "UPDATE companies SET name = 'b' WHERE id = $1 RETURNING created_at, updated_at", created["id"]
    )
    assert updated["updated_at"] > created["updated_at"]
    assert updated["created_at"] == created["created_at"]
