"""The company-read fast lane (app/fast_read.py) answers exactly what the full app answers, on the real cluster.

Each case sends the same request twice: as `/api/companies/<id>`, which the lane serves, and as
`/api/companies/0<id>`, which the lane leaves to the full app (FastAPI's route reads the same id). Status, every
header in order and the body must be byte-identical, and both must leave the same request-metrics record.
"""

from typing import Any

import httpx
import pytest

from app.fast_read import CompanyReadLane
from app.lsn import parse_lsn
from app.request_metrics import RequestMetrics
from app.routing import DatabaseUnavailable, Router
from tests.app.helpers import Live, geo, wait_until

Records = list[tuple[Any, ...]]


def _lane(live: Live) -> CompanyReadLane:
    lane: CompanyReadLane = live.app.state.fast_lane
    return lane


def _metrics(live: Live) -> RequestMetrics:
    metrics: RequestMetrics = live.app.state.request_metrics
    return metrics


@pytest.fixture
def recorded(live: Live, monkeypatch: pytest.MonkeyPatch) -> Records:
    """Every request-metrics record (region, route, status) from now on, whichever path made it; read here rather
    than from the buffer, which the background flusher drains."""
    records: Records = []
    metrics = _metrics(live)
    record = metrics.record

    def capture(region: str, route: str, status: int, latency_ms: float) -> None:
        records.append((region, route, status))
        record(region, route, status, latency_ms)

    monkeypatch.setattr(metrics, "record", capture)
    return records


async def _get(live: Live, records: Records, path: str, headers: dict[str, str]) -> tuple[httpx.Response, Any, int]:
    """The response, its request-metrics record and how many requests the lane served."""
    before, recorded_before = _lane(live).served, len(records)
    response = await live.client.get(path, headers=headers)
    assert len(records) == recorded_before + 1, "one metrics record per request"
    return response, records[-1], _lane(live).served - before


async def _assert_same(live: Live, records: Records, company_id: int, headers: dict[str, str]) -> httpx.Response:
    fast, fast_record, fast_served = await _get(live, records, f"/api/companies/{company_id}", headers)
    full, full_record, full_served = await _get(live, records, f"/api/companies/0{company_id}", headers)
    assert (fast_served, full_served) == (1, 0), "the lane serves the plain id and leaves the padded one"
    assert fast.status_code == full.status_code
    assert fast.headers.raw == full.headers.raw
    assert fast.content == full.content
    assert fast_record == full_record
    return fast


@pytest.fixture
async def company(healthy: Live) -> dict[str, Any]:
    response = await healthy.client.post("/api/companies", json={"name": "Lane GmbH", "country": "DE"})
    assert response.status_code == 201, response.text
    token = response.headers["X-Consistency-Token"]
    token_lsn = parse_lsn(token)
    assert token_lsn is not None
    await wait_until(
        lambda: all((healthy.monitor.state[r].replay_lsn or 0) >= token_lsn for r in ("eu", "us", "asia")),
        "every replica has the company",
    )
    created: dict[str, Any] = {**response.json(), "token": token}
    return created


@pytest.mark.parametrize("country", ["DE", "US", "JP", "ZZ"])
async def test_found_is_the_full_apps_answer(
    healthy: Live, recorded: Records, company: dict[str, Any], country: str
) -> None:
    response = await _assert_same(healthy, recorded, company["id"], geo(country))
    assert response.status_code == 200
    assert response.json()["name"] == "Lane GmbH"
    # ZZ is no country: the primary region's replica (us in the tests' cluster)
    assert response.headers["X-DB-Node"] == {"DE": "eu", "US": "us", "JP": "asia", "ZZ": "us"}[country]


async def test_token_and_bad_token_are_the_full_apps_answers(
    healthy: Live, recorded: Records, company: dict[str, Any]
) -> None:
    with_token = await _assert_same(
        healthy, recorded, company["id"], {**geo("US"), "X-Consistency-Token": company["token"]}
    )
    assert with_token.status_code == 200
    bad = await _assert_same(healthy, recorded, company["id"], {**geo("US"), "X-Consistency-Token": "not-an-lsn"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["header", "X-Consistency-Token"]
    forged = await _assert_same(
        healthy, recorded, company["id"], {**geo("US"), "X-Consistency-Token": "FFFFFFFF/FFFFFFFF"}
    )
    assert forged.status_code == 400


async def test_missing_is_the_full_apps_404(healthy: Live, recorded: Records) -> None:
    response = await _assert_same(healthy, recorded, 999_999_999, geo("JP"))
    assert response.status_code == 404
    assert response.headers["X-DB-Node"] == "asia"


@pytest.fixture
def failing_router(healthy: Live, monkeypatch: pytest.MonkeyPatch) -> list[Exception]:
    """The router raises whatever the test puts in the list, for both the lane and the full app."""
    raised: list[Exception] = []
    router: Router = healthy.app.state.router

    async def read(*_: Any) -> Any:
        raise raised[0]

    monkeypatch.setattr(router, "read", read)
    return raised


async def test_unavailable_is_the_full_apps_503(
    healthy: Live, recorded: Records, failing_router: list[Exception]
) -> None:
    failing_router.append(DatabaseUnavailable("no database node could serve this read", retry_after_s=2))
    response = await _assert_same(healthy, recorded, 5, geo("DE"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"


async def test_unexpected_error_is_the_edge_500(
    healthy: Live, recorded: Records, failing_router: list[Exception]
) -> None:
    failing_router.append(RuntimeError("boom"))
    response = await _assert_same(healthy, recorded, 5, geo("DE"))
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert response.headers["X-Region"] == "eu"


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/companies/7", {"Origin": "https://example.com"}),  # CORS is the full app's job
        ("GET", "/api/companies/7", {"Content-Length": "0"}),
        ("HEAD", "/api/companies/7", {}),
        ("GET", "/api/companies/007", {}),
        ("GET", "/api/companies/0", {}),
        ("GET", "/api/companies/9223372036854775807", {}),  # 19 digits: the route validates the bigint range
        ("GET", "/api/companies/7/", {}),
        ("GET", "/api/companies/-7", {}),
        ("GET", "/api/companies", {}),
    ],
)
async def test_everything_else_goes_to_the_full_app(
    healthy: Live, method: str, path: str, headers: dict[str, str]
) -> None:
    before = _lane(healthy).served
    response = await healthy.client.request(method, path, headers=headers)
    assert _lane(healthy).served == before, f"{method} {path} {headers} took the lane"
    assert response.status_code != 500
