"""3. Many users with think time: wrk holds one connection per user and waits uniform 0..2x mean between requests.

A user sends its first request within ARRIVAL_MAX_MS of opening its connection, as a browser (or the ALB) does:
the app closes a connection that sends no request headers within app.http_limits.HEADER_TIMEOUT_S (the slow and
silent clients' defence), so a user who opened a connection and then thought for up to 10 s measured reconnects.
Before this, half the users' first requests came after that timeout: at 500 users 14 % of requests were read errors.

The generator is not free: with think time, wrk keeps one timer per waiting user, and its event loop (Redis's old
ae.c) walks the whole unsorted timer list, reading the clock for each, on every wake-up. At 10,000 users wrk used
as much CPU as the app (36 % of the machine each, 2026-12-04 19:01; bench.cpu counts it). More wrk threads split
the list (40 threads: wrk 13 s of CPU instead of 30 s in a 40 s run) but made the app's tail worse (p99 307 and
667 ms with 40 and 8 threads against 49-63 ms with one), so one thread it is, and the CPU profile shows the cost.
A light-load run of the same shape (fewer users) measured just before is the latency baseline.
"""

from typing import Any, Final

from app.http_limits import HEADER_TIMEOUT_S
from bench.cpu import cpu_profile
from bench.profile import Profile
from bench.servers import AppServer
from bench.stats import ratio
from bench.wrk import USER_COUNTRIES, WrkResult, run_wrk

ARRIVAL_MAX_MS: Final = int(HEADER_TIMEOUT_S * 1000 * 0.8)  # the users arrive over the first 4 s


def target_rate(users: int, think_mean_ms: int) -> float:
    """Requests/s the users would send if every response were instant."""
    return users / (think_mean_ms / 1000)


def _users_run(server: AppServer, users: int, seconds: int, profile: Profile) -> WrkResult:
    return run_wrk(
        server.url,
        connections=users,
        duration_s=seconds,
        ids=profile.companies,
        countries=USER_COUNTRIES,
        think_max_ms=2 * profile.think_mean_ms,
        arrival_max_ms=min(ARRIVAL_MAX_MS, 2 * profile.think_mean_ms),
    )


def run_users(server: AppServer, profile: Profile, capacity: float) -> dict[str, Any]:
    """`capacity` is the routed app's closed-loop read rate from the overhead benchmark in this run: when the
    target exceeds it, the app's share of the machine limits this figure."""
    with cpu_profile(server.proc.pid) as baseline_cpu:
        baseline = _users_run(server, profile.baseline_users, profile.baseline_duration_s, profile)
    with cpu_profile(server.proc.pid) as loaded_cpu:  # where the CPU went: the profile behind "what limits it"
        loaded = _users_run(server, profile.users, profile.users_duration_s, profile)
    target = target_rate(profile.users, profile.think_mean_ms)
    return {
        "users": profile.users,
        "think_mean_ms": profile.think_mean_ms,
        "target_rate": target,
        "capacity_rate": capacity,
        "loaded": loaded.as_dict() | {"cpu": loaded_cpu},
        "baseline": baseline.as_dict() | {"users": profile.baseline_users, "cpu": baseline_cpu},
        "ratios": {
            "rate/target": ratio(loaded.rate, target),
            "target/capacity": ratio(target, capacity),
            "errors/requests": ratio(loaded.errors, loaded.requests),
            "p50/baseline_p50": ratio(loaded.p50_ms, baseline.p50_ms),
            "p99/baseline_p99": ratio(loaded.p99_ms, baseline.p99_ms),
        },
    }
