"""The dashboard's own script and stylesheet, served by the app under content-hashed names.

A hashed name lets the edge cache them for a year (`/static/` is immutable in app/middleware.py) while a deploy
changes the URL; the page references them through `asset(name)`. Nothing is fetched from another origin.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

DIRECTORY: Final = Path(__file__).with_name("static")
TYPES: Final = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    url: str
    body: bytes
    content_type: str


def _load() -> dict[str, Asset]:
    assets = {}
    for path in sorted(DIRECTORY.iterdir()):
        if path.suffix not in TYPES:
            continue
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:12]
        assets[path.name] = Asset(f"/static/{path.stem}.{digest}{path.suffix}", body, TYPES[path.suffix])
    return assets


ASSETS: Final = _load()
_BY_URL: Final = {asset.url.rsplit("/", 1)[1]: asset for asset in ASSETS.values()}
router = APIRouter()


def asset_url(name: str) -> str:
    return ASSETS[name].url


@router.get("/static/{name}", include_in_schema=False)
async def static_asset(name: str) -> Response:
    asset = _BY_URL.get(name)
    if asset is None:
        raise HTTPException(status_code=404, detail="no such asset")
    return Response(asset.body, media_type=asset.content_type)
