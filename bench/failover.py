"""2. Failover under steady load: stop the home replica (pg_ctl -m immediate), then restart it.

An open-loop client (fixed request rate, one region's header) records when each read was sent and answered and
which node served it; the figures are read off that record, so they include every in-flight request.
"""

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from app.countries import Region
from app.routing import replica_order
from bench.profile import Profile
from bench.servers import AppServer
from bench.stats import percentile, ratio
from contracts import headers
from localdev.cluster import Cluster

HOME: Final[Region] = "eu"
HOME_HEADERS: Final = {headers.CLOUDFRONT_VIEWER_COUNTRY: "DE"}
REQUEST_TIMEOUT_S: Final = 10.0
POLL_S: Final = 0.05


@dataclass(frozen=True)
class Sample:
    """One read: monotonic send/answer times, HTTP status (0 = no answer) and the X-DB-Node that served it."""

    sent: float
    done: float
    status: int
    node: str

    @property
    def ok(self) -> bool:
        return self.status == 200


def settle_time(samples: Sequence[Sample], since: float, until: float, node: str) -> float | None:
    """Seconds from `since` until reads settle on `node`: the answer time of the first request of the unbroken
    run of successful reads served by `node` that ends the window (sent at or after `since`, answered before
    `until`, ordered by send time); None if the window does not end on such a run. Answered-before, not
    sent-before: on a busy machine a read sent just before a restart can be served after it."""
    window = sorted((s for s in samples if since <= s.sent and s.done < until), key=lambda s: s.sent)
    last_other = max((i for i, s in enumerate(window) if not (s.ok and s.node == node)), default=-1)
    tail = window[last_other + 1 :]
    return tail[0].done - since if tail else None


def nodes_between(samples: Sequence[Sample], since: float, until: float) -> dict[str, int]:
    """Which nodes served the reads sent in [since, until) ("failed" for errors): the outage at a glance."""
    counts = Counter(s.node if s.ok else "failed" for s in samples if since <= s.sent < until)
    return dict(sorted(counts.items()))


def tail_length(samples: Sequence[Sample], since: float, node: str) -> int:
    """How many of the latest reads sent after `since` were served by `node` without a break."""
    count = 0
    for sample in sorted((s for s in samples if s.sent >= since), key=lambda s: s.sent, reverse=True):
        if not (sample.ok and sample.node == node):
            break
        count += 1
    return count


async def _read(client: httpx.AsyncClient, path: str, samples: list[Sample]) -> None:
    sent = time.monotonic()
    try:
        response = await client.get(path, headers=HOME_HEADERS)
        samples.append(Sample(sent, time.monotonic(), response.status_code, response.headers.get(headers.DB_NODE, "")))
    except httpx.HTTPError:
        samples.append(Sample(sent, time.monotonic(), 0, ""))


async def steady_load(url: str, rate: int, ids: int, samples: list[Sample], stop: asyncio.Event) -> None:
    """Send `rate` reads/s on a fixed schedule (open loop: a slow answer never delays the next request)."""
    interval = 1 / rate
    pending: set[asyncio.Task[None]] = set()
    limits = httpx.Limits(max_connections=rate, max_keepalive_connections=rate)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        next_at = time.monotonic()
        while not stop.is_set():
            task = asyncio.create_task(_read(client, f"/api/companies/{random.randint(1, ids)}", samples))
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*pending)


async def _wait_for(predicate: Any, bound_s: float) -> bool:
    deadline = time.monotonic() + bound_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL_S)
    return True


async def run_failover(server: AppServer, cluster: Cluster, profile: Profile) -> dict[str, Any]:
    """Stop the home replica under load, wait, restart it; failures and settle times from the record."""
    next_replica = replica_order(HOME)[1]
    samples: list[Sample] = []
    stop = asyncio.Event()
    load = asyncio.create_task(steady_load(server.url, profile.failover_rate, profile.companies, samples, stop))
    confirm = max(5, profile.failover_rate // 4)  # a quarter second of reads, all on the expected node
    try:
        await asyncio.sleep(profile.failover_settle_s)
        await _wait_for(lambda: len(samples) >= confirm, profile.failover_return_bound_s)  # load is flowing
        stopped_at = time.monotonic()
        await asyncio.to_thread(cluster.stop_node, HOME, "immediate")
        stop_cmd_s = time.monotonic() - stopped_at
        await asyncio.sleep(profile.failover_down_s)
        restart_at = time.monotonic()
        await asyncio.to_thread(cluster.start_node, HOME)
        ready_at = time.monotonic()
        await _wait_for(lambda: tail_length(samples, ready_at, HOME) >= confirm, profile.failover_return_bound_s)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await load
        if not cluster.is_running(HOME):
            await asyncio.to_thread(cluster.start_node, HOME)
    before = [s for s in samples if s.sent < stopped_at]
    pre_p99_s = percentile([s.done - s.sent for s in before], 99) if before else 0.0
    switch_s = settle_time(samples, stopped_at, restart_at, next_replica)
    return_s = settle_time(samples, restart_at, float("inf"), HOME)
    node_start_s = ready_at - restart_at
    failed = [s for s in samples if not s.ok]
    while_down = [s.done - s.sent for s in samples if stopped_at <= s.sent < restart_at]
    return {
        "home": HOME,
        "next": next_replica,
        "rate": profile.failover_rate,
        "requests": len(samples),
        "failed": len(failed),
        "failed_statuses": sorted({s.status for s in failed}),
        "served_before": nodes_between(samples, float("-inf"), stopped_at),
        "served_while_down": nodes_between(samples, stopped_at, restart_at),
        "served_after_restart": nodes_between(samples, restart_at, float("inf")),
        "pre_stop_p99_ms": round(pre_p99_s * 1000, 3),
        "max_latency_while_down_ms": round(max(while_down, default=0.0) * 1000, 3),
        "stop_command_s": round(stop_cmd_s, 4),
        "switch_s": None if switch_s is None else round(switch_s, 4),
        "return_s": None if return_s is None else round(return_s, 4),
        "node_start_s": round(node_start_s, 4),
        "ratios": {
            "failed/requests": ratio(len(failed), len(samples)),
            "switch/pre_stop_p99": None if switch_s is None else ratio(switch_s, pre_p99_s),
            "return/node_start": None if return_s is None else ratio(return_s, node_start_s),
        },
    }
