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
DIRECT_VARIANTS: Final = 3  # routed, floor and the h11 variant; the pgpool variant goes through pgpool-II
# superuser_reserved_connections (3), psql for seeding and SHOW, the failover and revenue benchmarks' own sessions
CONNECTION_MARGIN: Final = 30


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


def max_connections(workers: int, pool_size: int, pgpool_children: int) -> int:
    """Connection slots each node needs while every app variant runs at once (max_connections of every node).

    Three variants connect directly (routed, floor, h11), each with `workers` processes holding a warm pool and a
    probe connection per node; every pgpool-II child holds one connection to every backend. With the pgpool
    variant's pool at twice the others' (bench/__main__.py) the full profile needs 66 + 46 + the margin, over the
    cluster's default of 100: a full run failed on it (SHOW pool_nodes refused, 2026-12-04 21:06), and the next
    one had 98 client backends on every node during the overhead rounds.
    """
    direct = DIRECT_VARIANTS * workers * (pool_size + 1)
    return direct + pgpool_children + CONNECTION_MARGIN


@contextlib.contextmanager
def seeded_cluster(companies: int, connections: int = 100) -> Iterator[Cluster]:
    """Primary + eu/us/asia replicas with the app's schema and `companies` rows, `connections` slots per node
    (100, PostgreSQL's default, is plenty for one app variant)."""
    cluster = Cluster.create(bench_root(), extra_settings=f"max_connections = {int(connections)}\n")
    try:
        upgrade(cluster.dsn(PRIMARY), "eu")
        seed(cluster, companies)
        yield cluster
    finally:
        cleanup(cluster.root)
