"""Browser sessions for the dashboard: an analytics token, checked once at sign-in, becomes a signed cookie.

The cookie holds no token, only an HMAC fingerprint of it under SESSION_SECRET, signed and timestamped by
itsdangerous. Every request re-checks the fingerprint against the tokens configured now, so removing a token from
ANALYTICS_API_TOKENS ends its sessions too; a wrong signature, an expired cookie or a retired token all mean
"signed out". The cookie is HttpOnly, SameSite=Strict and, when the request came over HTTPS (directly or as
CloudFront/ALB report in X-Forwarded-Proto), Secure.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterable
from typing import Final

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE: Final = "dashboard_session"
SALT: Final = "dashboard-session"
DEFAULT_MAX_AGE_S: Final = 8 * 3600  # a working day; signing in again costs one paste


class Sessions:
    """Issues and verifies session cookies; `tokens` yields the currently valid analytics tokens."""

    def __init__(self, secret: str, tokens: Callable[[], Iterable[str]], max_age_s: int = DEFAULT_MAX_AGE_S) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self._tokens = tokens
        self.max_age_s = max_age_s

    def _fingerprint(self, token: str) -> str:
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    def principal(self, request: Request) -> str | None:
        """`session:<fingerprint prefix>` for a valid cookie of a still-configured token, else None."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            payload = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # includes SignatureExpired
            return None
        fingerprint = payload.get("fp") if isinstance(payload, dict) else None
        if not isinstance(fingerprint, str):
            return None
        matches = [hmac.compare_digest(fingerprint, self._fingerprint(token)) for token in self._tokens()]
        return f"session:{fingerprint[:12]}" if any(matches) else None

    def sign_in(self, request: Request, response: Response, token: str) -> None:
        """Set the cookie for a token the caller has already validated."""
        response.set_cookie(
            COOKIE,
            self._serializer.dumps({"fp": self._fingerprint(token)}),
            max_age=self.max_age_s,
            path="/",
            secure=is_https(request),
            httponly=True,
            samesite="strict",
        )

    def sign_out(self, request: Request, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", secure=is_https(request), httponly=True, samesite="strict")


def is_https(request: Request) -> bool:
    """HTTPS to the viewer: the ALB terminates TLS and says so in X-Forwarded-Proto."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"
