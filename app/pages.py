"""HTML pages of the app (sign-in and dashboard): one Jinja2 environment and the headers every page carries.

Pages get their own Content-Security-Policy (app/middleware.py leaves HTML to the route): our own script and
stylesheet only, nothing from another origin, no inline script or style. They are per-user: never cached.
"""

from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.session import Sessions
from app.static_assets import asset_url

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {"Content-Security-Policy": CSP, "Cache-Control": "private, no-store"}
SIGN_IN: Final = "/dashboard/sign-in"
DASHBOARD: Final = "/dashboard"

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals["asset"] = asset_url


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.sessions
    return found


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status, headers=PAGE_HEADERS)
