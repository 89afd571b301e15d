"""Start and stop the things a benchmark measures: uvicorn app variants (subprocesses) on free loopback ports."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from app.server import SERVER_STACK
from contracts import environment
from contracts.regions import Region
from localdev.cluster import REPLICAS, Cluster, free_port

REPO: Final = Path(__file__).resolve().parent.parent
ROUTED: Final = "app.main:app"
FLOOR: Final = "bench.floor:app"
# The server stack the image ran before uvicorn[standard]: the pure-Python h11 parser on the default asyncio loop.
LEGACY_STACK: Final = ("--loop", "asyncio", "--http", "h11")
# Keep-alive longer than the longest think time (the stack's own, later on the command line, wins when it sets one),
# and a deep accept queue for thousands of users connecting at once.
KEEP_ALIVE_S: Final = 75
BACKLOG: Final = 16384
# wrk holds one connection per user, where in production the ALB pools its connections to a task: so the benchmark
# lifts the image's per-process connection limit (app/http_limits.py MAX_CONCURRENCY) to what 10,000 users need.
CONNECTION_LIMIT: Final = BACKLOG
# uvicorn's supervisor restarts a worker that misses a 5 s health check; thousands of users connecting at once on a
# shared 2-core machine can keep a worker's loop busy that long (asyncio accepts the whole backlog in one callback).
WORKER_HEALTHCHECK_S: Final = 60
# Consecutive ok answers from /health/regional before a server counts as ready (requests spread over workers).
READY_STREAK: Final = 6


class ServerError(RuntimeError):
    """A server did not start or did not become ready; the message names it and shows its log tail."""


@dataclass(frozen=True)
class AppServer:
    name: str
    url: str
    proc: "subprocess.Popen[bytes]"
    log: Path


def app_environment(
    database_url: str, replicas: Mapping[Region, str], pool_size: int, *, pool_max: int | None = None
) -> dict[str, str]:
    """The app's environment (DESIGN.md names), with nothing inherited that could change its behaviour; pools
    start warm with pool_size connections and grow to pool_max (default: pool_size)."""
    inherited = ("DATABASE_", environment.ORIGIN_VERIFY_SECRET, environment.HEALTH_PROBE_INTERVAL_MS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env |= {
        environment.DATABASE_URL: database_url,
        environment.DATABASE_PRIMARY_REGION: "eu",
        environment.DATABASE_POOL_MIN: str(pool_size),
        environment.DATABASE_POOL_MAX: str(pool_size if pool_max is None else pool_max),
    }
    for region, url in replicas.items():
        env[environment.DATABASE_READ_REPLICA[region]] = url
    return env


def cluster_environment(cluster: Cluster, pool_size: int) -> dict[str, str]:
    """Primary and every replica of the local cluster, as `make run` would configure them."""
    return app_environment(cluster.dsn("primary"), {r: cluster.dsn(r) for r in REPLICAS}, pool_size)


def _log_tail(path: Path) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-15:])
    return ""


def _regional_status(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/health/regional", timeout=2) as response:  # noqa: S310 - loopback URL
            status: str = json.load(response)["status"]
            return status
    except (OSError, ValueError, KeyError):
        return None


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes under a --workers supervisor (multiprocessing spawn children; not its
    resource tracker)."""
    workers: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    workers.append(int(child))
    return workers


def loaded_stack(server: AppServer) -> dict[str, int | bool]:
    """Which compiled server extensions every serving process (the workers, else the process itself) has loaded:
    shows a variant really runs the stack it was started with (h11 and asyncio's loop are pure Python)."""
    pids = _workers(server.proc.pid) or [server.proc.pid]
    maps = [Path(f"/proc/{pid}/maps").read_text() for pid in pids]
    return {
        "processes": len(maps),
        "uvloop": all("/uvloop/loop." in m for m in maps),
        "httptools": all("/httptools/parser/parser." in m for m in maps),
    }


def wait_ready(server: AppServer, timeout_s: float = 60) -> None:
    """Ready = /health/regional says ok several times in a row (each worker has probed every node)."""
    deadline = time.monotonic() + timeout_s
    streak = 0
    while streak < READY_STREAK:
        if server.proc.poll() is not None:
            raise ServerError(f"{server.name} exited with {server.proc.returncode}:\n{_log_tail(server.log)}")
        if time.monotonic() > deadline:
            raise ServerError(f"{server.name} not ready within {timeout_s}s:\n{_log_tail(server.log)}")
        streak = streak + 1 if _regional_status(server.url) == "ok" else 0
        time.sleep(0.1)


@contextlib.contextmanager
def app_server(
    name: str,
    target: str,
    env: Mapping[str, str],
    workers: int,
    log_dir: Path,
    *,
    stack: tuple[str, ...] = SERVER_STACK,
    cwd: Path = REPO,
) -> Iterator[AppServer]:
    """uvicorn with the given workers and server stack (event loop, HTTP parser) on a free port, running the code
    under `cwd`; stopped (SIGINT, then SIGKILL) when the block ends.

    Not waited for: start every variant, then wait_ready() each, so their start-ups overlap."""
    port = free_port()
    log = log_dir / f"app-{name}.log"
    cmd = [
        sys.executable, "-m", "bench.uvicorn_tcp", target, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
        "--timeout-keep-alive", str(KEEP_ALIVE_S), "--backlog", str(BACKLOG),
        "--timeout-worker-healthcheck", str(WORKER_HEALTHCHECK_S), *stack,
        "--limit-concurrency", str(CONNECTION_LIMIT),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = AppServer(name=name, url=f"http://127.0.0.1:{port}", proc=proc, log=log)
    try:
        yield server
    finally:
        stop_process(proc)


def stop_process(proc: "subprocess.Popen[bytes]", grace_s: float = 10) -> None:
    """SIGINT (graceful for uvicorn and pgpool), SIGKILL to the process group if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
