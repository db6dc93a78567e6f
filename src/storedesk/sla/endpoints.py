"""SLA policies (admins) and the inbox's SLA views: what is breached, what is due soon."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from storedesk.api.deps import AdminAuth, Auth, Session
from storedesk.api.params import IdPath
from storedesk.conversations.models import Conversation
from storedesk.conversations.repository import ConversationRepository
from storedesk.kit.schemas import Page
from storedesk.kit.time import utcnow
from storedesk.sla import service
from storedesk.sla.models import ConversationSla
from storedesk.sla.repository import ConversationSlaRepository, SlaPolicyRepository
from storedesk.sla.schemas import ConversationSlaOut, SlaPolicyCreate, SlaPolicyOut, SlaPolicyUpdate

router = APIRouter(prefix="/sla", tags=["sla"])


@router.get("/policies", response_model=list[SlaPolicyOut], summary="SLA policies, in matching order")
async def list_policies(ctx: Auth, session: Session) -> list[SlaPolicyOut]:
    rows = await SlaPolicyRepository(session, ctx.shop_id).ordered()
    return [SlaPolicyOut.model_validate(p) for p in rows]


@router.post(
    "/policies", response_model=SlaPolicyOut, status_code=201, summary="Create an SLA policy (admin)"
)
async def create_policy(body: SlaPolicyCreate, ctx: AdminAuth, session: Session) -> SlaPolicyOut:
    policy = await service.create_policy(
        session, shop_id=ctx.shop_id, actor=ctx.actor, values=body.model_dump()
    )
    await session.flush()
    await session.refresh(policy)
    return SlaPolicyOut.model_validate(policy)


@router.get("/policies/{policy_id}", response_model=SlaPolicyOut)
async def get_policy(policy_id: IdPath, ctx: Auth, session: Session) -> SlaPolicyOut:
    return SlaPolicyOut.model_validate(await SlaPolicyRepository(session, ctx.shop_id).get_or_404(policy_id))


@router.patch("/policies/{policy_id}", response_model=SlaPolicyOut, summary="Change an SLA policy (admin)")
async def update_policy(
    policy_id: IdPath, body: SlaPolicyUpdate, ctx: AdminAuth, session: Session
) -> SlaPolicyOut:
    policy = await service.update_policy(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        policy_id=policy_id,
        changes=body.model_dump(exclude_unset=True),
    )
    await session.flush()
    await session.refresh(policy)
    return SlaPolicyOut.model_validate(policy)


@router.delete("/policies/{policy_id}", status_code=204, summary="Delete an SLA policy (admin)")
async def delete_policy(policy_id: IdPath, ctx: AdminAuth, session: Session) -> Response:
    await service.delete_policy(session, shop_id=ctx.shop_id, actor=ctx.actor, policy_id=policy_id)
    return Response(status_code=204)


def _out(conversation: Conversation, state: ConversationSla | None, window: timedelta) -> ConversationSlaOut:
    snap = service.snapshot(conversation, state, utcnow(), window)
    return ConversationSlaOut(
        conversation_id=conversation.id,
        number=conversation.number,
        subject=conversation.subject,
        status=conversation.status,
        priority=conversation.priority,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
        channel_id=conversation.channel_id,
        policy_id=snap.policy_id,
        sla_state=snap.state,  # type: ignore[arg-type]
        next_due_at=snap.next_due_at,
        breached_targets=snap.breached_targets,
        first_response_due_at=conversation.first_response_due_at,
        next_response_due_at=conversation.next_response_due_at,
        resolution_due_at=conversation.resolution_due_at,
        first_response_outcome=state.first_response_outcome if state else None,
        next_response_outcome=state.next_response_outcome if state else None,
        resolution_outcome=state.resolution_outcome if state else None,
        paused_since=state.paused_at if state else None,
    )


@router.get(
    "/conversations",
    response_model=Page[ConversationSlaOut],
    summary="Conversations whose SLA is breached or due soon, most urgent first",
)
async def sla_conversations(
    ctx: Auth,
    session: Session,
    state: Literal["breached", "due_soon"],
    within_minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 60,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,7}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ConversationSlaOut]:
    window = timedelta(minutes=within_minutes)
    offset = int(cursor or 0)
    rows, more = await service.conversations_in_state(
        session, shop_id=ctx.shop_id, state=state, window=window, offset=offset, limit=limit
    )
    return Page(
        items=[_out(c, s, window) for c, s in rows], next_cursor=str(offset + limit) if more else None
    )


@router.get(
    "/conversations/{conversation_id}", response_model=ConversationSlaOut, summary="One conversation's SLA"
)
async def conversation_sla(
    conversation_id: IdPath,
    ctx: Auth,
    session: Session,
    within_minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 60,
) -> ConversationSlaOut:
    conversation = await ConversationRepository(session, ctx.shop_id).get_or_404(conversation_id)
    state = await ConversationSlaRepository(session, ctx.shop_id).for_conversation(conversation.id)
    return _out(conversation, state, timedelta(minutes=within_minutes))
