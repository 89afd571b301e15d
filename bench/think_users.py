"""The think-time load generator: many users, one keep-alive connection each, a random think time between
requests; run as `python -m bench.think_users` with its settings as JSON on stdin (the open-files limit is inherited
from `python -m bench`, which raises it for the users), it prints the same BENCH_JSON
summary line as the wrk scripts (bench.wrk.parse_output reads both).

Why not wrk for this one: wrk keeps each waiting user's timer in an unsorted list (Redis's old ae.c) and walks it,
with a clock read per timer, on every wake-up, so at 10,000 users it took as much CPU as the app it measured (36 %
of this 2-core machine each). Here every user is plain callbacks on uvloop (libuv keeps timers in a heap), with no
coroutine, task or HTTP library per request: at 10,000 users it costs a fraction of that (README, Performance).
wrk stays the closed-loop generator, where it has no timers to walk.

Semantics follow wrk's: latency is from writing a request to parsing its whole response; a response that is not
2xx/3xx counts as a "status" error, a connection that fails or closes as "connect" or "read" (and the user
reconnects), one slower than the timeout as "timeout"; requests still in flight at the end are not counted.
"write" stays in the summary for wrk's shape but is always 0: a failed write shows up as the connection lost.
"""

import asyncio
import gc
import json
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import urlsplit

import uvloop

from bench.stats import percentile
from bench.wrk import MARKER, WrkError, WrkResult, parse_output

HEADER_END: Final = b"\r\n\r\n"
ERROR_KINDS: Final = ("connect", "read", "write", "status", "timeout")


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    users: int
    duration_s: float
    ids: int
    countries: tuple[str, ...]
    think_max_ms: int
    arrival_max_ms: int
    timeout_s: float = 10.0
    path_prefix: str = "/api/companies/"


@dataclass
class Tally:
    latencies_us: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_KINDS, 0))
    measuring: bool = True
    crashes: list[str] = field(default_factory=list)  # errors in the generator itself: the run is then void


class User(asyncio.Protocol):
    """One user: connect, wait its arrival, then request - read the response - think, until the run ends."""

    def __init__(self, settings: Settings, tally: Tally, rng: random.Random, country: str) -> None:
        self.settings = settings
        self.tally = tally
        self.rng = rng
        self.country = country
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.waiting = False
        self.timer: asyncio.TimerHandle | None = None
        self.connecting: asyncio.Task[None] | None = None
        self.connected_before = False

    # connection lifecycle
    def start(self, first_delay_s: float) -> None:
        self.loop.call_later(first_delay_s, self._open_connection)

    def _open_connection(self) -> None:
        if self.tally.measuring:
            self.connecting = self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        try:
            await self.loop.create_connection(lambda: self, self.settings.host, self.settings.port)
        except OSError:
            self._error("connect")
            self.loop.call_later(0.1, self._open_connection)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        if self.connected_before:  # a user whose connection broke thinks again before the next request
            self._think()
        else:
            self.connected_before = True
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.timer is not None:
            self.timer.cancel()
        if self.waiting:
            self.waiting = False
            self._error("read")
        if self.tally.measuring:
            self.loop.call_soon(self._open_connection)

    # one request
    def _send(self) -> None:
        if self.transport is None or not self.tally.measuring:
            return
        company = self.rng.randint(1, self.settings.ids)
        request = (
            f"GET {self.settings.path_prefix}{company} HTTP/1.1\r\nHost: bench\r\n"
            f"CloudFront-Viewer-Country: {self.country}\r\n\r\n"
        ).encode()
        self.buffer.clear()
        self.waiting = True
        self.sent_at = time.perf_counter()
        self.timer = self.loop.call_later(self.settings.timeout_s, self._timed_out)
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(HEADER_END)
        if end < 0 or not self.waiting:
            return
        head = bytes(self.buffer[:end]).lower()
        if len(self.buffer) < end + len(HEADER_END) + _content_length(head):
            return
        elapsed_us = (time.perf_counter() - self.sent_at) * 1e6
        self.waiting = False
        if self.timer is not None:
            self.timer.cancel()
        status = int(self.buffer[9:12])
        if self.tally.measuring:
            self.tally.latencies_us.append(elapsed_us)
            if not 200 <= status < 400:
                self._error("status")
        if b"connection: close" in head and self.transport is not None:
            self.transport.close()  # connection_lost reconnects
            return
        self._think()

    def _think(self) -> None:
        self.timer = self.loop.call_later(self.rng.uniform(0, self.settings.think_max_ms) / 1000, self._send)

    def _timed_out(self) -> None:
        if self.waiting and self.transport is not None:
            self.waiting = False
            self._error("timeout")
            self.transport.abort()

    def _error(self, kind: str) -> None:
        if self.tally.measuring:
            self.tally.errors[kind] += 1


