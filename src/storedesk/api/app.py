"""The composition root: settings → database → adapters → routers, and the embedded job runner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

# job handlers register themselves when their module is imported
from storedesk import __version__, analytics, commerce, helpcenter, returns, sla, surveys, tracking  # noqa: F401
from storedesk.agents.endpoints import auth_router
from storedesk.agents.endpoints import router as agents_router
from storedesk.analytics import endpoints as analytics_api
from storedesk.analytics import tasks as _analytics_tasks  # noqa: F401
from storedesk.analytics import web as analytics_web
from storedesk.api import errors
from storedesk.api.hotroutes import HotRoutes, HotRouteStats
from storedesk.api.middleware import BodySizeLimit
from storedesk.assistant import endpoints as assistant_api
from storedesk.assistant import rewriter as assistant_rewriter
from storedesk.assistant import service as assistant_service
from storedesk.assistant import tasks as _assistant_tasks  # noqa: F401
from storedesk.channels import email_glue, meta
from storedesk.channels.endpoints import router as channels_router
from storedesk.channels.webhooks import router as channel_webhooks_router
from storedesk.channels.widget.endpoints import upload_body_limit
from storedesk.commerce import actions_endpoints as commerce_actions
from storedesk.commerce import tasks as commerce_tasks
from storedesk.commerce import web as commerce_web
from storedesk.commerce import webhooks as commerce_webhooks
from storedesk.commerce.endpoints import router as commerce_router
from storedesk.config import Settings, get_settings
from storedesk.conversations import tasks as conversation_tasks
from storedesk.conversations.endpoints import router as conversations_router
from storedesk.customers.endpoints import router as customers_router
from storedesk.db.migrate import current_revision
from storedesk.db.session import Database
from storedesk.helpcenter import endpoints as helpcenter_api
from storedesk.helpcenter import web as helpcenter_web
from storedesk.jobs.endpoints import router as jobs_router
from storedesk.jobs.runner import JobRunner
from storedesk.kit import files, ratelimit
from storedesk.kit.crypto import SecretBox
from storedesk.realtime import PgListener
from storedesk.returns import endpoints as returns_api
from storedesk.returns import tasks as _returns_tasks  # noqa: F401
from storedesk.returns import web as returns_web
from storedesk.shops.endpoints import router as shops_router
from storedesk.sla import endpoints as sla_api
from storedesk.sla import tasks as _sla_tasks  # noqa: F401
from storedesk.surveys import endpoints as surveys_api
from storedesk.surveys import links as survey_links
from storedesk.surveys import tasks as _surveys_tasks  # noqa: F401
from storedesk.surveys import web as surveys_web
from storedesk.tracking import endpoints as tracking_api
from storedesk.tracking import web as tracking_web
from storedesk.web.routes import router as web_router

log = logging.getLogger("storedesk")


class Health(BaseModel):
    status: str
    version: str
    database: str
    revision: str | None
    jobs: str


# The API's routers, all under /api/v1. Each is included into the app directly (not through one /api/v1
# router): every level of nested routers is matched again on each request.
API_ROUTERS = (
    auth_router,
    agents_router,
    shops_router,
    channels_router,
    customers_router,
    conversations_router,
    commerce_router,
    commerce_actions.router,
    jobs_router,
    analytics_api.router,
    surveys_api.router,
    sla_api.router,
    helpcenter_api.router,
    tracking_api.router,
    returns_api.router,
    assistant_api.router,
)
API_PREFIX = "/api/v1"


# Server-rendered pages (agent workspace and public self-service); each router carries its own prefix.
# They are not part of the API description.
PAGE_ROUTERS = (
    web_router,
    analytics_web.router,
    surveys_web.router,
    helpcenter_web.router,
    tracking_web.router,
    returns_web.router,
    commerce_web.router,
)


def configure_adapters(settings: Settings, db: Database) -> SecretBox:
    """Wire the adapters every process that runs jobs needs (the app and each ``storedesk worker``):
    credential decryption for delivery, the WhatsApp 24-hour window check, threaded email replies."""
    box = SecretBox(settings.secret_keys)
    files.configure(settings.data_dir)
    ratelimit.configure(settings.redis_url)
    conversation_tasks.configure(box)
    commerce_tasks.configure(box)
    survey_links.configure(settings.secret_keys, settings.base_url)
    assistant_service.configure(settings.secret_keys, settings.base_url)
    assistant_service.configure_rewriter(assistant_rewriter.from_settings(settings))
    meta.configure(db, box=box, data_dir=settings.data_dir)
    email_glue.configure(db, secret_keys=settings.secret_keys, data_dir=settings.data_dir)
    return box


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    run_jobs: bool | None = None,
    realtime_pg: bool = True,
    hot_routes: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    database = db or Database(settings.resolved_database_url)
    box = configure_adapters(settings, database)
    embedded_jobs = settings.jobs_mode == "embedded" if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner: JobRunner | None = None
        task: asyncio.Task[Any] | None = None
        listener = PgListener(database.url) if database.kind == "postgresql" and realtime_pg else None
        if listener is not None:
            await listener.start()
        intake = await email_glue.start_email_intake(app.state) if settings.smtp_port else None
        if embedded_jobs:
            # load the assistant's models in the background so the first answer is fast
            app.state.assistant_warm = asyncio.create_task(
                assistant_service.warm_if_used(database), name="assistant-warm"
            )
            runner = JobRunner(database, concurrency=4, poll_interval=1.0)
            task = asyncio.create_task(runner.run_forever(), name="storedesk-jobs")
        try:
            yield
        finally:
            warming = getattr(app.state, "assistant_warm", None)
            if warming is not None and not warming.done():
                warming.cancel()
            if runner is not None and task is not None:
                runner.stop()
                await asyncio.wait_for(task, timeout=10)
            if intake is not None:
                await intake.stop()
            if listener is not None:
                await listener.stop()
            if db is None:
                await database.dispose()

    app = FastAPI(
        title="storedesk",
        version=__version__,
        summary="Self-hosted customer service for online shops",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.db = database
    app.state.box = box
    errors.install(app)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=errors.COMMON_RESPONSES)
    app.include_router(channel_webhooks_router, responses=errors.COMMON_RESPONSES)
    app.include_router(commerce_webhooks.router, responses=errors.COMMON_RESPONSES)
    for router in PAGE_ROUTERS:
        app.include_router(router, include_in_schema=False)

    @app.get("/health", response_model=Health, tags=["health"], summary="Liveness and database state")
    async def health() -> Health:
        revision = await current_revision(database.engine)
        return Health(
            status="ok",
            version=__version__,
            database=database.kind,
            revision=revision,
            jobs="embedded" if embedded_jobs else "external",
        )

    # the lean transport for the hot routes (ADR 0008), inside the body limit and the 500 handler
    app.state.hot_routes = HotRouteStats()
    if hot_routes:
        app.add_middleware(HotRoutes, stats=app.state.hot_routes)
    # widget uploads may be larger than the app-wide limit
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, path_limit=upload_body_limit)
    return app
