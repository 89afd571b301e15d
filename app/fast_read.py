"""The hot read, GET /api/companies/{id}, served without FastAPI's routing, dependency solving and inner middleware.

Why: a routed read cost the app about 240 us of CPU, about 60 us of it the framework path (eight middleware layers,
route matching, parameter solving, response serialisation; in-process with a stub database, 78 vs 20 us; one worker
under wrk answers 1.62x the reads). That stood between the app and routed/pgpool-II >= 1.5 on a CPU-bound machine.

Only the plain case takes this lane: GET, no body, no `Origin` (CORS is the full app's job), an id of 1 to 18 digits
without a leading zero. Anything else, including 19-digit ids at the edge of bigint and HEAD, goes through the full
app, whose route validates it. The lane keeps every behaviour by sharing the code, not by copying it: the same query
and 404 (`app.api.read_company`), the same token parsing, the app's own exception handlers for what that raises,
the same request-metrics record under the route's own label, and the edge middleware (which calls the lane) adds
the edge headers and turns anything unhandled into its JSON 500. tests/app/test_fast_read.py compares its answers
with the full app's, byte for byte.
"""

import inspect
import re
import time
from collections.abc import Callable
from typing import Final, cast

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import HTTPExceptionHandler, Receive, Scope, Send

from app import api
from app.countries import Region
from app.request_metrics import RequestMetrics
from contracts.headers import DB_NODE

# 18 digits stay below 2**63 - 1, so every id the lane takes is one the route would accept.
_ID_PATH: Final = re.compile(r"/api/companies/([1-9][0-9]{0,17})")
_FULL_APP_HEADERS: Final = ("origin", "content-length", "transfer-encoding")


class CompanyReadLane:
    """Serves the plain company read; `company_id` says whether a request is one."""

    def __init__(self, app: FastAPI, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.served = 0  # how many requests took the lane (tests show it is really used)

    def company_id(self, scope: Scope, headers: Headers) -> int | None:
        """The id when this request is the plain case, else None (the full app serves it)."""
        if scope["method"] != "GET" or scope.get("root_path"):
            return None
        match = _ID_PATH.fullmatch(scope["path"])
        if match is None or any(name in headers for name in _FULL_APP_HEADERS):
            return None
        return int(match.group(1))

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, company_id: int, headers: Headers, region: Region
    ) -> None:
        self.served += 1
        started = time.perf_counter()
        status = 500  # what the metrics record when something escapes to the edge middleware's 500
        try:
            response = await self._respond(scope, receive, company_id, headers, region)
            # What the CORS middleware adds to any response to a request without Origin (the only kind taken here).
            response.headers["Vary"] = ", ".join([*response.headers.getlist("Vary"), "Origin"])
            status = response.status_code
            await response(scope, receive, send)
        finally:
            self.metrics.record(region, api.COMPANY_PATH, status, (time.perf_counter() - started) * 1000)

    async def _respond(
        self, scope: Scope, receive: Receive, company_id: int, headers: Headers, region: Region
    ) -> Response:
        try:
            token = api.consistency_token(headers)
            company, node = await api.read_company(self.app.state.router, region, token, company_id)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            request = Request(scope, receive)
            if inspect.iscoroutinefunction(handler):
                answer: Response = await handler(request, exc)
                return answer
            sync_handler = cast(Callable[[Request, Exception], Response], handler)
            return await run_in_threadpool(sync_handler, request, exc)  # as Starlette runs a sync handler
        response = JSONResponse(company)
        response.headers[DB_NODE] = node
        return response

    def _handler(self, exc: Exception) -> HTTPExceptionHandler | None:
        """The app's handler for exc, looked up as Starlette's exception middleware does (status, then class)."""
        handlers = self.app.exception_handlers
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls is Exception:  # Starlette gives Exception handlers to its outermost 500 middleware, not here
                return None
            if cls in handlers:
                return handlers[cls]
        return None
