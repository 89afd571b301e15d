"""1. Routing overhead: routed app vs the floor (one fixed replica) vs the same app behind pgpool-II, and the server
stack: the routed app vs itself on the previous stack (h11 + asyncio, `legacy`).

Closed-loop wrk against each running variant, variants alternated (rotated start) over rounds, medians reported,
because single runs on a shared 2-core machine vary by 2x.
"""

import urllib.request
from collections.abc import Mapping
from typing import Any, Final

from bench.profile import Profile
from bench.servers import AppServer, loaded_stack
from bench.stats import median, ratio
from bench.wrk import OVERHEAD_COUNTRIES, WrkResult, run_wrk

ROUTED: Final = "routed"
FLOOR: Final = "floor"
PGPOOL: Final = "pgpool"
LEGACY: Final = "legacy"
VARIANTS: Final = (ROUTED, FLOOR, PGPOOL, LEGACY)


def served_by(server: AppServer, company_id: int = 1) -> dict[str, str]:
    """X-DB-Node per viewer country: shows each variant really routes the way it claims."""
    nodes = {}
    for country in OVERHEAD_COUNTRIES:
        url = f"{server.url}/api/companies/{company_id}"
        request = urllib.request.Request(url, headers={"CloudFront-Viewer-Country": country})  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL
            nodes[country] = response.headers.get("X-DB-Node", "")
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


def compare(value: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, float | None]:
    """Throughput ratio (higher is better) and latency ratios (lower is better) of two variant summaries."""
    return {key: ratio(value[key], baseline[key]) for key in ("rate", "p50_ms", "p99_ms")}


def run_overhead(servers: Mapping[str, AppServer], profile: Profile) -> dict[str, Any]:
    """Warm every variant, then alternate timed rounds; medians and routed/floor, routed/pgpool ratios."""
    names = tuple(name for name in VARIANTS if name in servers)

    def one(name: str, seconds: int) -> WrkResult:
        return run_wrk(
            servers[name].url, connections=profile.overhead_connections, duration_s=seconds, ids=profile.companies
        )

    for name in names:
        one(name, profile.overhead_warmup_s)
    runs: dict[str, list[WrkResult]] = {name: [] for name in names}
    for order in rotations(names, profile.overhead_rounds):
        for name in order:
            runs[name].append(one(name, profile.overhead_round_s))
    variants = {
        name: summarize(runs[name]) | {"served_by": served_by(servers[name]), "stack": loaded_stack(servers[name])}
        for name in names
    }
    return {
        "connections": profile.overhead_connections,
        "round_s": profile.overhead_round_s,
        "rounds": profile.overhead_rounds,
        "variants": variants,
        "ratios": {
            f"{ROUTED}/{other}": compare(variants[ROUTED], variants[other]) for other in names if other != ROUTED
        },
    }
