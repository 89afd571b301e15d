"""ASGI entry point: `uvicorn app.main:app`. A bad environment stops the start with the variable named."""

import sys

from fastapi import FastAPI

from app.factory import create_app
from app.settings import ConfigError, load_settings


def _from_environment() -> FastAPI:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"app: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return create_app(settings)


app = _from_environment()
