"""`python -m bench --smoke` end to end: real cluster, pgpool-II, three app variants, wrk. Asserts every figure is
present and sane (no timing thresholds: the machine is shared, the full run reports the numbers)."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import pgpool_sizes
from bench.cluster import CONNECTION_MARGIN, max_connections
from bench.profile import FULL, SMOKE
from localdev.cluster import NODES

pytestmark = pytest.mark.slow  # the whole `python -m bench --smoke` (about a minute): started first in parallel runs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (path,) = out.glob("*-smoke.json")
    return json.loads(path.read_text()), result.stdout


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and value > 0


def test_variants_route_as_they_claim(smoke: tuple[dict[str, Any], str]) -> None:
    variants = smoke[0]["overhead"]["variants"]
    assert variants["routed"]["served_by"] == {"DE": "eu", "US": "us", "JP": "asia"}
    # the routing-cost load: the routed server, only viewers whose home replica is the floor's
    assert variants["routed_home"]["countries"] == ["DE"]
    assert variants["routed_home"]["served_by"] == {"DE": "eu"}
    assert variants["routed_home"]["stack"] == variants["routed"]["stack"]
    assert variants["floor"]["served_by"] == {"DE": "eu", "US": "eu", "JP": "eu"}
    assert variants["pgpool"]["served_by"] == {"DE": "primary", "US": "primary", "JP": "primary"}
    assert variants["legacy"]["served_by"] == variants["routed"]["served_by"]  # same app, previous server stack
    workers = smoke[0]["workers"]
    for name in ("routed", "floor", "pgpool"):
        assert variants[name]["stack"] == {"processes": workers, "uvloop": True, "httptools": True}, name
    assert variants["legacy"]["stack"] == {"processes": workers, "uvloop": False, "httptools": False}
    # ...and behind the app's "primary", pgpool sent the reads to replicas (each session sticks to one, chosen
    # at random by weight, so with a few sessions one replica may get none).
    selects = smoke[0]["overhead"]["pgpool_selects"]
    assert set(selects) == {"primary", "eu", "us", "asia"}
    assert sum(selects[replica] for replica in ("eu", "us", "asia")) > 0, selects


def test_overhead_figures(smoke: tuple[dict[str, Any], str]) -> None:
    overhead = smoke[0]["overhead"]
    for name, variant in overhead["variants"].items():
        assert positive(variant["rate"]), name
        assert 0 < variant["p50_ms"] <= variant["p99_ms"], name
        assert variant["errors"] == 0, name
    assert set(overhead["ratios"]) == {
        "routed/floor", "routed/pgpool", "routed/legacy", "routed/routed_home", "routed_home/floor",
    }  # fmt: skip
    for ratios in overhead["ratios"].values():
        assert all(positive(value) for value in ratios.values()), ratios
    for name in ("routed", "routed_home", "floor"):  # every app variant used CPU for its reads
        assert positive(overhead["variants"][name]["cpu_us_per_read"]["app"]), name
    assert "reads/s routed_home vs floor" in smoke[1]
    assert "CPU us/read app / PostgreSQL, routed_home vs floor" in smoke[1]


def test_failover_figures(smoke: tuple[dict[str, Any], str]) -> None:
    failover = smoke[0]["failover"]
    assert failover["requests"] > 0
    assert 0 <= failover["failed"] <= failover["requests"]
    assert failover["served_while_down"].get("us", 0) > 0
    assert failover["served_after_restart"].get("eu", 0) > 0
    assert positive(failover["switch_s"])
    assert positive(failover["return_s"])
    assert positive(failover["ratios"]["return/node_start"])


def test_every_node_has_the_connection_slots_all_variants_need(smoke: tuple[dict[str, Any], str]) -> None:
    _, children = pgpool_sizes(SMOKE)
    planned = max_connections(SMOKE.workers, SMOKE.pool_size, children)
    assert planned != 100  # not PostgreSQL's default, so this shows the setting reached the servers
    assert smoke[0]["cluster"] == {node: {"max_connections": planned} for node in NODES}
    # The full profile's variants need more than the default 100 (a full run failed on it).
    _, full_children = pgpool_sizes(FULL)
    assert max_connections(FULL.workers, FULL.pool_size, full_children) == 3 * 2 * 11 + 46 + CONNECTION_MARGIN


def test_users_figures(smoke: tuple[dict[str, Any], str]) -> None:
    users = smoke[0]["users"]
    for run in (users["loaded"], users["baseline"]):
        assert positive(run["rate"])
        assert 0 < run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"]
    assert users["baseline"]["users"] < users["users"]
    ratios = users["ratios"]
    for key in ("rate/target", "target/capacity", "p50/baseline_p50", "p99/baseline_p99"):
        assert positive(ratios[key]), ratios
    assert ratios["errors/requests"] >= 0
    assert users["capacity_rate"] == smoke[0]["overhead"]["variants"]["routed"]["rate"]


def test_users_run_has_its_cpu_profile(smoke: tuple[dict[str, Any], str]) -> None:
    results, stdout = smoke
    for run in ("loaded", "baseline"):
        cpu = results["users"][run]["cpu"]
        assert 0 < cpu["machine_busy_share"] <= 1, cpu
        assert all(seconds >= 0 for seconds in cpu["cpu_s"].values()), cpu
        assert sum(cpu["share"].values()) <= cpu["machine_busy_share"] + 0.05, cpu
    # /proc counts CPU in 10 ms ticks per process: the smoke baseline's ~10 reads can round to zero, so only the
    # loaded run (~200 reads, one app process) must show the app at work.
    loaded = results["users"]["loaded"]["cpu"]
    assert positive(loaded["cpu_s"]["app"]), loaded
    assert "CPU share: app / database / generator / other" in stdout


def test_infra_figures_and_table(smoke: tuple[dict[str, Any], str]) -> None:
    results, stdout = smoke
    infra = results["infra"]
    assert infra["stack"] == SMOKE.infra_stack
    assert infra["resources"] > 0
    assert positive(infra["evaluate_s"])
    assert positive(infra["calibration_s"])
    assert positive(infra["ratios"]["evaluate/calibration"])
    assert positive(infra["collector_on"]["evaluate_s"])  # the same-run baseline (collector not paused)
    assert positive(infra["ratios"]["evaluate/collector_on"])
    assert sorted(run["collector_on"] for run in infra["passes"]) == [False, True]
    assert results["workers"] == results["profile"]["workers"] > 0
    assert "baseline (same run)" in stdout
    assert "routed vs pgpool" in stdout
    assert "routed vs legacy (h11 + asyncio)" in stdout


def test_revenue_figures(smoke: tuple[dict[str, Any], str]) -> None:
    results, stdout = smoke
    revenue = results["revenue"]
    counts = revenue["source_rows"]
    assert counts["invoice_lines"] == counts["invoices"] > 0
    assert revenue["initial"]["rows"] >= sum(counts.values())  # every source row reached the analytics database
    assert revenue["initial_floor"]["rows"] == sum(counts.values())
    assert revenue["incremental"]["changed_invoices"] == revenue["incremental_floor"]["rows"] > 0
    for key in ("initial", "initial_floor", "incremental", "incremental_floor"):
        assert positive(revenue[key]["rows_per_s"]), revenue[key]
    mrr = revenue["mrr"]
    assert mrr["months"] == 36
    assert mrr["mrr"]["errors"] == mrr["reads"]["errors"] == 0
    for figure in ("rate", "p99_ms"):
        assert positive(mrr["mrr"][figure])
        assert positive(mrr["reads"][figure])
    assert all(positive(value) for value in (*revenue["ratios"].values(), *mrr["ratios"].values()))
    assert "analytics mrr 36 months" in stdout
    assert "pipeline 1% change" in stdout
