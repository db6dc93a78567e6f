"""``/api/v1`` routes for connected stores and order actions (mounted under ``/api/v1`` by the app).

Thin: parse, authorize, call one service function, serialise. Order actions and the connection test call
the platform, so the request's own transaction is committed first (no transaction stays open across
network I/O, and SQLite's single connection is free for the service's transactions).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.security import AuthContext
from storedesk.api.deps import AdminAuth, AgentAuth, Auth, Box, Session, get_db
from storedesk.api.params import IdPath
from storedesk.commerce import action_requests, service, sync
from storedesk.commerce.connectors import csv_import
from storedesk.commerce.connectors.protocol import MalformedPayload
from storedesk.commerce.endpoints import order_out
from storedesk.commerce.models import Store
from storedesk.commerce.repository import OrderRepository, StoreRepository
from storedesk.commerce.schemas import (
    ActionResultOut,
    ActionsOut,
    BackfillOut,
    BackfillQueuedOut,
    BackfillRequest,
    CancelIn,
    Confirmable,
    ImportIn,
    ImportOut,
    NoteIn,
    RefundIn,
    ResendIn,
    ResourceProgressOut,
    ReturnIn,
    ShippingAddressIn,
    StoreConnect,
    StoreConnectedOut,
    StoreOut,
    TagsIn,
    WebhooksOut,
)
from storedesk.db.session import Database
from storedesk.jobs.registry import enqueue
from storedesk.kit.crypto import SecretBox
from storedesk.kit.errors import ValidationFailed

router = APIRouter(tags=["stores and order actions"])

Db = Annotated[Database, Depends(get_db)]

PREVIEW: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not confirmed (`confirmation_required`, with `details.preview`), or busy"}
}


async def _release(session: AsyncSession) -> None:
    """End the request's transaction before the platform is called."""
    await session.commit()


def _backfill(store: Store) -> BackfillOut:
    bf = (store.sync_state or {}).get("backfill") or {}
    resources = {
        name: ResourceProgressOut(
            done=int(r.get("done") or 0), total=r.get("total"), complete=bool(r.get("complete"))
        )
        for name, r in (bf.get("resources") or {}).items()
    }
    known = [r for r in resources.values() if r.total is not None]
    percent = None
    if resources and len(known) == len(resources):
        total = sum(r.total or 0 for r in known)
        percent = 100.0 if total == 0 else round(100.0 * min(sum(r.done for r in known), total) / total, 1)
    return BackfillOut(
        status=str(bf.get("status") or "not_started"),
        run=bf.get("run"),
        started_at=bf.get("started_at"),
        finished_at=bf.get("finished_at"),
        error=bf.get("error"),
        percent=100.0 if bf.get("status") == "done" else percent,
        resources=resources,
    )


async def _store_out(session: AsyncSession, store: Store, *, counts: bool = True) -> StoreOut:
    out = StoreOut.model_validate(store)
    out.webhook_path = service.webhook_path(store)
    out.warnings = [str(w) for w in (store.sync_state or {}).get("warnings") or []]
    out.backfill = _backfill(store)
    hooks = (store.sync_state or {}).get("webhooks")
    out.webhooks = WebhooksOut.model_validate(hooks) if isinstance(hooks, dict) else None
    if counts:
        out.counts = await StoreRepository(session, store.shop_id).counts(store.id)
    return out


@router.get("/stores", response_model=list[StoreOut], summary="Connected stores with sync progress")
async def list_stores(ctx: Auth, session: Session) -> list[StoreOut]:
    return [
        await _store_out(session, s, counts=False) for s in await StoreRepository(session, ctx.shop_id).all()
    ]


@router.post(
    "/stores",
    response_model=StoreConnectedOut,
    status_code=201,
    summary="Connect a store (admin): tests the credentials, then backfills in the background",
    responses={422: {"description": "The connection test failed; the message says why"}},
)
async def connect_store(
    body: StoreConnect, request: Request, ctx: AdminAuth, session: Session, db: Db, box: Box
) -> StoreConnectedOut:
    credentials = body.validated_credentials()
    await _release(session)
    connected = await service.connect_store(
        db,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        platform=body.platform,
        credentials=credentials,
        name=body.name,
        base_url=body.base_url,
        backfill=body.backfill,
        public_base_url=request.app.state.settings.base_url,
        box=box,
    )
    store = await StoreRepository(session, ctx.shop_id).get_or_404(connected.store.id)
    out = StoreConnectedOut.model_validate((await _store_out(session, store)).model_dump())
    out.generated = connected.generated
    return out


@router.get("/stores/{store_id}", response_model=StoreOut, summary="A store: counts and backfill progress")
async def get_store(store_id: IdPath, ctx: Auth, session: Session) -> StoreOut:
    return await _store_out(session, await StoreRepository(session, ctx.shop_id).get_or_404(store_id))


@router.delete("/stores/{store_id}", response_model=StoreOut, summary="Disconnect a store (admin)")
async def disconnect_store(store_id: IdPath, ctx: AdminAuth, session: Session) -> StoreOut:
    store = await service.disconnect_store(session, shop_id=ctx.shop_id, actor=ctx.actor, store_id=store_id)
    return await _store_out(session, store)


@router.post(
    "/stores/{store_id}/backfill",
    response_model=BackfillQueuedOut,
    status_code=202,
    summary="Resume (or restart) the backfill (admin)",
)
async def backfill(
    store_id: IdPath, body: BackfillRequest, ctx: AdminAuth, session: Session
) -> BackfillQueuedOut:
    run = await service.request_backfill(
        session, shop_id=ctx.shop_id, actor=ctx.actor, store_id=store_id, restart=body.restart
    )
    return BackfillQueuedOut(store_id=store_id, run=run)


