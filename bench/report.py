"""The run's outputs: raw numbers as JSON under bench/results/ and a small table of ratios on stdout."""

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.cpu import GROUPS
from bench.stats import ratio


def write_json(results: dict[str, Any], directory: Path, started: datetime) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{started.strftime('%Y%m%dT%H%M%SZ')}-{results['profile']['name']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3g}{unit}" if abs(value) < 100 else f"{value:,.0f}{unit}"
    return f"{value}{unit}"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(figure, value, baseline, ratio, goal) for every headline figure present in the results."""
    out: list[tuple[str, str, str, str, str]] = []
    if overhead := results.get("overhead"):
        variants, ratios = overhead["variants"], overhead["ratios"]
        pairs = (
            ("routed_home", "floor", ">= 0.95"),  # routing itself: the same pool, only the decision differs
            ("routed", "floor", "spread"),  # plus three local servers on two cores
            ("routed", "pgpool", ">= 1.5"),
            ("routed", "legacy", "> 1"),
        )
        for name, other, goal in pairs:
            if name not in variants or other not in variants:
                continue
            value, base, r = variants[name], variants[other], ratios[f"{name}/{other}"]
            vs = f"{name} vs {other}" + (" (h11 + asyncio)" if other == "legacy" else "")
            out.append((f"reads/s {vs}", _fmt(value["rate"]), _fmt(base["rate"]), _fmt(r["rate"]), goal))
            out.append((f"p50 {vs}", _fmt(value["p50_ms"], " ms"), _fmt(base["p50_ms"], " ms"),
                        _fmt(r["p50_ms"]), "lower"))  # fmt: skip
            out.append((f"p99 {vs}", _fmt(value["p99_ms"], " ms"), _fmt(base["p99_ms"], " ms"),
                        _fmt(r["p99_ms"]), "lower"))  # fmt: skip
            if other == "floor":
                cpu, base_cpu = value["cpu_us_per_read"], base["cpu_us_per_read"]
                out.append((f"CPU us/read app / PostgreSQL, {vs}", f"{cpu['app']:g} / {cpu['database']:g}",
                            f"{base_cpu['app']:g} / {base_cpu['database']:g}",
                            _fmt(ratio(cpu["app"], base_cpu["app"])), "lower"))  # fmt: skip
    if failover := results.get("failover"):
        r = failover["ratios"]
        out.append(("failover: failed requests", _fmt(failover["failed"]), _fmt(failover["requests"]) + " sent",
                    _fmt(r["failed/requests"]), "0"))  # fmt: skip
        out.append((f"failover: reads on {failover['next']} after stop", _fmt(failover["switch_s"], " s"),
                    _fmt(failover["pre_stop_p99_ms"], " ms p99"), _fmt(r["switch/pre_stop_p99"]), "< 1 s"))  # fmt: skip
        out.append((f"failover: reads back on {failover['home']}", _fmt(failover["return_s"], " s"),
                    _fmt(failover["node_start_s"], " s start"), _fmt(r["return/node_start"]), ""))  # fmt: skip
    if users := results.get("users"):
        loaded, base, r = users["loaded"], users["baseline"], users["ratios"]
        out.append((f"{users['users']:,} users: req/s", _fmt(loaded["rate"]), _fmt(users["target_rate"]) + " target",
                    _fmt(r["rate/target"]), "~2,000"))  # fmt: skip
        out.append(("  app capacity (closed loop)", _fmt(users["capacity_rate"]),
                    _fmt(users["target_rate"]) + " target",
                    _fmt(r["target/capacity"]), "target/capacity <= 1"))  # fmt: skip
        out.append((f"{users['users']:,} users: p50", _fmt(loaded["p50_ms"], " ms"),
                    _fmt(base["p50_ms"], f" ms @{base['users']}"), _fmt(r["p50/baseline_p50"]), ""))  # fmt: skip
        out.append((f"{users['users']:,} users: p99", _fmt(loaded["p99_ms"], " ms"),
                    _fmt(base["p99_ms"], f" ms @{base['users']}"), _fmt(r["p99/baseline_p99"]),
                    "< 100 ms"))  # fmt: skip
        cpu, base_cpu = loaded["cpu"], base["cpu"]
        out.append((f"{users['users']:,} users: machine CPU busy", _fmt(cpu["machine_busy_share"] * 100, " %"),
                    _fmt(base_cpu["machine_busy_share"] * 100, f" % @{base['users']}"),
                    _fmt(ratio(cpu["machine_busy_share"], base_cpu["machine_busy_share"])), ""))  # fmt: skip
        out.append(("  CPU share: app / database / generator / other",
                    " / ".join(f"{cpu['share'][g] * 100:.0f}" for g in GROUPS) + " %",
                    " / ".join(f"{base_cpu['share'][g] * 100:.0f}" for g in GROUPS) + f" % @{base['users']}",
                    "", ""))  # fmt: skip
        out.append((f"{users['users']:,} users: errors", _fmt(loaded["errors"]), _fmt(loaded["requests"]) + " answered",
                    _fmt(r["errors/requests"]), "0"))  # fmt: skip
    if infra := results.get("infra"):
        out.append((f"evaluate {infra['stack']} (mocks)", _fmt(infra["evaluate_s"], " s"),
                    _fmt(infra["calibration_s"], " s unit"), _fmt(infra["ratios"]["evaluate/calibration"]),
                    "< 3 s"))  # fmt: skip
        out.append(("  vs collector on (before)", _fmt(infra["evaluate_s"], " s"),
                    _fmt(infra["collector_on"]["evaluate_s"], " s"), _fmt(infra["ratios"]["evaluate/collector_on"]),
                    "lower"))  # fmt: skip
    return out


def table(results: dict[str, Any], extra: Sequence[tuple[str, str, str, str, str]] = ()) -> str:
    """The headline rows, then `extra` (the plugged-in benchmarks' rows)."""
    header = ("figure", "value", "baseline (same run)", "ratio", "goal")
    body = [*rows(results), *extra]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *body]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
