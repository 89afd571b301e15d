"""The dashboard's sign-in and sign-out forms: an analytics token in, a signed session cookie out (app/session.py).

A bad or missing token shows the form again with the error (401 / 422), never a stack trace. Sign-out is a POST
(a link could be triggered cross-site; the SameSite=Strict cookie would not be sent anyway).
"""

from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.analytics_auth import token_is_valid
from app.pages import DASHBOARD, PAGE_HEADERS, SIGN_IN, render, sessions

MAX_TOKEN_CHARS: Final = 4096
router = APIRouter(include_in_schema=False)


def sign_in_form(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    hours = sessions(request).max_age_s // 3600
    return render(request, "sign_in.html", {"error": error, "hours": hours}, status)


@router.get(SIGN_IN)
async def sign_in_page(request: Request) -> Response:
    if sessions(request).principal(request) is not None:
        return RedirectResponse(DASHBOARD, status_code=303, headers=PAGE_HEADERS)
    return sign_in_form(request)


@router.post(SIGN_IN)
async def sign_in(request: Request, token: Annotated[str, Form()] = "") -> Response:
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_CHARS:
        return sign_in_form(request, "Enter an analytics token.", 422)
    if not token_is_valid(request.app.state.settings, token):
        return sign_in_form(request, "That token is not valid. Check it and try again.", 401)
    response = RedirectResponse(DASHBOARD, status_code=303, headers=PAGE_HEADERS)
    sessions(request).sign_in(request, response, token)
    return response


@router.post("/dashboard/sign-out")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse(SIGN_IN, status_code=303, headers=PAGE_HEADERS)
    sessions(request).sign_out(request, response)
    return response
