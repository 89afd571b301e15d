"""4. Infra evaluation: seconds to evaluate the production stack's real __main__.py under Pulumi mocks.

Run in a fresh interpreter (`python -m bench.infra` prints JSON) so the first evaluation pays what `make plan`
pays. The baseline is a fixed pure-Python workload timed in the same process: the ratio says how many of those
units the evaluation costs, which travels between machines better than seconds do.
"""

import json
import os
import subprocess
import sys
import time
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


def measure(stack: str) -> dict[str, Any]:
    """Import, first (cold) and second (warm) evaluation of the stack, plus the calibration unit.

    CPU seconds are reported next to wall seconds: on a shared machine they are the steadier of the two."""
    unit = calibration_s()
    started, started_cpu = time.perf_counter(), time.process_time()
    from offline.harness import evaluate  # imported here: the import is part of what we time

    imported, imported_cpu = time.perf_counter(), time.process_time()
    first = evaluate(stack)
    evaluated, evaluated_cpu = time.perf_counter(), time.process_time()
    evaluate(stack)
    return {
        "stack": stack,
        "resources": len(first.resources),
        "calibration_s": round(unit, 4),
        "import_s": round(imported - started, 3),
        "import_cpu_s": round(imported_cpu - started_cpu, 3),
        "evaluate_s": round(evaluated - imported, 3),
        "evaluate_cpu_s": round(evaluated_cpu - imported_cpu, 3),
        "evaluate_warm_s": round(time.perf_counter() - evaluated, 3),
        "evaluate_warm_cpu_s": round(time.process_time() - evaluated_cpu, 3),
    }


def _measure_in_fresh_interpreter(stack: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
        "PYTHONPYCACHEPREFIX": str(PYCACHE)
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.infra", stack],
        capture_output=True, text=True, check=False, timeout=600, cwd=REPO, env=env,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"infra evaluation of {stack} failed:\n{result.stderr.strip()[-2000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def run_infra(stack: str, passes: int) -> dict[str, Any]:
    """measure() in `passes` fresh interpreters (the first may fill the bytecode cache); the last is reported,
    with ratios against its calibration unit and the goal."""
    runs = [_measure_in_fresh_interpreter(stack) for _ in range(passes)]
    figures = dict(runs[-1])
    figures["passes"] = runs
    figures["goal_s"] = GOAL_S
    figures["ratios"] = {
        "evaluate/calibration": ratio(figures["evaluate_s"], figures["calibration_s"]),
        "evaluate/goal": ratio(figures["evaluate_s"], GOAL_S),
    }
    return figures


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else "production")))
