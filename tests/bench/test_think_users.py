"""bench.think_users, the think-time generator of the users benchmark, against a recording HTTP server: the load
shape it promises (think time, arrivals, ids, one country per user), wrk's error kinds, and a loud failure when
the generator itself breaks."""

import asyncio
import contextlib
import itertools
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from bench.think_users import run_think_users
from bench.wrk import WrkError, WrkResult

COUNTRIES = ("DE", "US", "JP")
BODY = b'{"id": 1, "name": "bench"}'


@dataclass
class Seen:
    """One request as the server saw it."""

    connection: int
    at: float
    path: str
    country: str


@dataclass
class RecordingServer:
    """HTTP/1.1 keep-alive server on a thread; `mode` picks the answer: ok, 503, silent, close or garbage."""

    mode: str = "ok"
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                lines = head.split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                self.seen.append(
                    Seen(
                        connection, time.monotonic(), lines[0].split()[1], headers.get("CloudFront-Viewer-Country", "")
                    )
                )
                if self.mode == "silent":
                    await asyncio.sleep(3600)
                if self.mode == "close":
                    break
                if self.mode == "garbage":
                    writer.write(b"HTTP/1.1 abc\r\nContent-Length: 0\r\n\r\n")
                else:
                    status = b"200 OK" if self.mode == "ok" else b"503 Service Unavailable"
                    writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
                await writer.drain()
        writer.close()

    @contextlib.contextmanager
    def running(self) -> Iterator["RecordingServer"]:
        loop = asyncio.new_event_loop()
        started = threading.Event()
        stop = asyncio.Event()

        async def serve() -> None:
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            await stop.wait()
            server.close()
            handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)

        thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
        thread.start()
        assert started.wait(10)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[RecordingServer]:
    with RecordingServer(mode=getattr(request, "param", "ok")).running() as running:
        yield running


def _run(
    server: RecordingServer, *, users: int = 20, seconds: float = 2, think_max_ms: int = 200, **kw: int
) -> WrkResult:
    return run_think_users(
        f"http://127.0.0.1:{server.port}", users=users, duration_s=seconds, ids=kw.get("ids", 50),
        countries=COUNTRIES, think_max_ms=think_max_ms, arrival_max_ms=kw.get("arrival_max_ms", 100),
        timeout_s=kw.get("timeout_ms", 10_000) / 1000,
    )  # fmt: skip


def test_users_think_between_requests_and_keep_their_connection_and_country(server: RecordingServer) -> None:
    result = _run(server, users=20, seconds=2, think_max_ms=400)
    assert result.errors == 0
    by_connection: dict[int, list[Seen]] = defaultdict(list)
    for seen in server.seen:
        by_connection[seen.connection].append(seen)
    assert len(by_connection) == 20  # one keep-alive connection per user, never reconnected
    gaps = [b.at - a.at for requests in by_connection.values() for a, b in itertools.pairwise(requests)]
    # Think time is uniform 0..400 ms, so gaps average 200 ms plus a round trip (a starved machine only adds to it;
    # a generator that thought half or twice as long, or not at all, falls outside).
    assert 0.15 < statistics.mean(gaps) < 0.3, statistics.mean(gaps)
    # 20 users thinking 200 ms on average send about 100/s (107 with their first requests); never much more.
    assert 50 <= result.rate <= 130, result.rate
    assert result.requests <= len(server.seen) <= result.requests + 20  # those in flight at the end are not counted
    assert all({s.country for s in requests} <= set(COUNTRIES) for requests in by_connection.values())
    assert all(len({s.country for s in requests}) == 1 for requests in by_connection.values())
    assert {s.country for s in server.seen} == set(COUNTRIES)
    ids = [int(s.path.rsplit("/", 1)[1]) for s in server.seen]
    assert all(s.path.startswith("/api/companies/") for s in server.seen)
    assert min(ids) >= 1
    assert max(ids) <= 50
    assert len(set(ids)) > 30


def test_first_requests_arrive_within_the_ramp(server: RecordingServer) -> None:
    started = time.monotonic()
    _run(server, users=30, seconds=1.5, think_max_ms=5_000, arrival_max_ms=300)
    firsts: dict[int, float] = {}
    for seen in server.seen:
        firsts.setdefault(seen.connection, seen.at)
    assert len(firsts) == 30
    assert max(firsts.values()) - started < 0.3 + 1.0  # the ramp, plus the generator's own start-up


@pytest.mark.parametrize("server", ["503"], indirect=True)
def test_answers_that_are_not_2xx_count_as_status_errors(server: RecordingServer) -> None:
    result = _run(server, seconds=1)
    assert result.requests > 0
    assert result.error_kinds["status"] == result.requests == result.errors


@pytest.mark.parametrize("server", ["silent"], indirect=True)
def test_a_server_that_never_answers_gives_timeouts(server: RecordingServer) -> None:
    result = _run(server, users=5, seconds=1.5, timeout_ms=300)
    assert result.requests == 0
    assert result.error_kinds["timeout"] >= 5


@pytest.mark.parametrize("server", ["close"], indirect=True)
def test_a_connection_closed_before_the_answer_is_a_read_error_and_the_user_reconnects(server: RecordingServer) -> None:
    result = _run(server, users=5, seconds=1.5, think_max_ms=100)
    assert result.requests == 0
    assert result.error_kinds["read"] >= 5
    assert server.connections > 5  # each user came back on a new connection


@pytest.mark.parametrize("server", ["garbage"], indirect=True)
def test_a_generator_that_breaks_fails_the_run_instead_of_reporting_figures(server: RecordingServer) -> None:
    with pytest.raises(WrkError, match="the generator failed"):
        _run(server, users=3, seconds=1)
