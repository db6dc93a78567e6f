"""Website chat widget transport: the script, its JSON endpoints, the SSE stream and the demo storefront.

The widget runs on the shop's own site (another origin): every ``/widget/{shop}/…`` answer carries CORS
headers for the chat channel's ``allowed_origins`` setting (default: any site). No cookies are used; the
visitor token travels in the body (or the query, for EventSource and file links).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import Field

from storedesk.api.deps import Session
from storedesk.channels.models import ChatSession
from storedesk.channels.webhooks.kit import RateLimit, client_ip
from storedesk.channels.widget import service
from storedesk.db.session import Database
from storedesk.helpcenter.text import LANGUAGES
from storedesk.kit.errors import Forbidden, StoredeskError, TooManyRequests
from storedesk.kit.schemas import In
from storedesk.realtime import broker, publish_after_commit
from storedesk.shops.service import get_shop_by_slug
from storedesk.tracking import limits as tracking_limits
from storedesk.tracking import service as tracking_service
from storedesk.tracking.links import LinkSigner

router = APIRouter(tags=["chat widget"])

STATIC = Path(__file__).resolve().parent / "static"
SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"
KEEPALIVE_SECONDS = 15.0

session_limit = RateLimit("30/minute", "widget.session")
message_limit = RateLimit("20/minute", "widget.message")
ip_limit = RateLimit("120/minute", "widget.ip")
upload_limit = RateLimit("10/minute", "widget.upload")
typing_limit = RateLimit("60/minute", "widget.typing")


def reset_limits() -> None:
    for limit in (session_limit, message_limit, ip_limit, upload_limit, typing_limit):
        limit.reset()


UPLOAD_MAX_BYTES = service.MAX_ATTACHMENT_BYTES + 64 * 1024


def upload_body_limit(path: str) -> int | None:
    """For the composition root's body limit (``storedesk.api.middleware.BodySizeLimit``): widget uploads
    may be larger than the app-wide limit; ``None`` for every other path."""
    if path.startswith("/widget/") and path.endswith("/attachments"):
        return UPLOAD_MAX_BYTES
    return None


# --- CORS ----------------------------------------------------------------------------------------------------


def _cors_headers(request: Request, allowed: list[str] | None) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not allowed or "*" in allowed:
        value = "*"
    elif origin and origin in allowed:
        value = origin
    else:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": value,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def _check_origin(request: Request, allowed: list[str] | None) -> None:
    origin = request.headers.get("origin")
    if allowed and "*" not in allowed and origin and origin not in allowed:
        host_origin = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin != host_origin:
            raise Forbidden("this site may not use the chat widget", details={"origin": origin})


def _json(request: Request, who_allowed: list[str] | None, body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_cors_headers(request, who_allowed))


def _allowed(settings: dict[str, Any]) -> list[str] | None:
    value = settings.get("allowed_origins")
    return [str(v) for v in value] if isinstance(value, list) else None


# --- schemas -------------------------------------------------------------------------------------------------


class SessionIn(In):
    token: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=35)


class TokenIn(In):
    token: str = Field(min_length=1, max_length=200)


class IdentifyIn(TokenIn):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    order_number: str | None = Field(default=None, max_length=64)


class MessageIn(TokenIn):
    text: str = Field(max_length=service.MAX_TEXT)
    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    page_url: str | None = Field(default=None, max_length=2000)


class TrackIn(TokenIn):
    tz: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8)


class TypingIn(TokenIn):
    typing: bool = True


class OfflineIn(In):
    token: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    text: str = Field(min_length=1, max_length=service.MAX_TEXT)
    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _secrets(request: Request) -> list[str]:
    keys: list[str] = request.app.state.settings.secret_keys
    return keys


# --- static --------------------------------------------------------------------------------------------------


@router.get("/widget/storedesk.js", include_in_schema=False)
async def script() -> FileResponse:
    return FileResponse(
        STATIC / "storedesk.js",
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget/storedesk.css", include_in_schema=False)
async def stylesheet() -> FileResponse:
    return FileResponse(
        STATIC / "storedesk.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/demo/store", include_in_schema=False, response_class=HTMLResponse)
async def demo_store(shop: Annotated[str, Query(pattern=SLUG)] = "demo") -> HTMLResponse:
    html = (STATIC / "demo_store.html").read_text(encoding="utf-8").replace("{{SHOP}}", shop)
    return HTMLResponse(html)


@router.options("/widget/{slug}/{rest:path}", include_in_schema=False)
async def preflight(slug: str, rest: str, request: Request, session: Session) -> Response:
    try:
        _, channel = await service.shop_and_channel(session, slug, request.app.state.box)
        allowed = _allowed(channel.settings)
    except StoredeskError:
        allowed = None
    return Response(status_code=204, headers=_cors_headers(request, allowed))


# --- JSON endpoints ------------------------------------------------------------------------------------------


@router.get(
    "/widget/{slug}/config", summary="Widget configuration: shop name, languages, whether agents are online"
)
async def config(slug: str, request: Request, session: Session) -> JSONResponse:
    shop = await get_shop_by_slug(session, slug)
    online = await service.agents_online(session, shop)
    return _json(request, None, {"shop": shop.name, "languages": shop.languages, "online": online})


@router.post("/widget/{slug}/session", summary="Start or resume a visitor session")
async def start(slug: str, body: SessionIn, request: Request, session: Session) -> JSONResponse:
    session_limit.check("ip", client_ip(request))
    who = await service.start_session(
        session,
        slug=slug,
        box=request.app.state.box,
        secret_keys=_secrets(request),
        token=body.token,
        language=body.language,
    )
    allowed = _allowed(who.channel.settings)
    _check_origin(request, allowed)
    messages = await service.visible_messages(session, who, limit=200)
    return _json(
        request,
        allowed,
        {
            "token": who.token,
            "visitor_id": who.chat.visitor_id,
            "conversation_id": who.chat.conversation_id,
            "shop": who.shop.name,
            "online": await service.agents_online(session, who.shop),
            "identified": {
                "name": who.chat.name,
                "email": who.chat.email,
                "order_number": who.chat.order_number,
            },
            "messages": [service.message_json(m, n, slug, who.token) for m, n in messages],
            "max_attachment_bytes": service.MAX_ATTACHMENT_BYTES,
        },
    )


@router.post("/widget/{slug}/identify", summary="Pre-chat identification: name, email and/or order number")
async def identify(slug: str, body: IdentifyIn, request: Request, session: Session) -> JSONResponse:
    message_limit.check("identify", client_ip(request))
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=body.token
    )
    _check_origin(request, _allowed(who.channel.settings))
    chat = await service.identify(
        session, who, name=body.name, email=body.email, order_number=body.order_number
    )
    return _json(
        request,
        _allowed(who.channel.settings),
        {"identified": {"name": chat.name, "email": chat.email, "order_number": chat.order_number}},
    )


@router.post("/widget/{slug}/messages", status_code=201, summary="A visitor's message")
async def post_message(slug: str, body: MessageIn, request: Request, session: Session) -> JSONResponse:
    ip_limit.check(client_ip(request))
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=body.token
    )
    allowed = _allowed(who.channel.settings)
    _check_origin(request, allowed)
    message_limit.check("visitor", who.chat.visitor_id)
    message = await service.post_message(
        session, who, text=body.text, client_id=body.client_id, page_url=body.page_url
    )
    return _json(
        request,
        allowed,
        {
            "message": service.message_json(message, None, slug, who.token),
            "conversation_id": message.conversation_id,
        },
        201,
    )


@router.get("/widget/{slug}/messages", summary="The visitor's conversation after a message id")
async def list_messages(
    slug: str,
    request: Request,
    session: Session,
    token: Annotated[str, Query(max_length=200)],
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=token
    )
    rows = await service.visible_messages(session, who, after_id=after_id)
    return _json(
        request,
        _allowed(who.channel.settings),
        {"messages": [service.message_json(m, n, slug, who.token) for m, n in rows]},
    )


@router.post("/widget/{slug}/attachments", status_code=201, summary="Send an image or PDF")
async def upload(
    slug: str,
    request: Request,
    session: Session,
    token: Annotated[str, Form(max_length=200)],
    file: Annotated[UploadFile, File()],
    client_id: Annotated[str, Form(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    text: Annotated[str, Form(max_length=service.MAX_TEXT)] = "",
) -> JSONResponse:
    ip_limit.check(client_ip(request))
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=token
    )
    allowed = _allowed(who.channel.settings)
    _check_origin(request, allowed)
    upload_limit.check("visitor", who.chat.visitor_id)
    data = await file.read(service.MAX_ATTACHMENT_BYTES + 1)
    row = await service.store_attachment(
        session,
        data_dir=request.app.state.settings.data_dir,
        shop_id=who.shop.id,
        filename=file.filename or "file",
        data=data,
    )
    message = await service.post_message(
        session,
        who,
        text=text,
        client_id=client_id,
        attachments=[
            {
                "attachment_id": row.id,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
            }
        ],
    )
    return _json(request, allowed, {"message": service.message_json(message, None, slug, who.token)}, 201)


@router.get("/widget/{slug}/attachments/{attachment_id}", summary="A file of the visitor's conversation")
async def download(
    slug: str,
    attachment_id: int,
    request: Request,
    session: Session,
    token: Annotated[str, Query(max_length=200)],
) -> FileResponse:
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=token
    )
    row = await service.visitor_attachment(session, who, attachment_id)
    return FileResponse(
        service.storage_path(request.app.state.settings.data_dir, row.storage_key),
        media_type=row.content_type,
        filename=row.filename,
        content_disposition_type="inline" if row.content_type.startswith("image/") else "attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            **_cors_headers(request, _allowed(who.channel.settings)),
        },
    )


@router.post("/widget/{slug}/track", summary="The order tracking page for the widget's panel")
async def track(slug: str, body: TrackIn, request: Request, session: Session) -> JSONResponse:
    """Where the widget's "Track my order" opens: for a visitor who identified with an email address and
    an order number that belong together, the signed tracking page; otherwise the tracking form. The
    lookup counts against the tracking page's limits and a mismatch answers exactly like the form does
    (nothing tells whether the order number exists)."""
    ip_limit.check(client_ip(request))
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=body.token
    )
    allowed = _allowed(who.channel.settings)
    _check_origin(request, allowed)
    language = body.language if body.language in LANGUAGES else None
    query = {"embed": "1", **({"lang": language} if language else {})}
    url = f"/track/{who.shop.slug}?{urlencode(query)}"
    found = False
    if who.chat.email and who.chat.order_number:
        number = tracking_service.normalise_number(who.chat.order_number)
        if not tracking_limits.lookup_allowed(request, who.shop.id, number):
            raise TooManyRequests("too many attempts; try again shortly", details={"retry_after": 60})
        order = await tracking_service.find_order(
            session, shop_id=who.shop.id, number=who.chat.order_number, email=who.chat.email
        )
        if order is not None:
            found = True
            path = tracking_service.tracking_path(
                LinkSigner(_secrets(request)), who.shop.slug, who.shop.id, order.id
            )
            if body.tz:
                query["tz"] = body.tz
            url = f"{path}?{urlencode(query)}"
    return _json(request, allowed, {"url": url, "signed": found})


@router.post("/widget/{slug}/typing", status_code=204, summary="The visitor is typing (shown to agents)")
async def typing(slug: str, body: TypingIn, request: Request, session: Session) -> Response:
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=body.token
    )
    typing_limit.check(who.chat.visitor_id)
    if who.chat.conversation_id is not None:
        # after commit, and through NOTIFY on PostgreSQL: the agent may be on another API process
        publish_after_commit(
            session,
            who.shop.id,
            {
                "type": "typing",
                "conversation_id": who.chat.conversation_id,
                "customer_id": who.chat.customer_id,
                "actor": "customer",
                "typing": body.typing,
            },
        )
    return Response(status_code=204, headers=_cors_headers(request, _allowed(who.channel.settings)))


@router.post("/widget/{slug}/offline", status_code=201, summary="Leave a message when nobody is online")
async def offline(slug: str, body: OfflineIn, request: Request, session: Session) -> JSONResponse:
    session_limit.check("offline", client_ip(request))
    result = await service.leave_message(
        session,
        slug=slug,
        box=request.app.state.box,
        secret_keys=_secrets(request),
        token=body.token,
        name=body.name,
        email=body.email,
        text=body.text,
        client_id=body.client_id,
    )
    return _json(request, None, {"conversation_id": result.conversation_id, "created": result.created}, 201)


# --- server-sent events --------------------------------------------------------------------------------------


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return (head + f"event: {event}\ndata: ").encode() + orjson.dumps(data) + b"\n\n"


@router.get(
    "/widget/{slug}/events",
    summary="Server-sent events: agent replies and typing, catching up after Last-Event-ID",
)
async def events(
    slug: str,
    request: Request,
    session: Session,
    token: Annotated[str, Query(max_length=200)],
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=token
    )
    header = request.headers.get("last-event-id", "")
    last_id = max(after_id, int(header) if header.isdigit() else 0)
    db: Database = request.app.state.db
    shop_id, chat_id = who.shop.id, who.chat.id
    queue = broker.subscribe(shop_id)
    state: dict[str, int | None] = {"conversation_id": who.chat.conversation_id}

    async def catch_up() -> list[bytes]:
        nonlocal last_id
        async with db.sessionmaker() as read:
            chat = await read.get(ChatSession, chat_id)
            if chat is None:
                return []
            state["conversation_id"] = chat.conversation_id
            rows = await service.visible_messages(
                read, service.Visitor(who.shop, who.channel, chat, who.token), after_id=last_id
            )
            out = [
                _sse("message", service.message_json(message, name, slug, who.token), message.id)
                for message, name in rows
            ]
            if rows:
                last_id = rows[-1][0].id
            await read.rollback()
        return out

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 3000\n\n"
            for chunk in await catch_up():
                yield chunk
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    yield b": keepalive\n\n"
                    # a safety net where events come from another API process: re-read anyway
                    for chunk in await catch_up():
                        yield chunk
                    continue
                kind = str(event.get("type", ""))
                mine = state["conversation_id"]
                if kind == "typing":
                    if (
                        event.get("actor") == "agent"
                        and mine is not None
                        and event.get("conversation_id") == mine
                    ):
                        yield _sse("typing", {"typing": bool(event.get("typing"))})
                    continue
                if kind.startswith("message.") and (mine is None or event.get("conversation_id") == mine):
                    for chunk in await catch_up():
                        yield chunk
        finally:
            broker.unsubscribe(shop_id, queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            **_cors_headers(request, _allowed(who.channel.settings)),
        },
    )


# --- survey buttons (docs/surveys.md) -----------------------------------------------------------------------


class SurveyAnswerIn(TokenIn):
    button_id: str = Field(min_length=9, max_length=200, pattern=r"^survey:[0-9]+-[A-Za-z0-9_-]+:[0-9]{1,2}$")


@router.post("/widget/{slug}/survey", summary="The visitor taps a score of a survey in the chat")
async def survey_answer(slug: str, body: SurveyAnswerIn, request: Request, session: Session) -> JSONResponse:
    ip_limit.check(client_ip(request))
    who = await service.visitor(
        session, slug=slug, box=request.app.state.box, secret_keys=_secrets(request), token=body.token
    )
    allowed = _allowed(who.channel.settings)
    _check_origin(request, allowed)
    message_limit.check("visitor", who.chat.visitor_id)
    from storedesk.surveys import service as surveys  # (the surveys domain, only for this route)

    result = await surveys.answer_from_channel(
        session, shop_id=who.shop.id, conversation_id=who.chat.conversation_id, button_id=body.button_id
    )
    return _json(request, allowed, {"answered": result is not None})
