"""Bearer tokens for the analytics endpoints (ANALYTICS_API_TOKENS): constant-time, fail closed, never logged.

Both sides are hashed before `hmac.compare_digest`, so neither a token's content nor its length shows in the
timing, and every configured token is compared (no early exit on the first match). No tokens configured means
every call is refused. The dashboard's signed session cookie is accepted through one hook:
`app.state.session_principal(request) -> str | None`, when the dashboard has installed it.
"""

import hashlib
import hmac
from collections.abc import Callable
from typing import Final

from fastapi import HTTPException, Request, Response

from app.settings import Settings
from contracts.headers import AUTHORIZATION

NO_STORE: Final = "private, no-store"
_SCHEME: Final = "bearer"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def token_is_valid(settings: Settings, token: str) -> bool:
    """True when `token` is one of ANALYTICS_API_TOKENS, compared in constant time against all of them."""
    given = _digest(token)
    matched = False
    for accepted in settings.analytics_tokens:
        matched |= hmac.compare_digest(given, _digest(accepted))
    return matched


def _unauthorized(detail: str, error: str | None) -> HTTPException:
    challenge = 'Bearer realm="analytics"' + (f', error="{error}"' if error else "")
    return HTTPException(
        status_code=401, detail=detail, headers={"WWW-Authenticate": challenge, "Cache-Control": NO_STORE}
    )


def bearer_token(request: Request) -> str | None:
    """The token of a single `Authorization: Bearer <token>` header, or None."""
    values = request.headers.getlist(AUTHORIZATION)
    if len(values) != 1:
        return None
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == _SCHEME and token else None


async def require_analytics_token(request: Request, response: Response) -> str:
    """FastAPI dependency: the caller's principal ("token" or the session's), else 401 with WWW-Authenticate.

    Also marks the response `Cache-Control: private, no-store`: figures are per-tenant and change constantly.
    """
    response.headers["Cache-Control"] = NO_STORE
    session_principal: Callable[[Request], str | None] | None = getattr(request.app.state, "session_principal", None)
    if session_principal is not None and (principal := session_principal(request)):
        return principal
    token = bearer_token(request)
    if token is None:
        raise _unauthorized("an analytics token is required: Authorization: Bearer <token>", None)
    if not token_is_valid(request.app.state.settings, token):
        raise _unauthorized("the analytics token is not valid", "invalid_token")
    return "token"
