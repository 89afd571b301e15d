"""`python -m bench.uvicorn_tcp <uvicorn arguments>`: uvicorn whose --workers N connections get TCP_NODELAY.

With --workers N, uvicorn binds the listening socket itself with proto 0; accepted sockets inherit it and asyncio
sets TCP_NODELAY only when proto is IPPROTO_TCP, so every keep-alive request after the first waits ~40 ms for the
client's delayed ACK (Kludex/uvicorn#3149, open). This launcher marks the bound socket as TCP (same descriptor),
which the workers inherit. The image runs one worker (app/Dockerfile) and is not affected; the benchmark runs two
workers to use both cores, and must not measure that bug instead of the app.
"""

import socket

from uvicorn.config import Config
from uvicorn.main import main

_bind_socket = Config.bind_socket


def bind_tcp_socket(self: Config) -> socket.socket:
    """uvicorn's bind_socket, with the bound TCP socket re-wrapped as IPPROTO_TCP (same descriptor)."""
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


Config.bind_socket = bind_tcp_socket  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
