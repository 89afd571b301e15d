"""App fixtures: one migrated cluster and one running app per session; `healthy` restores nodes around a test."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.migrate import upgrade
from localdev.cluster import Cluster
from tests.app.helpers import Live, all_healthy, cluster_settings, running_app, wait_until


@pytest.fixture(scope="session")
def migrated(pg_cluster: Cluster) -> Cluster:
    upgrade(pg_cluster.dsn("primary"), "us")
    return pg_cluster


@pytest.fixture(scope="session")
async def live(migrated: Cluster) -> AsyncIterator[Live]:
    async with running_app(cluster_settings(migrated)) as (app, client):
        yield Live(app=app, client=client, cluster=migrated)


async def _restore(live: Live) -> None:
    await asyncio.to_thread(live.cluster.restore)
    await wait_until(lambda: all_healthy(live.monitor), "every node healthy and fresh", timeout_s=30)


@pytest.fixture
async def healthy(live: Live) -> Live:
    """The session app once it sees every node healthy (for tests that damage nothing)."""
    await wait_until(lambda: all_healthy(live.monitor), "every node healthy and fresh", timeout_s=30)
    return live


@pytest.fixture
async def restored(live: Live) -> AsyncIterator[Live]:
    """For tests that stop or pause nodes: every node running, replaying and seen healthy by the app
    before and after the test, so nothing is left behind and tests stay order-independent."""
    await _restore(live)
    yield live
    await _restore(live)
