"""Shared fixtures. `pg_cluster` starts a real local PostgreSQL primary + eu/us/asia replicas, lazily:
only tests that request it pay the few seconds, and it is the same code as `make run` (localdev)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.cluster import Cluster, cleanup

REPO = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order for `make test`'s parallel run (pytest-xdist `--dist loadfile`, one process per core): each test file
    is one unit on one worker, so its module fixtures run once (`--dist loadgroup` in xdist 3.8 set every module
    fixture up twice, measured), and each worker has its own session fixtures (a cluster under
    .local/pytest-<pid> on free ports, an app, an SMTP sink). Files with a test marked `slow` go first, so the
    longest unit does not start last on one worker while the other idles."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: collection order otherwise


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """Primary + replicas under .local/pytest-<pid>; DSNs via .dsn(node), controls via stop_node/start_node,
    pause_replay/resume_replay and restore(). Removed at the end of the session."""
    cluster = Cluster.create(REPO / ".local" / f"pytest-{os.getpid()}")
    try:
        yield cluster
    finally:
        cleanup(cluster.root)
