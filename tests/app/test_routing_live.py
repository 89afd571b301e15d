"""Reads go to the request's home replica by header; fallbacks go to the primary region's replica."""

import httpx
import pytest

from localdev.cluster import Cluster
from tests.app.helpers import PRIMARY_REGION, Live, cluster_settings, running_app


@pytest.mark.parametrize(
    ("header", "value", "region"),
    [
        ("CloudFront-Viewer-Country", "DE", "eu"),
        ("CloudFront-Viewer-Country", "jp", "asia"),
        ("CloudFront-Viewer-Country", "BR", "us"),
        ("CF-IPCountry", "ZA", "eu"),
        ("CF-IPCountry", "CA", "us"),
        ("X-AppEngine-Country", "IN", "asia"),
    ],
)
async def test_read_goes_to_home_replica(healthy: Live, header: str, value: str, region: str) -> None:
    response = await healthy.client.get("/api/companies", headers={header: value})
    assert response.status_code == 200
    assert response.headers["X-Region"] == region
    assert response.headers["X-DB-Node"] == region


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("CloudFront-Viewer-Country", "XX")],
        [("CloudFront-Viewer-Country", "T1")],
        [("CF-IPCountry", "ZZ")],
        [("CloudFront-Viewer-Country", "DEU")],
        [("CloudFront-Viewer-Country", "D1")],
        [("CloudFront-Viewer-Country", "")],
        [("CloudFront-Viewer-Country", "DE"), ("CloudFront-Viewer-Country", "JP")],
        [("X-AppEngine-Country", "\u00c9S")],  # two letters, but not ASCII
    ],
    ids=["absent", "XX", "T1", "ZZ", "too-long", "digit", "empty", "repeated", "non-ascii"],
)
async def test_unusable_geo_falls_back_to_primary_region(healthy: Live, headers: list[tuple[str, str]]) -> None:
    raw = [(name.encode(), value.encode("latin-1")) for name, value in headers]
    response = await healthy.client.get("/api/companies", headers=raw)
    assert response.status_code == 200
    assert response.headers["X-Region"] == PRIMARY_REGION
    assert response.headers["X-DB-Node"] == PRIMARY_REGION


async def test_first_present_header_wins(healthy: Live) -> None:
    both = {"CloudFront-Viewer-Country": "JP", "CF-IPCountry": "DE", "X-AppEngine-Country": "US"}
    assert (await healthy.client.get("/health", headers=both)).headers["X-Region"] == "asia"
    lower = {"CF-IPCountry": "DE", "X-AppEngine-Country": "US"}
    assert (await healthy.client.get("/health", headers=lower)).headers["X-Region"] == "eu"


async def test_origin_verify_gates_geo_headers(migrated: Cluster) -> None:
    settings = cluster_settings(migrated, origin_verify_secret="s3cret-value")
    async with running_app(settings) as (_, client):

        async def region(extra: dict[str, str]) -> str:
            response: httpx.Response = await client.get("/health", headers={"CF-IPCountry": "JP", **extra})
            return response.headers["X-Region"]

        assert await region({}) == PRIMARY_REGION
        assert await region({"X-Origin-Verify": "wrong"}) == PRIMARY_REGION
        assert await region({"X-Origin-Verify": "s3cret-value"}) == "asia"


async def test_tls_is_used_when_the_url_asks_for_it(migrated: Cluster) -> None:
    # The local servers have no TLS, so a replica URL demanding it must make that replica unusable.
    tls_eu = migrated.dsn("eu").replace("sslmode=disable", "sslmode=require")
    async with running_app(cluster_settings(migrated, database_read_replica_eu=tls_eu)) as (app, client):
        assert app.state.monitor.status("eu") == "down"
        response = await client.get("/api/companies", headers={"CloudFront-Viewer-Country": "DE"})
        assert response.status_code == 200
        assert response.headers["X-DB-Node"] == "us"
