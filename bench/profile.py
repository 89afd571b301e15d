"""How long and how hard each benchmark runs: `full` for `make bench`, `smoke` for the test suite (seconds)."""

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Profile:
    """Every knob in one place, so the smoke run is the full run made short, not a different code path."""

    name: str
    # uvicorn workers per app variant: 2, one per core, started through bench.uvicorn_tcp (without it, --workers N
    # loses TCP_NODELAY and each keep-alive request waits ~40 ms: measured here 90 vs ~700 reads/s at 4 connections).
    workers: int
    pool_size: int  # DATABASE_POOL_MIN = DATABASE_POOL_MAX per node, so pools start warm
    companies: int  # rows seeded; reads pick ids uniformly from them
    # 1. routing overhead: closed-loop wrk, variants alternated over rounds
    overhead_connections: int  # below workers x pool_size, so no variant waits for a pooled connection
    overhead_warmup_s: int  # wrk takes whole seconds
    overhead_round_s: int  # wrk takes whole seconds
    overhead_rounds: int
    # 2. failover: steady open-loop load from one region, home replica stopped then restarted
    failover_rate: int  # requests/s
    failover_settle_s: float
    failover_down_s: float
    failover_return_bound_s: float
    # 3. many users with think time (uniform 0..2*mean), plus a light-load baseline of the same shape
    users: int
    baseline_users: int
    think_mean_ms: int
    users_duration_s: int  # wrk takes whole seconds
    baseline_duration_s: int  # wrk takes whole seconds
    # 4. infra evaluation: rounds of two fresh interpreters (as shipped, collector-on baseline), after a discarded
    # one that fills the bytecode cache when `infra_warm_up`; the smoke run evaluates the smaller staging stack
    infra_passes: int
    infra_stack: str
    infra_warm_up: bool


FULL: Final = Profile(
    name="full",
    workers=2,
    pool_size=10,
    companies=10_000,
    overhead_connections=8,
    overhead_warmup_s=3,
    # 9 rounds of 4 s rather than 5 of 6: on a shared 2-core machine a round's rate swings +-10 % with the
    # neighbours, so finer alternation and a median of more rounds; routed_home/floor over 10 rounds of 4 s read
    # 0.948 where two 5 x 6 s runs on the same machine read 0.961 and 0.893.
    overhead_round_s=4,
    overhead_rounds=9,
    failover_rate=200,
    failover_settle_s=3,
    failover_down_s=3,
    failover_return_bound_s=20,
    users=10_000,
    baseline_users=500,
    think_mean_ms=5000,
    users_duration_s=40,
    baseline_duration_s=20,
    infra_passes=3,
    infra_stack="production",
    infra_warm_up=True,
)

SMOKE: Final = Profile(
    name="smoke",
    workers=2,
    pool_size=4,
    companies=200,
    overhead_connections=4,
    overhead_warmup_s=1,
    overhead_round_s=1,
    overhead_rounds=1,
    failover_rate=100,
    failover_settle_s=1,
    failover_down_s=1,
    failover_return_bound_s=10,
    users=100,
    baseline_users=10,
    think_mean_ms=1000,
    users_duration_s=2,
    baseline_duration_s=1,
    infra_passes=1,
    infra_stack="staging",
    infra_warm_up=False,
)

PROFILES: Final = {p.name: p for p in (FULL, SMOKE)}
