"""Live updates (SSE from the real-time broker) and in-app notifications (the bell)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import StreamingResponse

from storedesk.agents import service as agents_service
from storedesk.api.deps import Session
from storedesk.realtime import broker
from storedesk.web import views
from storedesk.web.deps import Web, WebRoute, is_htmx, page, redirect, safe_next

router = APIRouter(prefix="/app", route_class=WebRoute)

KEEPALIVE_SECONDS = 15.0
# a stream ends after this long and the browser reconnects (then re-fetches what it shows): bounds the
# life of a connection, so a restarting server is never held up by open streams
STREAM_SECONDS = 300.0
LIVE_TYPES = ("conversation.", "message.", "customer.")
CUSTOMER_TYPES = ("order.", "customer.")


def sse_names(event: dict[str, Any], agent_id: int) -> list[str]:
    """The SSE event names a broker event is sent under (what page fragments listen to)."""
    kind = str(event.get("type", ""))
    conversation_id = event.get("conversation_id")
    if kind == "presence.changed":
        return [f"presence-{conversation_id}"] if conversation_id else []
    if kind == "notification.created":
        return ["bell"] if event.get("agent_id") == agent_id else []
    names: list[str] = []
    if kind.startswith(LIVE_TYPES):
        names.append("inbox")
        if conversation_id:
            names.append(f"conv-{conversation_id}")
            # finer names, so a fragment refreshes only for what it shows: the header and the customer
            # sidebar on conversation changes, the sidebar's conversation list on messages too
            if kind.startswith("conversation."):
                names.append(f"conv-{conversation_id}-meta")
            elif kind.startswith("message."):
                names.append(f"conv-{conversation_id}-msg")
    customer_id = event.get("customer_id")
    if customer_id and kind.startswith(CUSTOMER_TYPES):
        # the customer sidebar: order actions, synced orders (webhooks), profile changes — in every browser
        names.append(f"customer-{customer_id}")
    return names


def sse_frame(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/events")
async def events(request: Request, ctx: Web) -> Response:
    shop_id, agent_id = ctx.shop_id, ctx.agent.id
    queue = broker.subscribe(shop_id)

    async def stream() -> AsyncIterator[str]:
        started = time.monotonic()
        try:
            yield "retry: 2000\n: connected\n\n"
            while time.monotonic() - started < STREAM_SECONDS:
                if await request.is_disconnected():
                    break
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                for name in sse_names(event, agent_id):
                    yield sse_frame(name, {k: v for k, v in event.items() if k != "agent_id"})
        finally:
            broker.unsubscribe(shop_id, queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/notifications")
async def notifications(request: Request, ctx: Web, session: Session, open: str = "") -> Response:
    data = await views.bell(session, ctx.shop_id, ctx.agent.id, with_items=open == "1")
    return page(request, "partials/bell.html", {"bell": data, "open": open == "1"})


@router.post("/notifications/read")
async def notifications_read(
    request: Request,
    ctx: Web,
    session: Session,
    notification_id: Annotated[int | None, Form()] = None,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    await agents_service.mark_notifications_read(
        session, ctx.auth, [notification_id] if notification_id is not None else None
    )
    if is_htmx(request):
        await session.flush()
        data = await views.bell(session, ctx.shop_id, ctx.agent.id, with_items=True)
        return page(request, "partials/bell.html", {"bell": data, "open": True})
    return redirect(safe_next(next), request=request)
