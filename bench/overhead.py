"""1. Routing overhead: routed app vs the floor (one fixed replica) vs the same app behind pgpool-II, and the server
stack: the routed app vs itself on the previous stack (h11 + asyncio, `legacy`).

Closed-loop wrk against each running variant, variants alternated (rotated start) over rounds, medians reported,
because single runs on a shared 2-core machine vary by 2x. Each round also records CPU microseconds per read of
the app's processes and of PostgreSQL (bench.cpu), which shows where a ratio comes from.

Two routed loads: `routed` sends viewers from every region (reads spread over three replicas, as in production), and
`routed_home` sends only viewers whose home replica is the floor's one. routed_home/floor is what routing itself
costs (the same pool on the same server, only the routing decision differs); routed/floor adds what three local
PostgreSQL servers sharing this machine's two cores cost, which in production sit on machines of their own.
"""

import urllib.request
from collections.abc import Mapping
from typing import Any, Final

from bench.cpu import cpu_profile
from bench.profile import Profile
from bench.servers import AppServer, loaded_stack
from bench.stats import median, ratio
from bench.wrk import OVERHEAD_COUNTRIES, WrkResult, run_wrk
from contracts import headers

ROUTED: Final = "routed"
ROUTED_HOME: Final = "routed_home"
FLOOR: Final = "floor"
PGPOOL: Final = "pgpool"
LEGACY: Final = "legacy"
VARIANTS: Final = (ROUTED, ROUTED_HOME, FLOOR, PGPOOL, LEGACY)
# routed_home is the routed server under another load: viewers of the floor's replica (bench.floor) only.
HOME_COUNTRIES: Final = ("DE",)
LOADS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {ROUTED_HOME: (ROUTED, HOME_COUNTRIES)}


def served_by(server: AppServer, countries: tuple[str, ...], company_id: int = 1) -> dict[str, str]:
    """X-DB-Node per viewer country: shows each variant really routes the way it claims."""
    nodes = {}
    for country in countries:
        url = f"{server.url}/api/companies/{company_id}"
        request = urllib.request.Request(url, headers={headers.CLOUDFRONT_VIEWER_COUNTRY: country})  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL
            nodes[country] = response.headers.get(headers.DB_NODE, "")
    return nodes


def rotations(names: tuple[str, ...], rounds: int) -> list[list[str]]:
    """Round i starts with variant i mod n, so no variant always runs first (warm caches) or last."""
    return [[*names[i % len(names) :], *names[: i % len(names)]] for i in range(rounds)]


def summarize(runs: list[WrkResult]) -> dict[str, Any]:
    return {
        "rate": round(median([r.rate for r in runs]), 1),
        "p50_ms": round(median([r.p50_ms for r in runs]), 3),
        "p99_ms": round(median([r.p99_ms for r in runs]), 3),
        "errors": sum(r.errors for r in runs),
        "rounds": [r.as_dict() for r in runs],
    }


def cpu_per_read(profiles: list[dict[str, Any]], runs: list[WrkResult]) -> dict[str, float]:
    """Median CPU microseconds per answered read of the app's processes and of PostgreSQL, over the rounds."""
    return {
        group: round(median([p["cpu_s"][group] / r.requests * 1e6 for p, r in zip(profiles, runs, strict=True)]), 1)
        for group in ("app", "database")
    }


def compare(value: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, float | None]:
    """Throughput ratio (higher is better) and latency ratios (lower is better) of two variant summaries."""
    return {key: ratio(value[key], baseline[key]) for key in ("rate", "p50_ms", "p99_ms")}


def run_overhead(servers: Mapping[str, AppServer], profile: Profile) -> dict[str, Any]:
    """Warm every variant, then alternate timed rounds; medians, CPU per read, and the routed ratios."""
    loads = {name: (name, OVERHEAD_COUNTRIES) for name in servers} | {
        name: load for name, load in LOADS.items() if load[0] in servers
    }
    names: tuple[str, ...] = tuple(name for name in VARIANTS if name in loads)

    def one(name: str, seconds: int) -> WrkResult:
        server, countries = loads[name]
        return run_wrk(
            servers[server].url,
            connections=profile.overhead_connections,
            duration_s=seconds,
            ids=profile.companies,
            countries=countries,
        )

    for name in names:
        one(name, profile.overhead_warmup_s)
    runs: dict[str, list[WrkResult]] = {name: [] for name in names}
    cpu: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for order in rotations(names, profile.overhead_rounds):
        for name in order:
            with cpu_profile(servers[loads[name][0]].proc.pid) as used:
                runs[name].append(one(name, profile.overhead_round_s))
            cpu[name].append(used)
    variants = {
        name: summarize(runs[name])
        | {
            "countries": list(loads[name][1]),
            "served_by": served_by(servers[loads[name][0]], countries=loads[name][1]),
            "stack": loaded_stack(servers[loads[name][0]]),
            "cpu_us_per_read": cpu_per_read(cpu[name], runs[name]),
        }
        for name in names
    }
    ratios = {f"{ROUTED}/{other}": compare(variants[ROUTED], variants[other]) for other in names if other != ROUTED}
    if ROUTED_HOME in variants and FLOOR in variants:
        ratios[f"{ROUTED_HOME}/{FLOOR}"] = compare(variants[ROUTED_HOME], variants[FLOOR])
    return {
        "connections": profile.overhead_connections,
        "round_s": profile.overhead_round_s,
        "rounds": profile.overhead_rounds,
        "variants": variants,
        "ratios": ratios,
    }
