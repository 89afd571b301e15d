"""Sign-in: an analytics token becomes a signed, HttpOnly, SameSite=Strict session cookie that the analytics API
accepts like a bearer token; bad tokens get the form back with an error; sign-out, expiry and retired tokens end it."""

from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest
from itsdangerous import TimestampSigner
from starlette.requests import Request
from starlette.responses import Response

from app.session import COOKIE, Sessions
from tests.app.analytics_helpers import OTHER_TOKEN, TOKEN
from tests.dashboard.helpers import Served


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base_url) as http:
        yield http


def _set_cookie(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    return jar


def test_valid_token_sets_a_strict_http_only_expiring_cookie(client: httpx.Client) -> None:
    response = client.post("/dashboard/sign-in", data={"token": TOKEN})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    morsel = _set_cookie(response)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "strict"
    assert int(morsel["max-age"]) == 8 * 3600
    assert not morsel["secure"]  # plain http here: a Secure cookie would never come back
    assert TOKEN not in morsel.value  # a fingerprint, never the token itself


def test_cookie_is_secure_when_the_viewer_came_over_https(client: httpx.Client) -> None:
    response = client.post("/dashboard/sign-in", data={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"})
    assert _set_cookie(response)[COOKIE]["secure"] is True


def test_the_session_is_accepted_by_the_analytics_api_and_sign_out_ends_it(client: httpx.Client) -> None:
    assert client.get("/api/alerts").status_code == 401
    client.post("/dashboard/sign-in", data={"token": OTHER_TOKEN})
    assert client.get("/api/alerts").status_code == 200
    response = client.post("/dashboard/sign-out")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/sign-in"
    assert int(_set_cookie(response)[COOKIE]["max-age"]) == 0
    client.cookies.clear()
    assert client.get("/api/alerts").status_code == 401


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [("wrong-token-but-long-enough", 401, "not valid"), ("", 422, "Enter an analytics token"),
     ("x" * 5000, 422, "Enter an analytics token")],
)  # fmt: skip
def test_a_bad_token_shows_the_form_again_with_an_error(
    client: httpx.Client, token: str, status: int, message: str
) -> None:
    response = client.post("/dashboard/sign-in", data={"token": token})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert 'name="token"' in response.text
    assert "set-cookie" not in response.headers
    assert "Traceback" not in response.text


def test_a_tampered_cookie_is_refused(client: httpx.Client) -> None:
    client.post("/dashboard/sign-in", data={"token": TOKEN})
    value = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/api/alerts").status_code == 401


def _request(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


def test_sessions_expire_and_end_when_their_token_is_retired(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = [TOKEN, OTHER_TOKEN]
    sessions = Sessions("s" * 40, lambda: tokens, max_age_s=60)
    response = Response()
    sessions.sign_in(_request(None), response, TOKEN)
    cookie = SimpleCookie(response.headers["set-cookie"])[COOKIE].value
    assert sessions.principal(_request(cookie)) is not None
    assert Sessions("t" * 40, lambda: tokens).principal(_request(cookie)) is None  # another secret
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + 61)
    assert sessions.principal(_request(cookie)) is None  # expired
    monkeypatch.undo()
    tokens.remove(TOKEN)
    assert sessions.principal(_request(cookie)) is None  # its token was removed from ANALYTICS_API_TOKENS
