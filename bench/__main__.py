"""`python -m bench [--smoke]`: routing overhead, failover, many users and infra evaluation, in one run.

Starts its own cluster under .local/bench-<pid>, pgpool-II and three app variants on free loopback ports,
stops them all at the end (also on Ctrl-C), writes bench/results/<timestamp>.json and prints a table.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bench.cluster import max_connections, seeded_cluster
from bench.extensions import EXTENSIONS, RunContext
from bench.failover import run_failover
from bench.infra import run_infra
from bench.overhead import FLOOR, LEGACY, PGPOOL, ROUTED, run_overhead
from bench.pgpool import running_pgpool
from bench.profile import FULL, SMOKE, Profile
from bench.report import table, write_json
from bench.servers import FLOOR as FLOOR_APP
from bench.servers import (
    LEGACY_STACK,
    ServerError,
    app_environment,
    app_server,
    cluster_environment,
    wait_ready,
)
from bench.servers import ROUTED as ROUTED_APP
from bench.users import run_users
from bench.wrk import WrkError
from localdev.cluster import NODES, ClusterError

RESULTS: Final = Path(__file__).resolve().parent / "results"
FD_MARGIN: Final = 1024


def raise_fd_limit(users: int) -> None:
    """wrk and uvicorn each hold one socket per user; children inherit this soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = users + FD_MARGIN
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ServerError(f"open-files limit {hard} is below the {needed} needed for {users} users (ulimit -Hn)")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else hard, hard))


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def progress(message: str) -> None:
    """A timestamped line on stderr, so a long run shows where it is."""
    print(f"bench {datetime.now(UTC):%H:%M:%S}: {message}", file=sys.stderr, flush=True)


def pgpool_sizes(profile: Profile) -> tuple[int, int]:
    """The pgpool variant's app pool maximum and pgpool-II's children.

    Behind pgpool the app sees one node, its primary, and reads there with at most half its pool maximum (writes
    keep the rest): a maximum of twice the pool gives it the read slots the routed variant has on each replica, so
    no read waits for a slot (with pool_size, 3 of 4 smoke connections on one worker got 503s). It starts with
    pool_size, as the others, and grows only as far as the load asks. One child per app connection plus probes.
    """
    pool_max = 2 * profile.pool_size
    return pool_max, profile.workers * (pool_max + 1) + 4


def run(profile: Profile) -> dict[str, Any]:
    """Every benchmark in order: infra (nothing else running), overhead (four variants), failover, the plugged-in
    benchmarks (bench.extensions), users."""
    results: dict[str, Any] = {"profile": vars(profile), "machine": machine()}
    progress("infra evaluation")
    results["infra"] = run_infra(profile.infra_stack, profile.infra_passes, warm_up=profile.infra_warm_up)
    progress("cluster, pgpool-II and app variants")
    pgpool_pool_max, children = pgpool_sizes(profile)
    connections = max_connections(profile.workers, profile.pool_size, children)
    with seeded_cluster(profile.companies, connections) as cluster, contextlib.ExitStack() as routed_stack:
        results["cluster"] = {
            node: {"max_connections": int(cluster.sql(node, "SHOW max_connections"))} for node in NODES
        }
        log_dir = cluster.root / "logs"
        env = cluster_environment(cluster, profile.pool_size)
        routed = routed_stack.enter_context(app_server(ROUTED, ROUTED_APP, env, profile.workers, log_dir))
        with contextlib.ExitStack() as others:
            pgpool = others.enter_context(running_pgpool(cluster, cluster.root / "pgpool", children))
            pgpool_env = app_environment(pgpool.dsn(), {}, profile.pool_size, pool_max=pgpool_pool_max)
            servers = {
                ROUTED: routed,
                FLOOR: others.enter_context(app_server(FLOOR, FLOOR_APP, env, profile.workers, log_dir)),
                PGPOOL: others.enter_context(app_server(PGPOOL, ROUTED_APP, pgpool_env, profile.workers, log_dir)),
                LEGACY: others.enter_context(
                    app_server(LEGACY, ROUTED_APP, env, profile.workers, log_dir, stack=LEGACY_STACK)
                ),
            }
            progress("routing overhead")
            for server in servers.values():
                wait_ready(server)
            results["overhead"] = run_overhead(servers, profile)
            results["overhead"]["pgpool_selects"] = pgpool.select_counts()
        # Failover before the users test: thousands of users can leave a backlog that would colour it.
        progress("failover")
        results["failover"] = asyncio.run(run_failover(routed, cluster, profile))
        context = RunContext(cluster=cluster, profile=profile, env=env, log_dir=log_dir)
        for benchmark in EXTENSIONS:
            progress(benchmark.name)
            results[benchmark.name] = benchmark.run(context)
        progress(f"{profile.users} users")
        capacity = results["overhead"]["variants"][ROUTED]["rate"]
        results["users"] = run_users(routed, profile, capacity)
    results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run with tiny loads (used by the tests)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="directory for the JSON (default: %(default)s)")
    args = parser.parse_args(argv)
    profile = SMOKE if args.smoke else FULL
    started = datetime.now(UTC)
    try:
        raise_fd_limit(profile.users)
        results: dict[str, Any] = {"started": started.isoformat(timespec="seconds"), "workers": profile.workers} | run(
            profile
        )
    except (ClusterError, ServerError, WrkError, RuntimeError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started has been stopped", file=sys.stderr)
        return 130
    path = write_json(results, args.output, started)
    print(f"\nbench ({profile.name}, {profile.workers} uvicorn workers, pool {profile.pool_size}/node, "
          f"{results['machine']['cpus']} CPUs) - raw numbers in {path}\n")  # fmt: skip
    print(table(results, [row for b in EXTENSIONS if b.name in results for row in b.rows(results[b.name])]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
