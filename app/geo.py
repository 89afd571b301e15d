"""Which region a request belongs to, from CDN country headers; never raises on hostile input."""

import hmac

from starlette.datastructures import Headers

from app.countries import COUNTRY_REGION, Region
from contracts.headers import GEO, ORIGIN_VERIFY

# Most trusted first: the first of these that is present decides, so a lower-priority header cannot
# override what the CDN in front of us said (including its "unknown").


def country_region(value: str) -> Region | None:
    """Region of one header value, or None for anything that is not an assigned alpha-2 code."""
    code = value.strip()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    return COUNTRY_REGION.get(code.upper())


def origin_verified(headers: Headers, secret: str | None) -> bool:
    """True when no secret is configured, or the request carries exactly that secret (constant time)."""
    if secret is None:
        return True
    values = headers.getlist(ORIGIN_VERIFY)
    if len(values) != 1:
        return False
    return hmac.compare_digest(values[0].encode("latin-1"), secret.encode("utf-8"))


def resolve_region(headers: Headers, primary: Region, secret: str | None) -> Region:
    """The request's region: first present geo header if valid, else the primary region."""
    if not origin_verified(headers, secret):
        return primary
    for name in GEO:
        values = headers.getlist(name)
        if not values:
            continue
        if len(values) > 1:  # repeated header: ambiguous, so treat as malformed
            return primary
        return country_region(values[0]) or primary
    return primary
