from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from storedesk.api.deps import AgentAuth, Auth, Session
from storedesk.api.params import IdPath, IdQuery
from storedesk.conversations import service
from storedesk.conversations.models import ConversationStatus, Direction, Priority
from storedesk.conversations.repository import ConversationFilter, ConversationRepository, MessageRepository
from storedesk.conversations.schemas import (
    AssignIn,
    ConversationCreate,
    ConversationOut,
    ConversationUpdate,
    EventOut,
    MessageCreate,
    MessageOut,
    StatusIn,
    TagsIn,
    TagsOut,
    conversation_out,
)
from storedesk.events.repository import EventRepository
from storedesk.kit.schemas import Page

router = APIRouter(tags=["conversations"])


async def _one(session: Session, shop_id: int, conversation_id: int) -> ConversationOut:
    repo = ConversationRepository(session, shop_id)
    conversation = await repo.get_or_404(conversation_id)
    return conversation_out(conversation, (await repo.tags_for([conversation.id]))[conversation.id])


@router.get("/conversations", response_model=Page[ConversationOut], summary="The inbox: filter and page")
async def list_conversations(
    ctx: Auth,
    session: Session,
    status: Annotated[list[ConversationStatus] | None, Query(max_length=5)] = None,
    channel_id: IdQuery = None,
    assignee: Annotated[str | None, Query(pattern=r"^(me|none|[1-9][0-9]{0,17})$")] = None,
    team_id: IdQuery = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$")] = None,
    priority: Priority | None = None,
    customer_id: IdQuery = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> Page[ConversationOut]:
    flt = ConversationFilter(
        status=[s.value for s in status] if status else None,
        channel_id=channel_id,
        assignee_id=ctx.agent_id
        if assignee == "me"
        else (int(assignee) if assignee and assignee != "none" else None),
        unassigned=assignee == "none",
        team_id=team_id,
        tag=tag.strip().lower() if tag else None,
        language=language,
        priority=priority.value if priority else None,
        customer_id=customer_id,
    )
    repo = ConversationRepository(session, ctx.shop_id)
    rows, nxt = await repo.page(flt, cursor=cursor, limit=limit)
    tags = await repo.tags_for([r.id for r in rows])
    return Page(items=[conversation_out(r, tags[r.id]) for r in rows], next_cursor=nxt)


@router.post("/conversations", response_model=ConversationOut, status_code=201, summary="Open a conversation")
async def create_conversation(body: ConversationCreate, ctx: AgentAuth, session: Session) -> ConversationOut:
    conversation = await service.open_conversation(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        customer_id=body.customer_id,
        channel_id=body.channel_id,
        subject=body.subject,
        language=body.language,
        priority=body.priority,
        order_id=body.order_id,
    )
    if body.message:
        from storedesk.kit.actor import Actor

        await service.add_message(
            session,
            shop_id=ctx.shop_id,
            actor=Actor("customer", body.customer_id),
            conversation_id=conversation.id,
            direction=Direction.inbound,
            text=body.message,
            meta={"entered_by_agent_id": ctx.agent_id},
        )
    await session.flush()
    return await _one(session, ctx.shop_id, conversation.id)


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
async def get_conversation(conversation_id: IdPath, ctx: Auth, session: Session) -> ConversationOut:
    return await _one(session, ctx.shop_id, conversation_id)


@router.patch("/conversations/{conversation_id}", response_model=ConversationOut)
async def update_conversation(
    conversation_id: IdPath, body: ConversationUpdate, ctx: AgentAuth, session: Session
) -> ConversationOut:
    await service.update_attributes(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        conversation_id=conversation_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return await _one(session, ctx.shop_id, conversation_id)


@router.post("/conversations/{conversation_id}/assign", response_model=ConversationOut)
async def assign(
    conversation_id: IdPath, body: AssignIn, ctx: AgentAuth, session: Session
) -> ConversationOut:
    fields = body.model_fields_set
    await service.assign(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        conversation_id=conversation_id,
        assignee_id=body.assignee_id,
        team_id=body.team_id,
        set_assignee="assignee_id" in fields,
        set_team="team_id" in fields,
    )
    return await _one(session, ctx.shop_id, conversation_id)


@router.post("/conversations/{conversation_id}/status", response_model=ConversationOut)
async def change_status(
    conversation_id: IdPath, body: StatusIn, ctx: AgentAuth, session: Session
) -> ConversationOut:
    await service.change_status(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        conversation_id=conversation_id,
        status=body.status,
        snoozed_until=body.snoozed_until,
    )
    return await _one(session, ctx.shop_id, conversation_id)


@router.post("/conversations/{conversation_id}/tags", response_model=TagsOut)
async def change_tags(conversation_id: IdPath, body: TagsIn, ctx: AgentAuth, session: Session) -> TagsOut:
    tags = await service.change_tags(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        conversation_id=conversation_id,
        add=body.add,
        remove=body.remove,
    )
    return TagsOut(tags=tags)


@router.get("/conversations/{conversation_id}/messages", response_model=Page[MessageOut])
async def list_messages(
    conversation_id: IdPath,
    ctx: Auth,
    session: Session,
    after_id: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Page[MessageOut]:
    await ConversationRepository(session, ctx.shop_id).get_or_404(conversation_id)
    rows = list(
        await MessageRepository(session, ctx.shop_id).for_conversation(
            conversation_id, after_id=after_id, limit=limit + 1
        )
    )
    nxt = str(rows[limit - 1].id) if len(rows) > limit else None
    return Page(items=[MessageOut.model_validate(m) for m in rows[:limit]], next_cursor=nxt)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageOut,
    status_code=201,
    summary="Reply to the customer (queued for delivery) or add an internal note",
)
async def add_message(
    conversation_id: IdPath, body: MessageCreate, ctx: AgentAuth, session: Session
) -> MessageOut:
    message, _ = await service.add_message(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        conversation_id=conversation_id,
        direction=Direction.outbound if body.kind == "reply" else Direction.note,
        text=body.text,
        html=body.html,
        attachments=[a.model_dump() for a in body.attachments],
        channel_id=body.channel_id if body.kind == "reply" else None,
    )
    return MessageOut.model_validate(message)


@router.get(
    "/conversations/{conversation_id}/events", response_model=list[EventOut], summary="Timeline and audit"
)
async def list_events(conversation_id: IdPath, ctx: Auth, session: Session) -> list[EventOut]:
    await ConversationRepository(session, ctx.shop_id).get_or_404(conversation_id)
    events = await EventRepository(session, ctx.shop_id).for_conversation(conversation_id)
    return [EventOut.model_validate(e) for e in events]


@router.get("/messages/{message_id}", response_model=MessageOut)
async def get_message(message_id: IdPath, ctx: Auth, session: Session) -> MessageOut:
    return MessageOut.model_validate(await MessageRepository(session, ctx.shop_id).get_or_404(message_id))
