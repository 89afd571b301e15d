"""Benchmarks that features plug into `make bench` (the revenue endpoints, for one) without touching the run itself.

A benchmark gets the run's seeded cluster, its profile (so `--smoke` stays seconds long) and a way to start app
variants on the same server stack and settings as every other variant; it returns its raw figures (stored under its
name in the results JSON) and the rows it adds to the printed table, each figure next to a same-run baseline.
To add one: implement `Benchmark` in its own module under bench/ and list it in `EXTENSIONS` below.
"""

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from bench.profile import Profile
from bench.revenue import RevenueBenchmark
from bench.servers import ROUTED, AppServer, app_server, wait_ready
from localdev.cluster import Cluster

# (figure, value, baseline (same run), ratio, goal): the columns of bench.report.table
Row = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class RunContext:
    """What a plugged-in benchmark may use: the run's cluster (app schema migrated, `profile.companies` seeded)."""

    cluster: Cluster
    profile: Profile
    env: Mapping[str, str]  # the routed app's environment: DATABASE_* of the cluster, pool sizes
    log_dir: Path

    @contextlib.contextmanager
    def app(self, name: str, extra_env: Mapping[str, str] | None = None, target: str = ROUTED) -> Iterator[AppServer]:
        """An app variant with the run's environment plus `extra_env`, ready when the block starts, stopped after."""
        env = {**self.env, **(extra_env or {})}
        with app_server(name, target, env, self.profile.workers, self.log_dir) as server:
            wait_ready(server)
            yield server


class Benchmark(Protocol):
    """One plugged-in benchmark; `name` is its key in the results JSON."""

    @property
    def name(self) -> str: ...

    def run(self, context: RunContext) -> dict[str, Any]:
        """Measure; raise RuntimeError with one clear line when it cannot."""
        ...

    def rows(self, result: Mapping[str, Any]) -> list[Row]:
        """Table rows for what `run` returned."""
        ...


# Run in this order after failover and before the many-users run (which saturates the machine).
EXTENSIONS: Final[tuple[Benchmark, ...]] = (RevenueBenchmark(),)
