"""Releasing a pooled connection costs no round trip (no reset query), yet never hands on an open transaction."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from app.pools import Node
from localdev.cluster import Cluster
from tests.app.helpers import cluster_settings


@pytest.fixture
async def node(migrated: Cluster) -> AsyncIterator[Node]:
    """A one-connection pool on the primary, so every acquire gets the same server process."""
    settings = cluster_settings(migrated, database_pool_min=1, database_pool_max=1)
    node = Node("primary", migrated.dsn("primary"), settings)
    await node.open()
    try:
        yield node
    finally:
        await node.close()


async def last_statement(cluster: Cluster, backend_pid: int) -> Any:
    """What pg_stat_activity says the backend ran last (it keeps the text of an idle backend's last query)."""
    conn = await asyncpg.connect(cluster.dsn("primary"))
    try:
        return await conn.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", backend_pid)
    finally:
        await conn.close()


async def test_release_sends_nothing_after_the_query(node: Node, migrated: Cluster) -> None:
    async with node.connection() as conn:
        backend = conn.get_server_pid()
        await conn.fetchval("SELECT 'release-marker'")
    # asyncpg's default release would run "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;" here.
    assert await last_statement(migrated, backend) == "SELECT 'release-marker'"


async def test_a_transaction_left_open_is_rolled_back_on_release(node: Node) -> None:
    async with node.connection() as conn:
        backend = conn.get_server_pid()
        await conn.execute("BEGIN")  # unmanaged, as a buggy caller might leave it
        await conn.execute("CREATE TEMP TABLE left_behind (id int)")
    async with node.connection() as conn:
        assert conn.get_server_pid() == backend  # the same connection came back
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None
