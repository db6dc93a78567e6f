"""The agent workspace (/app): server-rendered HTML with htmx. Mounted by storedesk.api.app.

Front-end packages (htmx, its SSE extension, Chart.js) come from npm (package.json at the repository
root, ``npm ci``) and are served from node_modules (``STOREDESK_NODE_MODULES``); our own CSS and
JavaScript live in ``static/``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from storedesk.web import (
    assistant_routes,
    auth_routes,
    conversation_routes,
    inbox_routes,
    labels,
    live,
    order_routes,
    settings_routes,
)
from storedesk.web.config import node_modules_dir
from storedesk.web.templating import env

STATIC_DIR = Path(__file__).resolve().parent / "static"
# the only files served from node_modules: name in the page → path inside node_modules
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "htmx-ext-sse.js": "htmx-ext-sse/dist/sse.min.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=64)
def _fingerprint(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    path = STATIC_DIR / name
    version = _fingerprint(str(path), path.stat().st_mtime) if path.is_file() else "0"
    return f"/app/static/{name}?v={version}"


def vendor_url(name: str) -> str:
    return f"/app/vendor/{name}"


env.globals.update(static_url=static_url, vendor_url=vendor_url, labels=labels)


@router.get("/app/static/{name}")
async def static_file(name: str) -> Response:
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        return Response(status_code=404)
    return FileResponse(
        path,
        media_type=STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get("/app/vendor/{name}")
async def vendor_file(name: str) -> Response:
    relative = VENDOR_FILES.get(name)
    path = node_modules_dir() / relative if relative else None
    if path is None or not path.is_file():
        return Response(
            f"/* {name} is not installed: run `npm ci` (or set STOREDESK_NODE_MODULES) */",
            status_code=404,
            media_type="text/javascript",
        )
    return FileResponse(
        path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


for module in (
    auth_routes,
    inbox_routes,
    conversation_routes,
    order_routes,
    assistant_routes,
    live,
    settings_routes,
):
    router.include_router(module.router)
