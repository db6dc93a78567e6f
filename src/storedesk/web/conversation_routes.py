"""The conversation view: timeline, composer (reply, note, macros, attachments), properties (status,
priority, assignee, team, tags, snooze), the customer sidebar, presence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from storedesk.api.deps import Session
from storedesk.config import Settings
from storedesk.conversations import service as conversation_service
from storedesk.conversations.models import ConversationStatus, Direction, Priority
from storedesk.conversations.repository import InboxRepository, TimelineRepository
from storedesk.kit.errors import NotFound, StoredeskError
from storedesk.web import assistant_routes, views
from storedesk.web.deps import AgentWeb, Web, WebContext, WebRoute, is_htmx, page, redirect, undo
from storedesk.web.errors import error_text
from storedesk.web.i18n import _
from storedesk.web.presence import State, presence
from storedesk.web.uploads import read_uploads, store, stored_path

router = APIRouter(prefix="/app", route_class=WebRoute)

REFRESH = {"HX-Trigger": "storedesk:refresh"}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _scope(request: Request) -> str:
    return "customer" if request.query_params.get("scope") == "customer" else "conversation"


async def _conversation_context(
    request: Request, ctx: WebContext, session: Session, conversation_id: int
) -> dict[str, Any]:
    data = await views.conversation_page(
        session,
        ctx.shop,
        conversation_id,
        scope=_scope(request),
        earlier=request.query_params.get("earlier") == "1",
    )
    params = views.InboxParams.parse(dict(request.query_params))
    return {
        "c": data,
        "conv": data.conversation,
        "params": params,
        "others": presence.others(ctx.shop_id, conversation_id, ctx.agent.id),
        "statuses": [s.value for s in ConversationStatus],
        "priorities": views.PRIORITIES,
        "assistant_turns": await assistant_routes.turns_by_message(session, ctx.shop_id, conversation_id),
    }


@router.get("/c/{conversation_id}")
async def conversation(request: Request, ctx: Web, session: Session, conversation_id: int) -> Response:
    context = await _conversation_context(request, ctx, session, conversation_id)
    params: views.InboxParams = context["params"]
    dirs = context["c"].directory
    found = await views.inbox_rows(session, ctx.shop_id, ctx.agent.id, params, dirs)
    context.update(rows=found.rows, pager=found, current=conversation_id, compact=True, composer={})
    return page(request, "conversation.html", context)


@router.get("/c/{conversation_id}/timeline")
async def timeline_fragment(request: Request, ctx: Web, session: Session, conversation_id: int) -> Response:
    context = await _conversation_context(request, ctx, session, conversation_id)
    return page(request, "partials/timeline.html", context)


@router.get("/c/{conversation_id}/timeline/tail")
async def timeline_tail(
    request: Request,
    ctx: Web,
    session: Session,
    conversation_id: int,
    after: Annotated[int, Query(ge=0, lt=2**63)] = 0,
    after_event: Annotated[int, Query(ge=0, lt=2**63)] = 0,
    watch: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    """The live refresh of a conversation: only what is new (appended) or changed (replaced in place), as
    htmx out-of-band swaps — the timeline already shown is left alone. ``watch``: ``<message id>:<state
    shown>`` for the newest messages whose delivery status or assistant turn may still change."""
    watched: dict[int, str] = {}
    for part in watch.split(",")[: views.TAIL_WATCH]:
        ident, _sep, state = part.partition(":")
        if ident.isdigit() and len(ident) < 19:
            watched[int(ident)] = state[:16]
    tail, turns = await views.timeline_tail(
        session,
        ctx.shop,
        conversation_id,
        after=after,
        after_event=after_event,
        watched=watched,
        turn_status=assistant_routes.turns_for_messages,
    )
    shown_turns = {m for m, state in watched.items() if state not in ("-", "")}
    return page(
        request,
        "partials/timeline_tail.html",
        {"c": tail, "conv": tail.conversation, "assistant_turns": turns, "shown_turns": shown_turns},
    )


async def _header_context(ctx: WebContext, session: Session, conversation_id: int) -> dict[str, Any]:
    data = await views.conversation_head(session, ctx.shop, conversation_id)
    return {
        "c": data,
        "conv": data.conversation,
        "statuses": [s.value for s in ConversationStatus],
        "priorities": views.PRIORITIES,
    }


@router.get("/c/{conversation_id}/header")
async def header_fragment(request: Request, ctx: Web, session: Session, conversation_id: int) -> Response:
    return page(request, "partials/conv_header.html", await _header_context(ctx, session, conversation_id))


@router.get("/c/{conversation_id}/sidebar")
async def sidebar_fragment(request: Request, ctx: Web, session: Session, conversation_id: int) -> Response:
    data = await views.sidebar_page(session, ctx.shop, conversation_id, scope=_scope(request))
    return page(request, "partials/sidebar.html", {"c": data, "conv": data.conversation})


@router.get("/c/{conversation_id}/sidebar/conversations")
async def sidebar_conversations(
    request: Request, ctx: Web, session: Session, conversation_id: int
) -> Response:
    """The sidebar's list of the customer's conversations alone (a new message changes its times)."""
    data = await views.sidebar_conversations(session, ctx.shop, conversation_id, scope=_scope(request))
    return page(
        request,
        "partials/sidebar_conversations.html",
        {"c": data, "conv": data.conversation, "cc": data.customer, "dd": data.directory},
    )


@router.get("/c/{conversation_id}/presence")
async def presence_fragment(request: Request, ctx: Web, session: Session, conversation_id: int) -> Response:
    await InboxRepository(session, ctx.shop_id).get_or_404(conversation_id)
    dirs = await views.directory(session, ctx.shop_id)
    others = presence.others(ctx.shop_id, conversation_id, ctx.agent.id)
    return page(
        request, "partials/presence.html", {"others": others, "dirs": dirs, "conv_id": conversation_id}
    )


@router.post("/c/{conversation_id}/presence")
async def presence_beat(
    ctx: Web,
    session: Session,
    conversation_id: int,
    state: Annotated[str, Form(max_length=16)] = "viewing",
) -> Response:
    await InboxRepository(session, ctx.shop_id).get_or_404(conversation_id)
    beat: State = (
        "left" if state == "left" else "typing" if state == "typing" and ctx.can("agent") else "viewing"
    )
    presence.announce(session, ctx.shop_id, conversation_id, ctx.agent.id, beat)
    return Response(status_code=204)


async def _composer_error(
    request: Request,
    ctx: WebContext,
    session: Session,
    conversation_id: int,
    values: dict[str, Any],
    error: str,
) -> Response:
    await undo(session, ctx)
    if is_htmx(request):
        context = await _conversation_context(request, ctx, session, conversation_id)
        context["composer"] = {**values, "error": error}
        return page(request, "partials/composer.html", context, status_code=422)
    context = await _conversation_context(request, ctx, session, conversation_id)
    params: views.InboxParams = context["params"]
    found = await views.inbox_rows(session, ctx.shop_id, ctx.agent.id, params, context["c"].directory)
    context.update(rows=found.rows, pager=found, current=conversation_id, compact=True)
    context["composer"] = {**values, "error": error}
    return page(request, "conversation.html", context, status_code=422)


@router.post("/c/{conversation_id}/messages")
async def send(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    conversation_id: int,
    text: Annotated[str, Form(max_length=100_000)] = "",
    kind: Annotated[str, Form(max_length=8)] = "reply",
    channel_id: Annotated[str, Form(max_length=20)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    values = {"text": text, "kind": kind, "channel_id": channel_id}
    await InboxRepository(session, ctx.shop_id).get_or_404(conversation_id)
    uploads, upload_error = await read_uploads(files or [], limit=_settings(request).max_body_bytes - 65_536)
    if upload_error:
        return await _composer_error(request, ctx, session, conversation_id, values, upload_error)
    if not text.strip() and not uploads:
        return await _composer_error(
            request, ctx, session, conversation_id, values, _("Write a message or attach a file.")
        )
    attachments = store(uploads, data_dir=_settings(request).data_dir, shop_id=ctx.shop_id)
    try:
        if kind == "note":
            await conversation_service.add_note(
                session,
                shop_id=ctx.shop_id,
                actor=ctx.auth.actor,
                conversation_id=conversation_id,
                text=text,
                attachments=attachments,
            )
        else:
            await conversation_service.add_message(
                session,
                shop_id=ctx.shop_id,
                actor=ctx.auth.actor,
                conversation_id=conversation_id,
                direction=Direction.outbound,
                text=text,
                attachments=attachments,
                channel_id=int(channel_id) if channel_id.isdigit() else None,
            )
    except NotFound:
        return await _composer_error(
            request, ctx, session, conversation_id, values, _("That channel does not exist any more.")
        )
    except StoredeskError as exc:
        return await _composer_error(request, ctx, session, conversation_id, values, error_text(exc))
    presence.announce(session, ctx.shop_id, conversation_id, ctx.agent.id, "viewing")
    if is_htmx(request):
        await session.flush()
        context = await _conversation_context(request, ctx, session, conversation_id)
        context["composer"] = {"kind": kind, "channel_id": channel_id}
        return page(request, "partials/composer.html", context, headers=REFRESH)
    return redirect(f"/app/c/{conversation_id}")


async def _after_change(
    request: Request, ctx: WebContext, session: Session, conversation_id: int
) -> Response:
    if is_htmx(request):
        await session.flush()
        context = await _header_context(ctx, session, conversation_id)
        return page(request, "partials/conv_header.html", context, headers=REFRESH)
    return redirect(f"/app/c/{conversation_id}")


@router.post("/c/{conversation_id}/status")
async def change_status(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    conversation_id: int,
    status: Annotated[str, Form(max_length=16)],
) -> Response:
    if status not in ConversationStatus.__members__ or status == "snoozed":
        return await _header_error(request, ctx, session, conversation_id, "status", _("Choose a status."))
    try:
        await conversation_service.change_status(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            conversation_id=conversation_id,
            status=ConversationStatus(status),
        )
    except StoredeskError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _header_error(request, ctx, session, conversation_id, "status", error_text(exc))
    return await _after_change(request, ctx, session, conversation_id)


@router.post("/c/{conversation_id}/snooze")
async def snooze(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    conversation_id: int,
    until: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    try:
        local = datetime.fromisoformat(until)
    except ValueError:
        return await _header_error(
            request, ctx, session, conversation_id, "snooze", _("Pick a date and time to snooze until.")
        )
    when = (local if local.tzinfo else local.replace(tzinfo=ZoneInfo(ctx.shop.timezone or "UTC"))).astimezone(
        ZoneInfo("UTC")
    )
    try:
        await conversation_service.change_status(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            conversation_id=conversation_id,
            status=ConversationStatus.snoozed,
            snoozed_until=when,
        )
    except StoredeskError as exc:
        if isinstance(exc, NotFound):
            raise
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        message = _("Pick a time in the future.") if field == "snoozed_until" else error_text(exc)
        return await _header_error(request, ctx, session, conversation_id, "snooze", message)
    return await _after_change(request, ctx, session, conversation_id)


@router.post("/c/{conversation_id}/assign")
async def assign(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    conversation_id: int,
    assignee: Annotated[str | None, Form(max_length=20)] = None,
    team: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    try:
        await conversation_service.assign(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            conversation_id=conversation_id,
            assignee_id=int(assignee) if assignee and assignee.isdigit() else None,
            team_id=int(team) if team and team.isdigit() else None,
            set_assignee=assignee is not None,
            set_team=team is not None,
        )
    except StoredeskError as exc:
        if isinstance(exc, NotFound) and exc.details and exc.details.get("resource") == "conversation":
            raise
        return await _header_error(request, ctx, session, conversation_id, "assignee", error_text(exc))
    return await _after_change(request, ctx, session, conversation_id)


@router.post("/c/{conversation_id}/priority")
async def priority(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    conversation_id: int,
    value: Annotated[str, Form(max_length=16)],
) -> Response:
    if value not in Priority.__members__:
        return await _header_error(
            request, ctx, session, conversation_id, "priority", _("Choose a priority.")
        )
    await conversation_service.update_attributes(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.auth.actor,
        conversation_id=conversation_id,
        changes={"priority": Priority(value)},
    )
    return await _after_change(request, ctx, session, conversation_id)


@router.post("/c/{conversation_id}/tags")
async def tags(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    conversation_id: int,
    add: Annotated[str, Form(max_length=200)] = "",
    remove: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    to_add = [t for t in (p.strip() for p in add.split(",")) if t]
    if not to_add and not remove:
        return await _header_error(request, ctx, session, conversation_id, "tags", _("Type a tag to add."))
    try:
        await conversation_service.change_tags(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            conversation_id=conversation_id,
            add=to_add,
            remove=[remove] if remove else [],
        )
    except StoredeskError as exc:
        if isinstance(exc, NotFound):
            raise
        return await _header_error(
            request, ctx, session, conversation_id, "tags", _("A tag has 1–64 characters and no commas.")
        )
    views.forget_tag_counts(ctx.shop_id)
    return await _after_change(request, ctx, session, conversation_id)


async def _header_error(
    request: Request, ctx: WebContext, session: Session, conversation_id: int, field: str, message: str
) -> Response:
    await undo(session, ctx)
    if is_htmx(request):
        context = await _header_context(ctx, session, conversation_id)
        context["errors"] = {field: message}
        return page(request, "partials/conv_header.html", context, status_code=422)
    context = await _conversation_context(request, ctx, session, conversation_id)
    context["errors"] = {field: message}
    params: views.InboxParams = context["params"]
    found = await views.inbox_rows(session, ctx.shop_id, ctx.agent.id, params, context["c"].directory)
    context.update(rows=found.rows, pager=found, current=conversation_id, compact=True, composer={})
    return page(request, "conversation.html", context, status_code=422)


@router.get("/c/{conversation_id}/macros/{macro_id}")
async def macro(ctx: AgentWeb, session: Session, conversation_id: int, macro_id: int) -> Response:
    text, language, missing = await views.render_macro_for(
        session, ctx.shop, ctx.agent, conversation_id, macro_id
    )
    return JSONResponse({"text": text, "language": language, "missing": missing})


@router.get("/c/{conversation_id}/attachments/{message_id}/{index}")
async def attachment(
    request: Request, ctx: Web, session: Session, conversation_id: int, message_id: int, index: int
) -> Response:
    message = await TimelineRepository(session, ctx.shop_id).get_or_404(message_id)
    if message.conversation_id != conversation_id or not 0 <= index < len(message.attachments):
        raise NotFound("attachment", index)
    meta = message.attachments[index]
    path = stored_path(_settings(request).data_dir, str(meta.get("storage_key", "")))
    if path is None:
        raise NotFound("attachment", index)
    return FileResponse(
        path,
        media_type=str(meta.get("content_type") or "application/octet-stream"),
        filename=str(meta.get("filename") or "attachment"),
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )


@router.get("/customers/{customer_id}")
async def customer(request: Request, ctx: Web, session: Session, customer_id: int) -> Response:
    c360 = await views.customer_360(session, ctx.shop, customer_id)
    if c360 is None:
        raise NotFound("customer", customer_id)
    dirs = await views.directory(session, ctx.shop_id)
    return page(request, "customer.html", {"cust": c360, "dirs": dirs})
