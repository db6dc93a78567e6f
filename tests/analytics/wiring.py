"""The app as the lead will wire it: our routers mounted (only where the composition root does not
mount them yet) and our job modules imported. Used by the conftests of tests/sla, tests/surveys and
tests/analytics."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from storedesk.api import errors
from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.db.session import Database

CHEAP_PASSWORD_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
API_ROUTERS = ("storedesk.sla.endpoints", "storedesk.surveys.endpoints", "storedesk.analytics.endpoints")
WEB_ROUTERS = ("storedesk.surveys.web", "storedesk.analytics.web")
TASKS = ("storedesk.sla.tasks", "storedesk.surveys.tasks", "storedesk.analytics.tasks")


def _included(routes: Any) -> set[int]:
    """Ids of every router included (at any depth) — FastAPI keeps included routers nested."""
    out: set[int] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            out.add(id(inner))
            out |= _included(inner.routes)
    return out


def wire(app: FastAPI, settings: Settings) -> FastAPI:
    for name in TASKS:
        importlib.import_module(name)
    from storedesk.surveys import links

    links.configure(settings.secret_keys, settings.base_url)
    present = _included(app.router.routes)
    for name in API_ROUTERS:
        router: APIRouter = importlib.import_module(name).router
        if id(router) not in present:
            app.include_router(router, prefix="/api/v1", responses=errors.COMMON_RESPONSES)
    for name in WEB_ROUTERS:
        router = importlib.import_module(name).router
        if id(router) not in present:
            app.include_router(router)
    return app


def wired_app(settings: Settings, db: Database | None, **kw: Any) -> FastAPI:
    return wire(create_app(settings, db=db, run_jobs=False, **kw), settings)


async def wired_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = wired_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
