"""The benchmark's own local cluster (localdev code), migrated and seeded, removed when the block ends."""

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from app.migrate import upgrade
from localdev.cluster import PRIMARY, REPLICAS, Cluster, ClusterError, cleanup

REPO: Final = Path(__file__).resolve().parent.parent


def bench_root() -> Path:
    """Under .local/ (gitignored), named by our pid so parallel runs never share a cluster."""
    return REPO / ".local" / f"bench-{os.getpid()}"


def seed(cluster: Cluster, companies: int) -> None:
    """Insert companies spread over the regions and wait until every replica has replayed them."""
    cluster.sql(
        PRIMARY,
        "INSERT INTO companies (name, country, region) "
        f"SELECT 'company ' || g, (ARRAY['DE','US','JP'])[g % 3 + 1], (ARRAY['eu','us','asia'])[g % 3 + 1] "
        f"FROM generate_series(1, {int(companies)}) AS g",
    )
    target = cluster.sql(PRIMARY, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + 30
    for replica in REPLICAS:
        while cluster.sql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") != "t":
            if time.monotonic() > deadline:
                raise ClusterError(f"replica {replica} did not replay the seed data within 30s")
            time.sleep(0.05)


@contextlib.contextmanager
def seeded_cluster(companies: int) -> Iterator[Cluster]:
    """Primary + eu/us/asia replicas with the app's schema and `companies` rows."""
    cluster = Cluster.create(bench_root())
    try:
        upgrade(cluster.dsn(PRIMARY), "eu")
        seed(cluster, companies)
        yield cluster
    finally:
        cleanup(cluster.root)