@router.post(
    "/stores/{store_id}/webhooks",
    response_model=WebhooksOut,
    summary="Subscribe the platform's webhooks to this store's address now (admin)",
)
async def register_webhooks(
    store_id: IdPath, request: Request, ctx: AdminAuth, session: Session, db: Db, box: Box
) -> WebhooksOut:
    await _release(session)
    state = await service.register_webhooks(
        db,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        store_id=store_id,
        public_base_url=request.app.state.settings.base_url,
        box=box,
    )
    return WebhooksOut.model_validate(state)


@router.post(
    "/stores/{store_id}/reconcile", status_code=202, summary="Re-read recently changed orders now (admin)"
)
async def reconcile(store_id: IdPath, ctx: AdminAuth, session: Session) -> dict[str, Any]:
    store = await StoreRepository(session, ctx.shop_id).get_or_404(store_id)
    await enqueue(session, sync.RECONCILE_JOB, {"store_id": store.id}, shop_id=ctx.shop_id)
    return {"store_id": store.id, "queued": True}


@router.post(
    "/stores/imports",
    response_model=ImportOut,
    status_code=201,
    summary="Import orders, products and customers of any other platform as JSON (admin)",
)
async def import_store(body: ImportIn, ctx: AdminAuth, session: Session, db: Db) -> ImportOut:
    try:
        data = csv_import.parse(
            orders=body.orders or None,
            products=body.products or None,
            customers=body.customers or None,
            currency=body.currency,
        )
    except MalformedPayload as exc:
        raise ValidationFailed(exc.message, details=exc.details) from exc
    await _release(session)
    store_id = await service.import_records(db, shop_id=ctx.shop_id, actor=ctx.actor, name=None, data=data)
    return ImportOut(
        store_id=store_id, orders=len(data.orders), products=len(data.products), customers=len(data.customers)
    )


# --- order actions ------------------------------------------------------------------------------------------


async def _result(session: AsyncSession, shop_id: int, result: service.ActionResult) -> ActionResultOut:
    order = await OrderRepository(session, shop_id).get_or_404(result.order_id)
    return ActionResultOut(
        action=result.action.value,
        status=result.status,
        message=result.message,
        order_id=result.order_id,
        refund_id=result.refund_id,
        return_id=result.return_id,
        event_id=result.event_id,
        order=await order_out(session, shop_id, order),
    )


@router.get(
    "/orders/{order_id}/actions", response_model=ActionsOut, summary="What can be done with this order now"
)
async def order_actions(order_id: IdPath, ctx: Auth, session: Session) -> ActionsOut:
    found = await service.available_actions(session, shop_id=ctx.shop_id, order_id=order_id)
    return ActionsOut(**found.__dict__)


async def _perform(
    order_id: int, body: Confirmable, ctx: AuthContext, session: AsyncSession, db: Database, box: SecretBox
) -> ActionResultOut:
    await _release(session)
    result = await action_requests.perform(
        db, shop_id=ctx.shop_id, actor=ctx.actor, order_id=order_id, body=body, box=box
    )
    return await _result(session, ctx.shop_id, result)


@router.post(
    "/orders/{order_id}/actions/cancel", response_model=ActionResultOut, responses=PREVIEW, summary="Cancel"
)
async def cancel(
    order_id: IdPath, body: CancelIn, ctx: AgentAuth, session: Session, db: Db, box: Box
) -> ActionResultOut:
    return await _perform(order_id, body, ctx, session, db, box)


@router.post(
    "/orders/{order_id}/actions/refund",
    response_model=ActionResultOut,
    responses=PREVIEW,
    summary="Refund lines, shipping or an amount",
)
async def refund(
    order_id: IdPath, body: RefundIn, ctx: AgentAuth, session: Session, db: Db, box: Box
) -> ActionResultOut:
    return await _perform(order_id, body, ctx, session, db, box)


@router.post(
    "/orders/{order_id}/actions/shipping-address",
    response_model=ActionResultOut,
    responses=PREVIEW,
    summary="Change the shipping address (until shipped)",
)
async def shipping_address(
    order_id: IdPath, body: ShippingAddressIn, ctx: AgentAuth, session: Session, db: Db, box: Box
) -> ActionResultOut:
    return await _perform(order_id, body, ctx, session, db, box)


@router.post(
    "/orders/{order_id}/actions/note", response_model=ActionResultOut, responses=PREVIEW, summary="Add a note"
)
async def note(
    order_id: IdPath, body: NoteIn, ctx: AgentAuth, session: Session, db: Db, box: Box
) -> ActionResultOut:
    return await _perform(order_id, body, ctx, session, db, box)


@router.post(
    "/orders/{order_id}/actions/tags", response_model=ActionResultOut, responses=PREVIEW, summary="Add tags"
)
async def tags(
    order_id: IdPath, body: TagsIn, ctx: AgentAuth, session: Session, db: Db, box: Box
) -> ActionResultOut:
    return await _perform(order_id, body, ctx, session, db, box)


@router.post(
    "/orders/{order_id}/actions/returns",
    response_model=ActionResultOut,
    responses=PREVIEW,
    summary="Open a return",
)
async def returns(
    order_id: IdPath, body: ReturnIn, ctx: AgentAuth, session: Session, db: Db, box: Box
) -> ActionResultOut:
    return await _perform(order_id, body, ctx, session, db, box)


@router.post(
    "/orders/{order_id}/actions/resend-confirmation",
    response_model=ActionResultOut,
    responses=PREVIEW,
    summary="Send the order confirmation again",
)
async def resend_confirmation(
    order_id: IdPath, body: ResendIn, ctx: AgentAuth, session: Session, db: Db, box: Box
) -> ActionResultOut:
    return await _perform(order_id, body, ctx, session, db, box)
