"""4. Infra evaluation: seconds to evaluate the production stack's real __main__.py under Pulumi mocks.

Run in a fresh interpreter (`python -m bench.infra` prints JSON) so the first evaluation pays what `make plan`
pays. Two baselines from the same run: the same evaluation with the cyclic garbage collector left running (what the
harness did before it paused it; `--collector-on`), in alternating fresh interpreters, and a fixed pure-Python
workload timed in each process (the ratio to it travels between machines better than seconds do).
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from bench.stats import median, ratio

REPO: Final = Path(__file__).resolve().parent.parent
# A private bytecode cache: this machine sets PYTHONDONTWRITEBYTECODE, which would make every run compile all of
# pulumi_aws again (tens of seconds) -- a cost no developer machine pays twice. The venv itself is left untouched.
PYCACHE: Final = REPO / ".local" / "pycache-bench"

GOAL_S: Final = 3.0


def calibration_s(repeats: int = 3) -> float:
    """Median time of a fixed interpreter-bound workload (dict and string work, like the evaluation)."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        table: dict[str, int] = {}
        for i in range(300_000):
            table[f"key-{i % 5000}"] = table.get(f"key-{i % 5000}", 0) + i
        timings.append(time.perf_counter() - started)
    return median(timings)


@contextlib.contextmanager
def _collector_left_on() -> Iterator[None]:
    """Stands in for the harness's collector pause in the baseline: the evaluation as it ran before."""
    yield


def measure(stack: str, *, collector_on: bool = False) -> dict[str, Any]:
    """Import, first (cold) and second (warm) evaluation of the stack, plus the calibration unit; with
    `collector_on`, the harness does not pause the cyclic garbage collector (the baseline).

    CPU seconds are reported next to wall seconds: on a shared machine they are the steadier of the two."""
    unit = calibration_s()
    started, started_cpu = time.perf_counter(), time.process_time()
    import offline.harness  # imported here: the import is part of what we time
    from offline.harness import evaluate

    if collector_on:
        offline.harness.cyclic_gc_paused = _collector_left_on

    imported, imported_cpu = time.perf_counter(), time.process_time()
    first = evaluate(stack)
    evaluated, evaluated_cpu = time.perf_counter(), time.process_time()
    evaluate(stack)
    return {
        "stack": stack,
        "collector_on": collector_on,
        "resources": len(first.resources),
        "calibration_s": round(unit, 4),
        "import_s": round(imported - started, 3),
        "import_cpu_s": round(imported_cpu - started_cpu, 3),
        "evaluate_s": round(evaluated - imported, 3),
        "evaluate_cpu_s": round(evaluated_cpu - imported_cpu, 3),
        "evaluate_warm_s": round(time.perf_counter() - evaluated, 3),
        "evaluate_warm_cpu_s": round(time.process_time() - evaluated_cpu, 3),
    }


def _measure_in_fresh_interpreter(stack: str, *, collector_on: bool = False) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
        "PYTHONPYCACHEPREFIX": str(PYCACHE)
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.infra", stack, *(["--collector-on"] if collector_on else [])],
        capture_output=True, text=True, check=False, timeout=600, cwd=REPO, env=env,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"infra evaluation of {stack} failed:\n{result.stderr.strip()[-2000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


FIGURES: Final = ("import_s", "evaluate_s", "evaluate_cpu_s", "evaluate_warm_s", "evaluate_warm_cpu_s", "calibration_s")


def _medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: round(median([run[key] for run in runs]), 4) for key in FIGURES}


def run_infra(stack: str, passes: int, *, warm_up: bool = True) -> dict[str, Any]:
    """With `warm_up`, one discarded pass (it may fill the bytecode cache); then `passes` rounds of two fresh
    interpreters, the harness as shipped and the collector-on baseline, alternating which goes first; medians and
    ratios."""
    if warm_up:
        _measure_in_fresh_interpreter(stack)
    shipped: list[dict[str, Any]] = []
    baseline: list[dict[str, Any]] = []
    for i in range(passes):
        for collector_on in (False, True) if i % 2 == 0 else (True, False):
            run = _measure_in_fresh_interpreter(stack, collector_on=collector_on)
            (baseline if collector_on else shipped).append(run)
    figures: dict[str, Any] = {"stack": stack, "resources": shipped[-1]["resources"], **_medians(shipped)}
    figures["collector_on"] = _medians(baseline)
    figures["passes"] = shipped + baseline
    figures["goal_s"] = GOAL_S
    figures["ratios"] = {
        "evaluate/calibration": ratio(figures["evaluate_s"], figures["calibration_s"]),
        "evaluate/goal": ratio(figures["evaluate_s"], GOAL_S),
        "evaluate/collector_on": ratio(figures["evaluate_s"], figures["collector_on"]["evaluate_s"]),
        "evaluate_cpu/collector_on": ratio(figures["evaluate_cpu_s"], figures["collector_on"]["evaluate_cpu_s"]),
    }
    return figures


if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if arg != "--collector-on"]
    print(json.dumps(measure(args[0] if args else "production", collector_on="--collector-on" in sys.argv[1:])))
