"""``/api/v1`` endpoints of the channels work: the generic API channel, duplicate suggestions, messaging
windows, WhatsApp templates, agent typing and stored attachments. Mounted with the webhooks router."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import nh3
import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import AwareDatetime, Field
from sqlalchemy import select

from storedesk.agents.models import Role
from storedesk.api.deps import AgentAuth, Auth, Session, get_auth
from storedesk.api.errors import COMMON_RESPONSES
from storedesk.channels import ingest
from storedesk.channels.identity_merge import find_duplicates
from storedesk.channels.ingest import InboundMessage, SenderIdentity, ThreadHints
from storedesk.channels.meta.whatsapp import window_open_until
from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.repository import ChannelRepository
from storedesk.channels.webhooks.kit import channel_secrets
from storedesk.channels.widget.service import storage_path
from storedesk.conversations import service as conversations
from storedesk.conversations.models import Attachment, Direction
from storedesk.conversations.repository import ConversationRepository, MessageRepository
from storedesk.conversations.schemas import MessageOut
from storedesk.customers.models import IdentityKind
from storedesk.customers.schemas import IdentityOut
from storedesk.kit.crypto import constant_time_equals
from storedesk.kit.errors import InvalidTransition, NotFound, Unauthenticated
from storedesk.kit.schemas import In, Out
from storedesk.kit.time import utcnow
from storedesk.realtime import publish_after_commit

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES)

WINDOW_KINDS = {ChannelKind.whatsapp, ChannelKind.messenger, ChannelKind.instagram}


# --- generic API channel -------------------------------------------------------------------------------------


class SenderIn(In):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)
    name: str | None = Field(default=None, max_length=200)


class InboundAttachmentIn(In):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=100)
    size: int | None = Field(default=None, ge=0)
    url: str | None = Field(default=None, max_length=2000)


class InboundIn(In):
    provider_message_id: str = Field(
        min_length=1, max_length=200, description="idempotency key: a repeat changes nothing"
    )
    sender: SenderIn
    text: str = Field(default="", max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)
    subject: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    attachments: list[InboundAttachmentIn] = Field(default_factory=list, max_length=20)
    conversation_id: int | None = Field(default=None, ge=1, description="thread into this conversation")
    new_conversation: bool = False
    sent_at: AwareDatetime | None = None


class InboundOut(Out):
    message_id: int
    conversation_id: int
    customer_id: int | None
    created: bool


async def _inbound_channel(
    request: Request, session: Session, channel_id: int, secret: str | None
) -> Channel:
    """An agent/admin token of the channel's shop, or the channel's own ``inbound_secret``."""
    if request.headers.get("authorization") or request.cookies.get("storedesk_session"):
        ctx = await get_auth(request, session)
        ctx.require(Role.agent)
        channel = await ChannelRepository(session, ctx.shop_id).get_or_404(channel_id)
    else:
        if not secret:
            raise Unauthenticated("send an agent token or the channel's X-Storedesk-Channel-Secret")
        channel_or_none = (
            await session.execute(select(Channel).where(Channel.id == channel_id))
        ).scalar_one_or_none()
        expected = (
            str(channel_secrets(request, channel_or_none).get("inbound_secret") or "")
            if channel_or_none
            else ""
        )
        if channel_or_none is None or not expected or not constant_time_equals(expected, secret):
            raise Unauthenticated("the channel secret is not valid")
        channel = channel_or_none
    if channel.kind != ChannelKind.api:
        raise InvalidTransition(f"channel {channel.id} is a {channel.kind} channel, not an API channel")
    if not channel.is_active:
        raise InvalidTransition(f"channel {channel.id} is disconnected")
    return channel


@router.post(
    "/channels/{channel_id}/inbound",
    response_model=InboundOut,
    status_code=201,
    tags=["channels"],
    summary="Custom integrations: deliver a customer's message (idempotent by provider_message_id)",
)
async def api_inbound(
    channel_id: int,
    body: InboundIn,
    request: Request,
    session: Session,
    x_storedesk_channel_secret: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    channel = await _inbound_channel(request, session, channel_id, x_storedesk_channel_secret)
    message = InboundMessage(
        channel_id=channel.id,
        sender=SenderIdentity(body.sender.kind, body.sender.value),
        name=body.sender.name,
        text=body.text,
        html=nh3.clean(body.html) if body.html else None,
        attachments=tuple(a.model_dump(exclude_none=True) for a in body.attachments),
        provider_message_id=body.provider_message_id,
        thread=ThreadHints(conversation_id=body.conversation_id, new_conversation=body.new_conversation),
        timestamp=body.sent_at,
        subject=body.subject,
        language=body.language,
    )
    results = await ingest.ingest_now(
        session,
        source="api",
        dedupe_key=ingest.event_key(channel.id, body.provider_message_id),
        shop_id=channel.shop_id,
        channel_id=channel.id,
        headers={"content-type": "application/json"},
        body=orjson.dumps(body.model_dump(mode="json")),
        items=[message],
    )
    if results is None:
        existing = await MessageRepository(session, channel.shop_id).by_provider_id(
            channel.id, body.provider_message_id
        )
        if existing is None:
            raise NotFound("message", body.provider_message_id)
        conversation = await ConversationRepository(session, channel.shop_id).get_or_404(
            existing.conversation_id
        )
        out = InboundOut(
            message_id=existing.id,
            conversation_id=existing.conversation_id,
            customer_id=conversation.customer_id,
            created=False,
        )
        return JSONResponse(out.model_dump(), status_code=200)
    result = results[0]
    assert result.message_id is not None and result.conversation_id is not None
    return InboundOut(
        message_id=result.message_id,
        conversation_id=result.conversation_id,
        customer_id=result.customer_id,
        created=result.created,
    )


# --- duplicates ----------------------------------------------------------------------------------------------


class DuplicateOut(Out):
    customer_id: int
    name: str | None
    email: str | None
    phone: str | None
    identities: list[IdentityOut]
    reasons: list[str]
    score: float


@router.get(
    "/customers/{customer_id}/duplicates",
    response_model=list[DuplicateOut],
    tags=["customers"],
    summary="Customers who are probably the same person (merge candidates)",
)
async def duplicates(customer_id: int, ctx: Auth, session: Session) -> list[DuplicateOut]:
    from storedesk.customers.repository import CustomerRepository

    found = await find_duplicates(session, shop_id=ctx.shop_id, customer_id=customer_id)
    idents = await CustomerRepository(session, ctx.shop_id).identities_for([s.customer.id for s in found])
    return [
        DuplicateOut(
            customer_id=s.customer.id,
            name=s.customer.name,
            email=s.customer.email,
            phone=s.customer.phone,
            identities=[IdentityOut.model_validate(i) for i in idents[s.customer.id]],
            reasons=s.reasons,
            score=s.score,
        )
        for s in found
    ]


# --- messaging windows and templates -------------------------------------------------------------------------


class WindowOut(Out):
    conversation_id: int
    channel_id: int
    channel_kind: str
    window_open_until: datetime | None = Field(
        description="None: no customer message yet, or no window on this channel"
    )
    free_text_allowed: bool
    whatsapp_window_open_until: datetime | None


@router.get(
    "/conversations/{conversation_id}/channel-window",
    response_model=WindowOut,
    tags=["conversations"],
    summary="Whether free text can be sent now (WhatsApp/Messenger/Instagram 24-hour window)",
)
async def channel_window(conversation_id: int, ctx: Auth, session: Session) -> WindowOut:
    conversation = await ConversationRepository(session, ctx.shop_id).get_or_404(conversation_id)
    channel = await ChannelRepository(session, ctx.shop_id).get_or_404(conversation.channel_id)
    kind = ChannelKind(channel.kind)
    until = None
    allowed = True
    if kind in WINDOW_KINDS:
        until = await window_open_until(session, shop_id=ctx.shop_id, conversation_id=conversation.id)
        allowed = until is not None and until > utcnow()
    return WindowOut(
        conversation_id=conversation.id,
        channel_id=channel.id,
        channel_kind=kind.value,
        window_open_until=until,
        free_text_allowed=allowed,
        whatsapp_window_open_until=until if kind == ChannelKind.whatsapp else None,
    )


class TemplateIn(In):
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(default="en", min_length=2, max_length=15)
    components: list[dict[str, Any]] = Field(default_factory=list, max_length=10)
    preview_text: str = Field(default="", max_length=4096, description="what the agent sees in the timeline")


@router.post(
    "/conversations/{conversation_id}/whatsapp-template",
    response_model=MessageOut,
    status_code=201,
    tags=["conversations"],
    summary="Send an approved WhatsApp template (allowed outside the 24-hour window)",
)
async def send_template(
    conversation_id: int, body: TemplateIn, ctx: AgentAuth, session: Session
) -> MessageOut:
    conversation = await ConversationRepository(session, ctx.shop_id).get_or_404(conversation_id)
    channel = await ChannelRepository(session, ctx.shop_id).get_or_404(conversation.channel_id)
    if channel.kind != ChannelKind.whatsapp:
        raise InvalidTransition(f"conversation {conversation.id} is not on a WhatsApp channel")
    template = {"name": body.name, "language": body.language, "components": body.components}
    message, _ = await conversations.add_message(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        conversation_id=conversation.id,
        direction=Direction.outbound,
        text=body.preview_text or f"[WhatsApp template {body.name} ({body.language})]",
        meta={"thread": {"whatsapp_template": template}},
    )
    return MessageOut.model_validate(message)


# --- agent typing and attachments ----------------------------------------------------------------------------


class TypingIn(In):
    typing: bool = True


@router.post(
    "/conversations/{conversation_id}/typing",
    status_code=204,
    tags=["conversations"],
    summary="The agent is typing (shown in the chat widget)",
)
async def agent_typing(conversation_id: int, body: TypingIn, ctx: AgentAuth, session: Session) -> None:
    conversation = await ConversationRepository(session, ctx.shop_id).get_or_404(conversation_id)
    # after commit, and through NOTIFY on PostgreSQL: the widget may be connected to another API process
    publish_after_commit(
        session,
        ctx.shop_id,
        {
            "type": "typing",
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id,
            "actor": "agent",
            "agent_id": ctx.agent_id,
            "typing": body.typing,
        },
    )


@router.get(
    "/attachments/{attachment_id}/content", tags=["conversations"], summary="A stored attachment's bytes"
)
async def attachment_content(
    attachment_id: int,
    ctx: Auth,
    session: Session,
    request: Request,
    download: Annotated[bool, Query()] = False,
) -> FileResponse:
    row = (
        await session.execute(
            select(Attachment).where(Attachment.id == attachment_id, Attachment.shop_id == ctx.shop_id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("attachment", attachment_id)
    inline = row.content_type.startswith("image/") and not download
    return FileResponse(
        storage_path(request.app.state.settings.data_dir, row.storage_key),
        media_type=row.content_type,
        filename=row.filename,
        content_disposition_type="inline" if inline else "attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )
