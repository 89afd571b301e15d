"""Runs wrk with bench/lua/reads.lua and returns its summary: the closed-loop generator (C, cheap on 2 cores).

Users with think time come from bench.think_users instead: wrk keeps their timers in an unsorted list walked on
every wake-up, and at 10,000 users took as much CPU as the app (README, Performance; the think-time mode this
module had until commit f0fbf8c is what that comparison ran).
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

SCRIPT: Final = Path(__file__).with_name("lua") / "reads.lua"
MARKER: Final = "BENCH_JSON "
OVERHEAD_COUNTRIES: Final = ("DE", "US", "JP")  # one per region: eu, us, asia
USER_COUNTRIES: Final = ("DE", "FR", "GB", "US", "BR", "CA", "JP", "IN", "AU")  # three per region


class WrkError(RuntimeError):
    """wrk is missing or did not print its summary."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: completed requests, failures and latency percentiles (ms)."""

    requests: int
    duration_s: float
    errors: int
    error_kinds: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.duration_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "rate": round(self.rate, 1),
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        }


def parse_output(stdout: str) -> WrkResult:
    """The BENCH_JSON line printed by the script's done() hook."""
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise WrkError(f"wrk printed no {MARKER.strip()} line; output was:\n{stdout[-2000:]}")
    raw = json.loads(line.removeprefix(MARKER))
    latency = {key: value / 1000 for key, value in raw["latency_us"].items()}
    errors: dict[str, int] = raw["errors"]
    return WrkResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        errors=sum(errors.values()),
        error_kinds=errors,
        p50_ms=latency["p50"],
        p95_ms=latency["p95"],
        p99_ms=latency["p99"],
        max_ms=latency["max"],
    )


def run_wrk(
    url: str,
    *,
    connections: int,
    duration_s: float,
    ids: int,
    countries: tuple[str, ...] = OVERHEAD_COUNTRIES,
    threads: int = 1,
    timeout_s: float = 10,
    script: Path = SCRIPT,
    script_env: dict[str, str] | None = None,
) -> WrkResult:
    """One closed-loop run against url; `script`/`script_env` swap in another wrk script (e.g. lua/get.lua) and its
    settings."""
    binary = shutil.which("wrk")
    if binary is None:
        raise WrkError("wrk is not installed (scripts/bootstrap.sh installs the Debian package)")
    env = {
        **os.environ,
        "BENCH_IDS": str(ids),
        "BENCH_COUNTRIES": ",".join(countries),
        "BENCH_LUA_DIR": str(SCRIPT.parent),
        **(script_env or {}),
    }
    cmd = [
        binary, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
        f"--timeout={timeout_s:g}s", "-s", str(script), url,
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=duration_s + 120)
    if result.returncode != 0:
        raise WrkError(f"wrk exited with {result.returncode}: {result.stderr.strip()[-2000:]}")
    return parse_output(result.stdout)
