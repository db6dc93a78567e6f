"""Admin pages for connected stores (``/app/stores``): connect a store, watch the backfill, resume or
restart it, disconnect. Server-rendered with the agent UI's base template; the progress panel refreshes
itself (htmx) while a backfill runs. Thin: every change is one call of ``storedesk.commerce.service``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from storedesk.api.deps import Session
from storedesk.commerce import service
from storedesk.commerce.models import Store
from storedesk.commerce.repository import StoreRepository
from storedesk.config import Settings
from storedesk.kit.errors import StoredeskError
from storedesk.web import templating
from storedesk.web.deps import FLASH_COOKIE, AdminWeb, WebRoute, base_context, redirect, undo
from storedesk.web.i18n import N_, _

router = APIRouter(prefix="/app/stores", route_class=WebRoute)

TEMPLATES = Path(__file__).resolve().parent / "templates"

FIELDS = {
    "shopify": (("store_domain", N_("Store domain (x.myshopify.com)")), ("access_token", N_("Admin API access token")), ("api_secret", N_("App client secret (signs webhooks)"))),
    "woocommerce": (("site_url", N_("Site URL (https://…)")), ("consumer_key", N_("Consumer key")), ("consumer_secret", N_("Consumer secret")), ("webhook_secret", N_("Webhook secret (empty: generated)"))),
    "ecwid": (("store_id", N_("Store id")), ("access_token", N_("Access token (secret_…)")), ("client_secret", N_("App client_secret (signs webhooks)"))),
}  # fmt: skip
PLATFORMS = {"shopify": "Shopify", "woocommerce": "WooCommerce", "ecwid": "Ecwid"}
STATUS = {
    "active": N_("Connected"),
    "paused": N_("Paused"),
    "disconnected": N_("Disconnected"),
    "redacted": N_("Removed at the platform's request"),
}
BACKFILL = {
    "not started": N_("not started"),
    "queued": N_("queued"),
    "running": N_("running"),
    "retrying": N_("retrying"),
    "waiting": N_("waiting for the rate limit"),
    "done": N_("done"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
}


def _env() -> Environment:
    """The agent UI's environment (filters, globals, translations) that also finds our templates."""
    base = templating.env
    assert base.loader is not None
    return base.overlay(loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), base.loader]))


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    ctx = base_context(request)
    ctx.update(context)
    response = HTMLResponse(_env().get_template(template).render(ctx), status_code=status_code)
    if ctx["flash"]:
        response.delete_cookie(FLASH_COOKIE, path="/app")  # shown once
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    return response


def _context(stores: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "stores": stores,
        "fields": FIELDS,
        "platforms": PLATFORMS,
        "status_labels": STATUS,
        "backfill_labels": BACKFILL,
        "errors": {},
        "values": {},
        "generated": {},
        **extra,
    }


def _progress(store: Store) -> dict[str, Any]:
    bf = (store.sync_state or {}).get("backfill") or {}
    resources = bf.get("resources") or {}
    total = sum(int(r.get("total") or 0) for r in resources.values())
    done = sum(int(r.get("done") or 0) for r in resources.values())
    percent = 100 if bf.get("status") == "done" else (round(100 * min(done, total) / total) if total else 0)
    return {
        "status": bf.get("status") or "not started",
        "percent": percent,
        "resources": resources,
        "error": bf.get("error"),
    }


async def _stores(request: Request, session: Session, shop_id: int) -> list[dict[str, Any]]:
    settings: Settings = request.app.state.settings
    repo = StoreRepository(session, shop_id)
    out = []
    for store in await repo.all():
        out.append(
            {
                "store": store,
                "counts": await repo.counts(store.id),
                "progress": _progress(store),
                "webhook_url": settings.base_url.rstrip("/") + service.webhook_path(store),
            }
        )
    return out


@router.get("")
async def stores_page(request: Request, ctx: AdminWeb, session: Session) -> Response:
    return _page(request, "commerce/stores.html", _context(await _stores(request, session, ctx.shop_id)))


