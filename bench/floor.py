"""The "floor" variant: the real app with its router replaced by one that sends every read to one fixed replica.

Same factory, middleware, endpoints, pools and health monitor as `app.main:app`; only the routing decision
(health lookups, candidate ordering, retries) is gone, so routed/floor isolates what routing costs.
Started as `uvicorn bench.floor:app`.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

from fastapi import FastAPI

from app.countries import Region
from app.main import app as routed_app
from app.routing import Query, Router, T

FIXED_REPLICA: Final[Region] = "eu"


class FixedReplicaRouter(Router):
    """Every read on one replica's pool: no health check, no ordering, no fallback."""

    def __init__(self, routed: Router, replica: Region) -> None:
        super().__init__(routed.nodes, routed.monitor)
        self.replica: Region = replica

    async def read(self, home: Region, token: int | None, query: Query[T]) -> tuple[T, Any]:
        async with self.nodes[self.replica].connection() as conn:
            return await query(conn), self.replica


def with_fixed_reads(app: FastAPI, replica: Region = FIXED_REPLICA) -> FastAPI:
    """Wrap the app's lifespan so the router it installs is swapped for a FixedReplicaRouter."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_):  # the app's lifespan keeps its state on app.state, yields nothing
            app_.state.router = FixedReplicaRouter(app_.state.router, replica)
            yield

    app.router.lifespan_context = lifespan
    return app


app = with_fixed_reads(routed_app)
