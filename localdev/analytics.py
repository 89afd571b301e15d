"""The analytics side of `make run`: its database beside the app's, migrations, a demo history, the pipeline.

`analytics_environment` adds the analytics names of ANALYTICS.md to the app's environment (a fresh random token
per run); `running_analytics` migrates, seeds the demo history when the billing tables are empty (unless told
not to), runs the pipeline once so the first request already has figures, then keeps it running every few seconds
until the block ends.
"""

import asyncio
import contextlib
import json
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from analytics.figures import add_months, month_label
from app.db_roles import PIPELINE_ROLE
from contracts import environment as variables
from contracts.regions import Region
from localdev.cluster import PRIMARY, Cluster
from localdev.demo import MONTHS, seed_if_empty

ANALYTICS_DATABASE: Final = "analytics"
SOURCE_REPLICA: Final[Region] = "eu"
PIPELINE_EVERY_S: Final = 5
PIPELINE_MARKER: Final = b"localdev.pipeline_loop"  # how `make stop` recognises a left-behind loop
PIPELINE_PID_FILE: Final = "pipeline.json"
PIPELINE_LOG: Final = "pipeline.log"


def analytics_environment(cluster: Cluster) -> dict[str, str]:
    """ANALYTICS_* for the app and the pipeline: analytics database, a random token, source replica."""
    return {
        variables.ANALYTICS_DATABASE_URL: cluster.dsn(PRIMARY, ANALYTICS_DATABASE),
        variables.ANALYTICS_API_TOKENS: secrets.token_urlsafe(24),
        variables.ANALYTICS_BASE_CURRENCY: "USD",
        # A replica, as the pipeline's role (AWS too).
        variables.ANALYTICS_SOURCE_URL: cluster.dsn(SOURCE_REPLICA, user=PIPELINE_ROLE),
    }


def _create_database(cluster: Cluster) -> None:
    exists = cluster.sql(PRIMARY, f"SELECT 1 FROM pg_database WHERE datname = '{ANALYTICS_DATABASE}'", "postgres")
    if exists != "1":
        cluster.sql(PRIMARY, f"CREATE DATABASE {ANALYTICS_DATABASE}", "postgres")


def _run(module: str, env: Mapping[str, str], cwd: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", module, *args], env=dict(env), cwd=cwd, check=True)


@contextlib.contextmanager
def running_analytics(
    cluster: Cluster, env: Mapping[str, str], cwd: Path, run_dir: Path, *, demo: bool
) -> Iterator[None]:
    """Analytics database migrated (and seeded) with the pipeline looping; the loop is stopped at the end.
    The loop's output goes to `run_dir`/pipeline.log and its pid to `run_dir`/pipeline.json (for `make stop`)."""
    _create_database(cluster)
    _run("analytics.migrate", env, cwd)
    if demo:
        written = asyncio.run(seed_if_empty(cluster.dsn(PRIMARY)))
        if written:
            print(f"localdev: demo billing history seeded ({written} invoices over {MONTHS} months)")
    # The replica may not have replayed the seed yet: the first run reads the primary so figures exist at once.
    first_run = {**env, variables.ANALYTICS_SOURCE_URL: cluster.dsn(PRIMARY, user=PIPELINE_ROLE)}
    _run("analytics.pipeline", first_run, cwd, "--no-migrate")
    with (run_dir / PIPELINE_LOG).open("ab") as log:  # one progress line per stream per run: not the console
        loop = subprocess.Popen(
            [sys.executable, "-m", "localdev.pipeline_loop", "--every", str(PIPELINE_EVERY_S)],
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    (run_dir / PIPELINE_PID_FILE).write_text(json.dumps({"pid": loop.pid}))
    try:
        yield
    finally:
        if loop.poll() is None:
            loop.send_signal(signal.SIGINT)
            try:
                loop.wait(timeout=10)
            except subprocess.TimeoutExpired:
                loop.kill()
                loop.wait()


def analytics_hints(base: str, env: Mapping[str, str], run_dir: Path) -> list[str]:
    """What `make run` prints for the analytics side: the token and a curl over the demo's two years."""
    this_month = datetime.now(UTC).date().replace(day=1)
    first = month_label(add_months(this_month, -(MONTHS - 1)))
    token = env[variables.ANALYTICS_API_TOKENS]
    return [
        f"localdev: analytics token for this run: {token}"
        f" (pipeline every {PIPELINE_EVERY_S}s, log {run_dir / PIPELINE_LOG}). MRR:",
        f"  curl -s -H 'Authorization: Bearer {token}' "
        f"'{base}/api/analytics/mrr?from={first}&to={month_label(this_month)}'",
        f"localdev: dashboard on {base}/dashboard (sign in with the token above; it updates as the pipeline runs)",
    ]
