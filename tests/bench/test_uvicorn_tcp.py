"""The benchmark's uvicorn launcher: accepted connections must get TCP_NODELAY even with --workers N."""

import socket

from uvicorn.config import Config

from bench.uvicorn_tcp import bind_tcp_socket


def test_bound_socket_is_marked_tcp_so_accepted_connections_get_nodelay() -> None:
    listener = bind_tcp_socket(Config(app="app.main:app", host="127.0.0.1", port=0))
    listener.listen()  # uvicorn's server does this when it starts serving on the socket
    with listener, socket.create_connection(listener.getsockname()):
        accepted, _ = listener.accept()
        with accepted:
            assert listener.proto == socket.IPPROTO_TCP
            assert accepted.proto == socket.IPPROTO_TCP  # what asyncio checks before setting TCP_NODELAY