def _content_length(head: bytes) -> int:
    """The body length the (lower-cased) response head announces; the app always sends Content-Length."""
    start = head.find(b"content-length:")
    if start < 0:
        return 0
    end = head.find(b"\r\n", start)
    return int(head[start + len(b"content-length:") : end if end >= 0 else None])


async def run(settings: Settings) -> dict[str, Any]:
    """Run the users for duration_s and return the wrk-shaped summary."""
    tally = Tally()
    rng = random.Random()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: tally.crashes.append(str(context.get("exception", context))))
    users = [User(settings, tally, rng, settings.countries[i % len(settings.countries)]) for i in range(settings.users)]
    gc.freeze()  # the users live for the whole run: keep the collector from walking them
    started = time.perf_counter()
    for user in users:
        user.start(rng.uniform(0, settings.arrival_max_ms) / 1000)
    await asyncio.sleep(settings.duration_s)
    tally.measuring = False
    duration_us = (time.perf_counter() - started) * 1e6
    for user in users:
        if user.transport is not None:
            user.transport.abort()
    if tally.crashes:
        raise RuntimeError(f"the generator failed {len(tally.crashes)} time(s); first: {tally.crashes[0]}")
    latencies = tally.latencies_us or [0.0]
    return {
        "requests": len(tally.latencies_us),
        "duration_us": round(duration_us),
        "errors": tally.errors,
        "latency_us": {  # whole microseconds, as wrk prints them
            "p50": round(percentile(latencies, 50)),
            "p95": round(percentile(latencies, 95)),
            "p99": round(percentile(latencies, 99)),
            "max": round(max(latencies)),
            "mean": round(sum(latencies) / len(latencies), 1),
        },
    }


def run_think_users(
    url: str,
    *,
    users: int,
    duration_s: float,
    ids: int,
    countries: tuple[str, ...],
    think_max_ms: int,
    arrival_max_ms: int,
    timeout_s: float = 10.0,
) -> WrkResult:
    """Run the generator against url in its own process, so its CPU is its own (bench.cpu counts it as the
    generator's once it has been waited for)."""
    parsed = urlsplit(url)
    if parsed.hostname is None or parsed.port is None:
        raise WrkError(f"the generator needs a URL with host and port, not {url!r}")
    settings = Settings(
        host=parsed.hostname, port=parsed.port, users=users, duration_s=duration_s, ids=ids, countries=countries,
        think_max_ms=think_max_ms, arrival_max_ms=arrival_max_ms, timeout_s=timeout_s,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bench.think_users"], cwd=Path(__file__).resolve().parents[1],
        input=json.dumps(asdict(settings)), capture_output=True, text=True, check=False, timeout=duration_s + 120,
    )  # fmt: skip
    if result.returncode != 0:
        raise WrkError(f"the think-time generator exited with {result.returncode}: {result.stderr.strip()[-2000:]}")
    return parse_output(result.stdout)


def main() -> None:
    raw = json.load(sys.stdin)
    settings = Settings(**{**raw, "countries": tuple(raw["countries"])})
    summary = uvloop.run(run(settings))
    print(MARKER + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
