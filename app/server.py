"""The server stack the app runs on everywhere (the image, `make run`, the benchmarks): uvicorn on uvloop with
the httptools parser.

Named explicitly rather than left to uvicorn's "auto", so an image or venv missing the `uvicorn[standard]` extras
fails to start instead of silently falling back to the pure-Python h11 parser on the default asyncio loop (the
same app answers about 1.4x fewer requests on that stack; `make bench` measures it). uvloop also sets TCP_NODELAY
on every accepted connection, also under `--workers N`, where asyncio does not (Kludex/uvicorn#3149).
"""

from typing import Final

from app.http_limits import HTTP_PROTOCOL, SERVER_LIMITS

# HTTP_PROTOCOL is httptools' protocol plus a header timeout (app/http_limits.py), so httptools stays required.
SERVER_STACK: Final = ("--loop", "uvloop", "--http", HTTP_PROTOCOL, *SERVER_LIMITS)
