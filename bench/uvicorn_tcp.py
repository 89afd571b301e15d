"""`python -m bench.uvicorn_tcp <uvicorn arguments>`: uvicorn whose --workers N share connections evenly, with
TCP_NODELAY.

TCP_NODELAY: with --workers N, uvicorn binds the listening socket itself with proto 0; accepted sockets inherit it
and asyncio sets TCP_NODELAY only when proto is IPPROTO_TCP, so every keep-alive request after the first waits
~40 ms for the client's delayed ACK (Kludex/uvicorn#3149, open). The bound socket is marked as TCP here.

Even shares: the workers of uvicorn --workers N all listen on one inherited socket, and when wrk opens its 8
connections at once, the worker that wakes first accepts them all: in a measured run 5 of 16 rounds of the floor
had all 8 on one worker, which then answered 8,000 reads/s where a split answered 11,000 (bench/RESULTS.md). Here
each worker listens on a socket of its own, bound to the same address with SO_REUSEPORT, and the kernel hashes each
new connection to one of them; the parent's socket only holds the port and never listens.

The image runs one worker (app/Dockerfile) and needs neither; the benchmark runs two workers to use both cores, and
must measure the app, not these two artefacts of uvicorn's worker mode.
"""

import socket
from collections.abc import Sequence
from typing import Any

from uvicorn.config import Config
from uvicorn.main import main
from uvicorn.server import Server

_bind_socket = Config.bind_socket
_startup = Server.startup


def _is_inet(sock: socket.socket) -> bool:
    return sock.family in (socket.AF_INET, socket.AF_INET6)


def _reuse_port(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)


def bind_tcp_socket(self: Config) -> socket.socket:
    """uvicorn's bind_socket, re-bound as IPPROTO_TCP with SO_REUSEPORT (so each worker can bind the address too)."""
    sock = _bind_socket(self)
    if not _is_inet(sock):
        return sock
    address = sock.getsockname()
    sock.close()
    tcp = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    _reuse_port(tcp)
    tcp.bind(address)
    tcp.set_inheritable(True)
    return tcp


def own_listener(inherited: socket.socket) -> socket.socket:
    """A socket of this worker's own on the inherited socket's address (TCP, SO_REUSEPORT), for the kernel to
    hash connections to; the inherited one stays unlistened."""
    if not _is_inet(inherited) or not inherited.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT):
        return inherited
    own = socket.socket(inherited.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    _reuse_port(own)
    own.bind(inherited.getsockname())
    return own


async def startup_on_own_listeners(self: Server, sockets: Sequence[socket.socket] | None = None) -> Any:
    """uvicorn's Server.startup, with each inherited socket swapped for this worker's own listener."""
    return await _startup(self, None if sockets is None else [own_listener(sock) for sock in sockets])


Config.bind_socket = bind_tcp_socket  # type: ignore[method-assign]
Server.startup = startup_on_own_listeners  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
