"""Error responses for every route (ours and the ones other modules add): JSON, safely encoded, never a 500.

FastAPI's own 422 handler echoes the offending input verbatim, so `{"name": NaN}` or a lone surrogate makes the
error response itself fail to encode (a 500 that also drops the edge headers); a body its JSON parser cannot read
(too deeply nested, invalid UTF-8, a 4,301-digit integer) becomes a bare 400. Here every problem is a 422 that
names the field, and any input echoed back is a short ASCII excerpt.
"""

import reprlib
from collections.abc import Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from app.routing import DatabaseUnavailable, InvalidToken
from contracts.headers import CONSISTENCY_TOKEN

EXCERPT_CHARS: Final = 60  # longest echo of a client's input in an error body
MESSAGE_CHARS: Final = 200
# FastAPI's detail when its JSON parser raised something other than JSONDecodeError (the cause is chained).
_FASTAPI_BODY_PARSE_FAILED: Final = "There was an error parsing the body"

_excerpt_repr = reprlib.Repr()
_excerpt_repr.maxstring = EXCERPT_CHARS
_excerpt_repr.maxother = EXCERPT_CHARS
_excerpt_repr.maxlevel = 2
_excerpt_repr.maxdict = _excerpt_repr.maxlist = 4


def safe_text(value: object, limit: int = MESSAGE_CHARS) -> str:
    """Printable ASCII only (non-ASCII, NUL and lone surrogates escaped), at most `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    text = text[:limit].encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def excerpt(value: object) -> str:
    """A short, bounded rendering of any decoded JSON value (NaN, Infinity and huge strings included)."""
    return safe_text(_excerpt_repr.repr(value), EXCERPT_CHARS)


def _loc(loc: Sequence[object]) -> list[str | int]:
    return [part if isinstance(part, int) else safe_text(part, EXCERPT_CHARS) for part in loc]


def problem(loc: Sequence[object], msg: str, type_: str, value: object = None) -> dict[str, Any]:
    """One entry of a 422 `detail` list (FastAPI's shape: loc, msg, type, plus a safe input excerpt)."""
    entry: dict[str, Any] = {"loc": _loc(loc), "msg": safe_text(msg), "type": safe_text(type_, EXCERPT_CHARS)}
    if value is not None:
        entry["input"] = excerpt(value)
    return entry


def unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": errors}, status_code=422)


async def validation_failed(request: Request, exc: Exception) -> Response:
    """422 naming each bad field, with at most a short excerpt of what was sent."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        problem(e.get("loc", ()), e.get("msg", ""), e.get("type", "value_error"), e.get("input")) for e in exc.errors()
    ]
    return unprocessable(errors)


def _unparsable_body(cause: BaseException | None) -> str | None:
    """Why the JSON parser gave up, for the errors FastAPI turns into a bare 400."""
    if isinstance(cause, RecursionError):
        return "JSON body is nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return "JSON body is not valid UTF-8"
    if isinstance(cause, ValueError):  # e.g. int("1" * 4301): "Exceeds the limit (4300 digits) ..."
        return f"JSON body could not be decoded: {cause}"
    return None


async def http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's JSON for HTTP errors, except that an unparsable body is a 422 naming the problem."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_PARSE_FAILED:
        reason = _unparsable_body(exc.__cause__)
        if reason is not None:
            return unprocessable([problem(["body"], reason, "json_invalid")])
    return await http_exception_handler(request, exc)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 with a JSON error instead of a 500 or a hang; Retry-After tells well-behaved clients when."""
    retry_after = exc.retry_after_s if isinstance(exc, DatabaseUnavailable) else 1
    return JSONResponse(
        {"error": "database_unavailable", "detail": str(exc)},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


async def invalid_token(request: Request, exc: Exception) -> Response:
    """400 naming the header: the token is beyond anything the primary has written (forged or corrupted)."""
    return JSONResponse({"detail": [problem(["header", CONSISTENCY_TOKEN], str(exc), "value_error")]}, 400)


def install(app: FastAPI) -> None:
    """Register the handlers; the edge middleware turns anything they miss into a 500 with its headers."""
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(DatabaseUnavailable, database_unavailable)
    app.add_exception_handler(InvalidToken, invalid_token)
