"""Header resolution never raises and only ever yields a configured region."""

from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from app.countries import REGIONS, Region
from app.geo import country_region, resolve_region
from contracts.headers import GEO, ORIGIN_VERIFY
from tests.app.helpers import region_decided_by

NAMES = st.sampled_from([*GEO, ORIGIN_VERIFY, "x-other"])
VALUES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"DE", b"jp", b" us ", b"XX", b"T1", b"ZZ", b"\xc9S", b"D\x00", b"de,jp"]),
)


def _headers(pairs: list[tuple[str, bytes]]) -> Headers:
    """As an ASGI server hands them over: names lower-cased (the ASGI spec; httpx's ASGI transport and uvicorn do),
    values as sent. Starlette matches raw names as given (starlette discussion #3104), so mixed-case names here were
    headers the resolver never saw."""
    return Headers(raw=[(name.lower().encode(), value) for name, value in pairs])


@given(st.lists(st.tuples(NAMES, VALUES), max_size=6), st.sampled_from(REGIONS), st.none() | st.text(max_size=8))
def test_resolution_is_total_and_follows_the_rule(
    pairs: list[tuple[str, bytes]], primary: Region, secret: str | None
) -> None:
    assert resolve_region(_headers(pairs), primary, secret) == region_decided_by(pairs, primary, secret)


def test_valid_codes_any_case_and_padding() -> None:
    assert country_region("de") == "eu"
    assert country_region(" JP ") == "asia"
    assert country_region("Us") == "us"


def test_secret_must_match_exactly() -> None:
    headers = [("cf-ipcountry", b"JP")]
    assert resolve_region(_headers(headers), "eu", "s") == "eu"
    assert resolve_region(_headers([*headers, ("x-origin-verify", b"s")]), "eu", "s") == "asia"
    twice = [*headers, ("x-origin-verify", b"s"), ("x-origin-verify", b"s")]
    assert resolve_region(_headers(twice), "eu", "s") == "eu"
