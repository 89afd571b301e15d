"""The benchmark's uvicorn launcher: with --workers N, accepted connections get TCP_NODELAY and reach every worker."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from uvicorn.config import Config

from bench.servers import REPO, stop_process
from bench.uvicorn_tcp import bind_tcp_socket
from localdev.cluster import free_port


def test_bound_socket_is_marked_tcp_so_accepted_connections_get_nodelay() -> None:
    listener = bind_tcp_socket(Config(app="app.main:app", host="127.0.0.1", port=0))
    listener.listen()  # uvicorn's server does this when it starts serving on the socket
    with listener, socket.create_connection(listener.getsockname()):
        accepted, _ = listener.accept()
        with accepted:
            assert listener.proto == socket.IPPROTO_TCP
            assert accepted.proto == socket.IPPROTO_TCP  # what asyncio checks before setting TCP_NODELAY


@pytest.fixture(scope="module")
def two_workers() -> Iterator[int]:
    """The launcher serving tests/bench/pid_app.py with --workers 2; yields its port once both workers answer."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.uvicorn_tcp", "tests.bench.pid_app:app", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "2", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(_listeners(port)) < 2:
            assert proc.poll() is None, "the launcher exited"
            assert time.monotonic() < deadline, f"two listeners on {port} within 30 s: {_listeners(port)}"
            time.sleep(0.1)
        yield port
    finally:
        stop_process(proc)


def _listeners(port: int) -> set[str]:
    """Inodes of the IPv4 sockets listening on the port (/proc/net/tcp: state 0A is LISTEN); one per socket, however
    many processes hold it."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "0A":
            inodes.add(fields[9])
    return inodes


def _pid_over_new_connection(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    return answer.rsplit(b"\r\n\r\n", 1)[1].decode()


def test_each_worker_listens_on_a_socket_of_its_own(two_workers: int) -> None:
    assert len(_listeners(two_workers)) == 2  # one shared socket would be one listener for both workers


def test_connections_opened_at_once_reach_both_workers(two_workers: int) -> None:
    # 32 connections at once: all on one worker is what the shared socket did; with SO_REUSEPORT the kernel hashes
    # each to a worker, so all 32 on one has a chance of 2 in 2**32.
    with ThreadPoolExecutor(max_workers=32) as pool:
        pids = set(pool.map(_pid_over_new_connection, [two_workers] * 32))
    assert len(pids) == 2, pids
