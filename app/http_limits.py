"""The HTTP server's limits against slow or hostile clients, set explicitly (uvicorn's defaults leave some open).

- Request headers must be complete within HEADER_TIMEOUT_S of the connection opening (or of the first byte of the
  next request on a kept-alive connection); uvicorn itself has no such timeout, so 2,000 connections trickling
  headers were held open indefinitely. The ALB sends whole requests, so only a hostile or broken client hits it.
- Idle kept-alive connections close after KEEP_ALIVE_S: more than the ALB's 60 s idle timeout, as the ALB guide
  asks of targets, so the ALB never reuses a connection the app is closing (which would be a 502).
- At most MAX_CONCURRENCY connections and in-flight requests per process (a 1 GiB task holds that many
  comfortably; the database pools and read shedding bound the real work). Beyond that a request is answered 503 at
  once, without running its route: the protocol marks its scope OVER_CAPACITY and the edge middleware answers,
  so the 503 is JSON with Retry-After and every edge header (uvicorn's own is bare plain text, without X-Region)
  and closes the connection, which frees a slot.
"""

import asyncio
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.middleware import OVER_CAPACITY

HEADER_TIMEOUT_S: Final = 5.0
# ELB guide, "Edit attributes for your Application Load Balancer" (connection idle timeout, default 60 s): "configure
# the idle timeout of your application to be larger than the idle timeout configured for the load balancer", else
# the ALB may send a request on a connection the target is closing and answer 502.
KEEP_ALIVE_S: Final = 65
MAX_CONCURRENCY: Final = 4096


class HeaderTimeoutHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose request headers do not arrive in time."""

    _header_timer: asyncio.TimerHandle | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn would swap in its bare 503 app; the limit is applied in on_headers_complete instead.
        self.capacity, self.limit_concurrency = self.limit_concurrency, None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._start_header_timer()

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        if self.capacity is not None and max(len(self.connections), len(self.tasks)) >= self.capacity:
            self.scope[OVER_CAPACITY] = True  # type: ignore[typeddict-unknown-key]
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _start_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


HTTP_PROTOCOL: Final = f"{__name__}:{HeaderTimeoutHttpToolsProtocol.__name__}"
SERVER_LIMITS: Final = ("--timeout-keep-alive", str(KEEP_ALIVE_S), "--limit-concurrency", str(MAX_CONCURRENCY))
