"""JSON responses whose Decimal values are written as exact JSON numbers (`108.00`, never `107.99999`).

FastAPI's default encoder turns Decimal into float, which cannot hold every cent amount exactly; orjson's
Fragment lets the decimal's own digits go out verbatim. Endpoints that return money return this response
directly (a returned Response is not re-encoded by FastAPI).
"""

from decimal import Decimal
from typing import Any

import orjson
from fastapi.responses import JSONResponse


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"non-finite Decimal {value} has no JSON form")
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(content: Any) -> bytes:
    """JSON bytes with Decimals as exact numbers (also for SSE payloads and exports that want the same)."""
    return orjson.dumps(content, default=_default)


class MoneyJSONResponse(JSONResponse):
    """A JSONResponse rendering Decimal as exact JSON numbers."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