@router.get("/{store_id}/progress")
async def progress_panel(request: Request, store_id: int, ctx: AdminWeb, session: Session) -> Response:
    store = await StoreRepository(session, ctx.shop_id).get_or_404(store_id)
    return _page(
        request,
        "commerce/progress.html",
        {
            "item": {
                "store": store,
                "progress": _progress(store),
                "counts": await StoreRepository(session, ctx.shop_id).counts(store.id),
            },
            "backfill_labels": BACKFILL,
        },
    )


@router.post("")
async def connect(
    request: Request,
    ctx: AdminWeb,
    session: Session,
    platform: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
    base_url: Annotated[str, Form()] = "",
) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    credentials = {key: str(form.get(key) or "").strip() for key, _ in FIELDS.get(platform, ())}
    credentials = {k: v for k, v in credentials.items() if v}
    await session.commit()  # no transaction stays open while the platform is asked
    try:
        connected = await service.connect_store(
            request.app.state.db,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            platform=platform,
            credentials=credentials,
            name=name.strip() or None,
            base_url=base_url.strip() or None,
            public_base_url=request.app.state.settings.base_url,
            box=request.app.state.box,
        )
    except StoredeskError as exc:
        await undo(session, ctx)
        missing = exc.details.get("missing") if isinstance(exc.details, dict) else None
        errors: dict[str, Any] = {"platform": platform}
        if missing:  # said next to each empty field
            errors["fields"] = {str(name): _("Required.") for name in missing}
        else:
            errors["connect"] = exc.message
        return _page(
            request,
            "commerce/stores.html",
            _context(await _stores(request, session, ctx.shop_id), errors=errors, values=values),
            status_code=422,
        )
    flash = _("Connected %(name)s; the backfill has started.", name=connected.store.name)
    if connected.generated:
        # shown once, like the API does
        return _page(
            request,
            "commerce/stores.html",
            _context(
                await _stores(request, session, ctx.shop_id), generated=connected.generated, notice=flash
            ),
        )
    return redirect("/app/stores", flash=flash, request=request)


@router.post("/{store_id}/reconnect")
async def reconnect(
    request: Request,
    store_id: int,
    ctx: AdminWeb,
    session: Session,
    base_url: Annotated[str, Form()] = "",
) -> Response:
    form = await request.form()
    store = await StoreRepository(session, ctx.shop_id).get_or_404(store_id)
    credentials = {key: str(form.get(key) or "").strip() for key, _label in FIELDS.get(store.platform, ())}
    credentials = {k: v for k, v in credentials.items() if v}
    await session.commit()  # no transaction stays open while the platform is asked
    try:
        store = await service.reconnect_store(
            request.app.state.db,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            store_id=store_id,
            credentials=credentials,
            base_url=base_url.strip() or None,
            public_base_url=request.app.state.settings.base_url,
            box=request.app.state.box,
        )
    except StoredeskError as exc:
        if exc.status_code in (403, 404):
            raise
        await undo(session, ctx)
        return _page(
            request,
            "commerce/stores.html",
            _context(
                await _stores(request, session, ctx.shop_id), errors={f"reconnect-{store_id}": exc.message}
            ),
            status_code=422,
        )
    return redirect(
        "/app/stores", flash=_("Reconnected %(name)s; syncing again.", name=store.name), request=request
    )


@router.post("/{store_id}/backfill")
async def backfill(
    request: Request, store_id: int, ctx: AdminWeb, session: Session, restart: Annotated[str, Form()] = ""
) -> Response:
    await service.request_backfill(
        session, shop_id=ctx.shop_id, actor=ctx.auth.actor, store_id=store_id, restart=restart == "1"
    )
    return redirect("/app/stores", flash=_("The backfill is queued."), request=request)


@router.post("/{store_id}/disconnect")
async def disconnect(request: Request, store_id: int, ctx: AdminWeb, session: Session) -> Response:
    store = await service.disconnect_store(
        session, shop_id=ctx.shop_id, actor=ctx.auth.actor, store_id=store_id
    )
    return redirect("/app/stores", flash=_("Disconnected %(name)s.", name=store.name), request=request)
