"""The caching table on its own: which tier a path lands in, and what CloudFront allows each tier to be.

CloudFront facts (developer guide "Cache behavior settings" / "Path pattern", API reference AllowedMethods,
CachedMethods, CachePolicyConfig; Quotas):
- A request is compared with the behaviours' path patterns in the order listed; the first match wins, and the
  default behaviour (`*`) takes the rest. `*` matches any run of characters, `?` exactly one; matching is case
  sensitive, and a leading `/` is optional.
- AllowedMethods is one of three sets: GET+HEAD, GET+HEAD+OPTIONS, or all seven; CachedMethods is GET+HEAD or
  GET+HEAD+OPTIONS.
- "If your minimum TTL is greater than 0, CloudFront will cache content for at least the duration specified in the
  cache policy's minimum TTL, even if the Cache-Control: no-cache, no-store, or private directives are present".
- A distribution holds at most 75 cache behaviours by default.
"""

from __future__ import annotations

import re

import pytest

from components.cdn_cache import (
    ALL_METHODS,
    ANALYTICS,
    API,
    BEHAVIOURS,
    CACHED_METHODS,
    DEFAULT_TIER,
    DOCS,
    READ_METHODS,
    SSE_HEARTBEAT_SECONDS,
    STATIC,
    STREAM,
    CacheTier,
)

ALLOWED_METHOD_SETS = (
    {"GET", "HEAD"},
    {"GET", "HEAD", "OPTIONS"},
    {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"},
)
CACHED_METHOD_SETS = ({"GET", "HEAD"}, {"GET", "HEAD", "OPTIONS"})
MAX_BEHAVIOURS = 75


def cloudfront_match(pattern: str, path: str) -> bool:
    """CloudFront's path-pattern match: `*` any run, `?` one character, case sensitive, leading `/` optional."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lstrip("/"))
    return re.fullmatch(regex, path.lstrip("/")) is not None


def tier_for(path: str) -> CacheTier:
    return next((tier for pattern, tier in BEHAVIOURS if cloudfront_match(pattern, path)), DEFAULT_TIER)


def test_the_matcher_follows_cloudfronts_wildcards() -> None:
    assert cloudfront_match("*.????????.js", "/app.0123abcd.js")
    assert not cloudfront_match("*.????????.js", "/app.0123abc.js")  # seven characters: `?` is exactly one
    assert cloudfront_match("/api/*", "api/x")  # leading slash optional
    assert not cloudfront_match("/static/*", "/Static/app.css")  # case sensitive


@pytest.mark.parametrize(
    ("path", "tier"),
    [
        ("/api/analytics/stream", STREAM),
        ("/api/analytics/streams", ANALYTICS),  # only the exact stream path is the uncompressed stream
        ("/api/analytics/mrr", ANALYTICS),
        ("/api/alerts", ANALYTICS),
        ("/api/alerts/7/firings", ANALYTICS),
        ("/api/reports/3/export.xlsx", ANALYTICS),
        ("/dashboard", ANALYTICS),
        ("/dashboard/sign-in", ANALYTICS),
        ("/api/companies", API),
        ("/api/companies/42", API),
        # An API path that looks like a hashed asset is still the API: /api/* comes before the asset patterns.
        ("/api/files/app.0123abcd.js", API),
        ("/docs", DOCS),
        ("/docs/oauth2-redirect", DOCS),
        ("/openapi.json", DOCS),
        ("/static/app.css", STATIC),
        ("/assets/logo.svg", STATIC),
        ("/app.0123abcd.js", STATIC),
        ("/css/site.89abcdef.css", STATIC),
        ("/app.js", DEFAULT_TIER),  # not hashed: not immutable, so not cached for a year
        ("/health", DEFAULT_TIER),
        ("/", DEFAULT_TIER),
    ],
)
def test_each_path_lands_in_its_tier(path: str, tier: CacheTier) -> None:
    assert tier_for(path) is tier


def test_no_behaviour_is_shadowed_by_an_earlier_one() -> None:
    """A pattern fully covered by an earlier one would never match (its tier would be dead configuration). Checked
    on a path built from each pattern (wildcards filled in) reaching that pattern's own tier."""
    for index, (pattern, tier) in enumerate(BEHAVIOURS):
        example = pattern.replace("*", "x").replace("?", "0")
        first = next(i for i, (p, _) in enumerate(BEHAVIOURS) if cloudfront_match(p, example))
        assert first == index, f"{pattern} is caught by {BEHAVIOURS[first][0]}"
        assert tier_for(example) is tier


def test_anything_unlisted_is_the_never_cached_api() -> None:
    assert DEFAULT_TIER is API
    assert (API.min_ttl, API.default_ttl, API.max_ttl, API.cached) == (0, 0, 0, False)
    assert API.dynamic
    assert set(API.allowed_methods) == set(ALL_METHODS)


def tiers() -> list[CacheTier]:
    return list(dict.fromkeys([DEFAULT_TIER, *(tier for _, tier in BEHAVIOURS)]))


def test_every_tier_is_a_method_set_cloudfront_offers() -> None:
    assert set(CACHED_METHODS) in CACHED_METHOD_SETS
    assert set(READ_METHODS) == ALLOWED_METHOD_SETS[1]
    assert set(ALL_METHODS) == ALLOWED_METHOD_SETS[2]
    for tier in tiers():
        assert set(tier.allowed_methods) in ALLOWED_METHOD_SETS, tier.name
        assert set(CACHED_METHODS) <= set(tier.allowed_methods), tier.name


def test_ttls_are_ordered_and_only_static_content_outlives_the_origins_no_store() -> None:
    for tier in tiers():
        assert 0 <= tier.min_ttl <= tier.default_ttl <= tier.max_ttl, tier.name
    # A min TTL above 0 caches even `private, no-store` responses: only immutable assets may have one.
    assert [t.name for t in tiers() if t.min_ttl > 0] == ["static"]


def test_authenticated_tiers_cache_nothing_but_can_carry_authorization() -> None:
    """Authorization reaches the origin only through a cache key, and a policy whose TTLs are all 0 has no key: so
    max 1 s, with min and default 0 so the origin's `private, no-store` is obeyed."""
    authenticated = [t for t in tiers() if t.authenticated]
    assert {t.name for t in authenticated} == {"analytics", "stream"}
    for tier in authenticated:
        assert (tier.min_ttl, tier.default_ttl, tier.max_ttl) == (0, 0, 1), tier.name
        assert tier.dynamic, tier.name


def test_the_stream_is_uncompressed_and_read_only() -> None:
    assert STREAM.compress is False  # events must leave as the origin flushes them
    assert set(STREAM.allowed_methods) == {"GET", "HEAD", "OPTIONS"}
    assert [t.name for t in tiers() if not t.compress] == ["stream"]
    assert 0 < SSE_HEARTBEAT_SECONDS < 30  # below the distribution's origin read timeout (components/cdn.py: 30 s)


def test_the_table_fits_a_distribution() -> None:
    patterns = [pattern for pattern, _ in BEHAVIOURS]
    assert len(patterns) == len(set(patterns))
    assert len(patterns) <= MAX_BEHAVIOURS
