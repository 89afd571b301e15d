"""Edge headers on every response: X-Region, cache policy, security headers and Vary.

It also hands the plain company read to app/fast_read.py (when given one), inside these headers and this 500.

Pure ASGI (not BaseHTTPMiddleware) so streaming and concurrency are untouched; it is the outermost
middleware so CORS preflights and error responses get the same headers. It is also the last line of defence:
an exception nothing else handled becomes a JSON 500 with those headers (Starlette's own 500 is sent outside
every user middleware, bare, and the server then drops the connection).
"""

import logging
import time
from typing import TYPE_CHECKING, Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.geo import resolve_region
from app.settings import Settings
from contracts.headers import REGION, VARY

if TYPE_CHECKING:
    from app.fast_read import CompanyReadLane

log = logging.getLogger(__name__)

DOCS_PATHS: Final = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
STATIC_TYPES: Final = ("text/css", "text/javascript", "application/javascript", "image/", "font/")
# Responses differ by the request headers in VARY (region, and for reads the consistency token).

# Scope key app/http_limits.py sets on a request beyond --limit-concurrency (defined here, so that the app's
# processes do not import httptools through it: an h11 server must not load it).
OVER_CAPACITY: Final = "app.over_capacity"

NO_STORE: Final = "private, no-store"
SHORT: Final = "public, max-age=300"
IMMUTABLE: Final = "public, max-age=31536000, immutable"

SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}
# The docs page loads Swagger UI from a CDN, so only non-HTML responses get the strict policy.
API_CSP: Final = "default-src 'none'; frame-ancestors 'none'"


def cache_control(path: str, status: int, content_type: str) -> str:
    """Cache policy by route first, then by content type; errors and API data are never cached."""
    if status >= 400 or path.startswith(("/api/", "/health")):
        return NO_STORE
    if path in DOCS_PATHS:
        return SHORT
    if path.startswith("/static/") or content_type.startswith(STATIC_TYPES):
        return IMMUTABLE
    if content_type.startswith("text/html"):
        return SHORT
    return NO_STORE


def _merge_vary(existing: str | None, extra: tuple[str, ...]) -> str:
    names = [v.strip() for v in (existing or "").split(",") if v.strip()]
    seen = {n.lower() for n in names}
    names += [n for n in extra if n.lower() not in seen]
    return ", ".join(names)


class EdgeMiddleware:
    """Resolves the request's region once (into scope state) and decorates the response."""

    def __init__(self, app: ASGIApp, settings: Settings, fast_lane: "CompanyReadLane | None" = None) -> None:
        self.app = app
        self.fast_lane = fast_lane
        self.primary = settings.database_primary_region
        secret = settings.origin_verify_secret
        self.secret = secret.get_secret_value() if secret is not None else None
        self._refused_unlogged = 0
        self._refusals_logged_at = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        region = resolve_region(request_headers, self.primary, self.secret)
        scope.setdefault("state", {})["region"] = region
        path: str = scope["path"]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers[REGION] = region
                content_type = headers.get("content-type", "")
                if "cache-control" not in headers:
                    headers["Cache-Control"] = cache_control(path, message["status"], content_type)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not content_type.startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", API_CSP)
                headers["Vary"] = _merge_vary(headers.get("vary"), VARY)
            await send(message)

        if scope.get(OVER_CAPACITY):
            await self._refuse_over_capacity(scope, receive, send_with_headers)
            return
        lane_id = self.fast_lane.company_id(scope, request_headers) if self.fast_lane is not None else None
        try:
            if lane_id is None:
                await self.app(scope, receive, send_with_headers)
            else:
                assert self.fast_lane is not None
                await self.fast_lane.serve(scope, receive, send_with_headers, lane_id, request_headers, region)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), path)
            if started:
                raise  # headers are out: the server can only cut the connection
            error = JSONResponse({"error": "internal_error", "detail": "unexpected server error"}, status_code=500)
            await error(scope, receive, send_with_headers)

    async def _refuse_over_capacity(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The server is at --limit-concurrency (app/http_limits.py): answer without running the route, close the
        connection to free a slot, and log at most one line a second however many are refused."""
        self._refused_unlogged += 1
        now = time.monotonic()
        if now - self._refusals_logged_at >= 1:
            log.warning("over capacity: %d request(s) refused with 503 since the last line", self._refused_unlogged)
            self._refused_unlogged, self._refusals_logged_at = 0, now
        response = JSONResponse(
            {"error": "over_capacity", "detail": "the server is at its concurrency limit; retry shortly"},
            status_code=503,
            headers={"Retry-After": "1", "Connection": "close"},
        )
        await response(scope, receive, send)
