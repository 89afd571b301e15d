"""3. Many users with think time: one keep-alive connection per user, waiting uniform 0..2x mean between requests.

A user connects and sends its first request at a moment drawn uniformly within ARRIVAL_MAX_MS, as a browser (or
the ALB) does: the app closes a connection that sends no request headers within app.http_limits.HEADER_TIMEOUT_S
(the slow and silent clients' defence), so a user who opened a connection and then thought for up to 10 s measured
reconnects. Before the ramp, half the users' first requests came after that timeout: at 500 users 14 % of
requests were read errors.

The generator is bench.think_users, not wrk: with think time wrk keeps one timer per waiting user in an unsorted
list (Redis's old ae.c) that its event loop walks, reading the clock for each, on every wake-up. At 10,000 users
wrk took as much CPU as the app (28-31 s against the app's 28-32 s in 40 s; 2026-12-04 20:58, same app, rounds
alternated) and the p99 it measured swung 33-882 ms; think_users took 6.9-7.0 s and measured 17.7-24.4 ms, with the
machine 53-55 % busy instead of 83-86 %. More wrk threads split its list but made the app's tail worse (p99 307 and
667 ms with 40 and 8 threads). wrk remains the closed-loop generator (bench.overhead), where it has no timers.
A light-load run of the same shape (fewer users) measured just before is the latency baseline.
"""

from typing import Any, Final

from app.http_limits import HEADER_TIMEOUT_S
from bench.cpu import cpu_profile
from bench.profile import Profile
from bench.servers import AppServer
from bench.stats import ratio
from bench.think_users import run_think_users
from bench.wrk import USER_COUNTRIES, WrkResult

GENERATOR: Final = run_think_users.__module__
ARRIVAL_MAX_MS: Final = int(HEADER_TIMEOUT_S * 1000 * 0.8)  # the users arrive over the first 4 s


def target_rate(users: int, think_mean_ms: int) -> float:
    """Requests/s the users would send if every response were instant."""
    return users / (think_mean_ms / 1000)


def _users_run(server: AppServer, users: int, seconds: int, profile: Profile) -> WrkResult:
    return run_think_users(
        server.url,
        users=users,
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
        "generator": GENERATOR,
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
