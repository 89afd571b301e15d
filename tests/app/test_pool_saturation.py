"""A full pool is noticed without a round trip (Node.saturated), and a read then waits briefly for the home
replica instead of its whole acquire timeout before it moves on to the next one."""

import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from app.pools import Node
from app.routing import SATURATED_WAIT_S, replica_order
from localdev.cluster import Cluster
from tests.app.helpers import ACQUIRE_MS, all_healthy, cluster_settings, running_app, wait_until

POOL = 2


@pytest.fixture
async def node(migrated: Cluster) -> AsyncIterator[Node]:
    node = Node("eu", migrated.dsn("eu"), cluster_settings(migrated, database_pool_min=1, database_pool_max=POOL))
    await node.open()
    try:
        yield node
    finally:
        await node.close()


async def test_saturated_exactly_while_every_connection_is_held(node: Node) -> None:
    async with contextlib.AsyncExitStack() as held:
        await held.enter_async_context(node.connection())
        assert not node.saturated  # one of two in use
        await held.enter_async_context(node.connection())
        assert node.saturated
    assert not node.saturated  # both released


async def test_a_block_that_fails_or_outlives_its_budget_still_frees_its_slot(node: Node) -> None:
    with pytest.raises(ZeroDivisionError):
        async with node.connection():
            raise ZeroDivisionError
    with pytest.raises(TimeoutError):  # DeadlineExceeded: the connection is terminated
        async with node.connection(budget_s=0.05) as conn:
            await conn.execute("SELECT pg_sleep(5)")
    async with node.connection(), node.connection():
        assert node.saturated  # the count is exact again: both slots were given back
    assert not node.saturated


async def test_a_full_home_pool_costs_a_short_wait_then_the_next_replica(migrated: Cluster) -> None:
    settings = cluster_settings(migrated, database_pool_min=POOL, database_pool_max=POOL)
    async with running_app(settings) as (app, _client):
        router = app.state.router
        await wait_until(lambda: all_healthy(router.monitor), "every node healthy and fresh")
        home, next_replica = replica_order("eu")[:2]
        async with contextlib.AsyncExitStack() as held:
            for _ in range(POOL):
                await held.enter_async_context(router.nodes[home].connection())
            started = time.monotonic()
            rows, node = await router.read("eu", None, lambda conn: conn.fetchval("SELECT 1"))
            waited = time.monotonic() - started
        assert (rows, node) == (1, next_replica)
        # Without the saturation check the read would queue for the whole acquire timeout first.
        assert SATURATED_WAIT_S <= waited < SATURATED_WAIT_S + (ACQUIRE_MS / 1000 - SATURATED_WAIT_S) / 2
