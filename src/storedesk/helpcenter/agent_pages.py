"""Rendering the agent-side pages of the help center and the returns queue inside the agent UI.

The pages extend the agent workspace's ``app.html`` (session cookie, CSRF, the shared look); they are
rendered by an overlay of the workspace's Jinja2 environment that also sees this package's and the
returns package's templates, with the same filters, globals and translations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

import storedesk.web.routes  # noqa: F401  (registers static_url and friends on the workspace environment)
from storedesk.web.deps import base_context
from storedesk.web.templating import env as web_env

_DIRS = [
    Path(__file__).resolve().parent / "templates",
    Path(__file__).resolve().parent.parent / "returns" / "templates",
]


def _environment() -> Environment:
    assert web_env.loader is not None
    return web_env.overlay(loader=ChoiceLoader([*(FileSystemLoader(str(d)) for d in _DIRS), web_env.loader]))


env = _environment()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def agent_page(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    ctx = base_context(request)
    ctx.update(context or {})
    response = HTMLResponse(env.get_template(template).render(ctx), status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CSP
    return response
