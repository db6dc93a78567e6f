"""The inbox (views, filters, sorting, counts, bulk actions) and search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from storedesk.api.deps import Session
from storedesk.conversations import service as conversation_service
from storedesk.conversations.models import ConversationStatus
from storedesk.kit.errors import StoredeskError
from storedesk.search.service import excerpt, search
from storedesk.web import views
from storedesk.web.deps import AgentWeb, Web, WebRoute, page, redirect, undo
from storedesk.web.errors import error_text
from storedesk.web.i18n import _

router = APIRouter(prefix="/app", route_class=WebRoute)


@router.get("")
@router.get("/")
async def home() -> Response:
    return redirect("/app/inbox")


@router.get("/inbox")
async def inbox(request: Request, ctx: Web, session: Session) -> Response:
    params = views.InboxParams.parse(dict(request.query_params))
    data = await views.inbox_page(session, ctx.shop, ctx.agent.id, params)
    return page(request, "inbox.html", {"inbox": data, "params": params, "current": None})


@router.get("/inbox/list")
async def inbox_list(request: Request, ctx: Web, session: Session) -> Response:
    """The list alone: refreshed live (SSE) and after a reconnect."""
    params = views.InboxParams.parse(dict(request.query_params))
    dirs = await views.directory(session, ctx.shop_id)
    found = await views.inbox_rows(session, ctx.shop_id, ctx.agent.id, params, dirs)
    current = request.query_params.get("current", "")
    return page(
        request,
        "partials/inbox_list.html",
        {
            "rows": found.rows,
            "pager": found,
            "params": params,
            "current": int(current) if current.isdigit() and len(current) < 19 else None,
            "compact": request.query_params.get("compact") == "1",
        },
    )


@router.get("/inbox/counts")
async def inbox_counts(request: Request, ctx: Web, session: Session) -> Response:
    params = views.InboxParams.parse(dict(request.query_params))
    counts = await views.view_counts(session, ctx.shop_id, ctx.agent.id, params)
    return page(request, "partials/view_nav.html", {"counts": counts, "params": params})


@router.post("/inbox/bulk")
async def bulk(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    ids: Annotated[list[int], Form(max_length=200)],
    action: Annotated[str, Form(max_length=16)],
    assignee: Annotated[str, Form(max_length=20)] = "",
    tag: Annotated[str, Form(max_length=64)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
    back: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    target = back if back.startswith("/app/inbox") else "/app/inbox"
    if not ids:
        return redirect(target, flash=_("Select at least one conversation."), request=request)
    if action in ("resolve", "close"):
        action, status = "status", ("resolved" if action == "resolve" else "closed")
    try:
        result = await conversation_service.bulk_action(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            conversation_ids=ids,
            action=action,
            assignee_id=int(assignee) if assignee.isdigit() else None,
            tag=tag,
            status=ConversationStatus(status) if status in ConversationStatus.__members__ else None,
        )
    except StoredeskError as exc:
        await undo(session, ctx)
        return redirect(target, flash=error_text(exc), request=request)
    if action in ("tag", "untag"):
        views.forget_tag_counts(ctx.shop_id)
    message = _("%(done)s conversation(s) changed.", done=len(result.done))
    if result.skipped:
        message += " " + _("%(skipped)s skipped:", skipped=len(result.skipped)) + " "
        message += "; ".join(f"#{cid}: {error_text(exc)}" for cid, exc in list(result.errors.items())[:3])
    return redirect(target, flash=message, request=request)


@router.get("/search")
async def search_page(request: Request, ctx: Web, session: Session, q: str = "") -> Response:
    results = await search(session, shop_id=ctx.shop_id, query=q[:200], default_region=ctx.shop.country)
    dirs = await views.directory(session, ctx.shop_id)
    return page(
        request,
        "search.html",
        {"results": results, "q": results.query, "dirs": dirs, "excerpt": excerpt},
    )
