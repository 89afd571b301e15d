"""Shared fixtures. `pg_cluster` starts a real local PostgreSQL primary + eu/us/asia replicas, lazily:
only tests that request it pay the few seconds, and it is the same code as `make run` (localdev)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.cluster import Cluster, cleanup

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """Primary + replicas under .local/pytest-<pid>; DSNs via .dsn(node), controls via stop_node/start_node,
    pause_replay/resume_replay and restore(). Removed at the end of the session."""
    cluster = Cluster.create(REPO / ".local" / f"pytest-{os.getpid()}")
    try:
        yield cluster
    finally:
        cleanup(cluster.root)
