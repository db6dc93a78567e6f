"""Conversations and messages. Each function is the one write path for its state change: it checks,
writes, records the timeline event and enqueues the side effects in the caller's transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from storedesk.agents.repository import AgentRepository, TeamRepository
from storedesk.agents.service import notify
from storedesk.channels.models import Channel
from storedesk.channels.repository import ChannelRepository
from storedesk.commerce.repository import OrderRepository
from storedesk.conversations.models import (
    DELIVERY_RANK,
    AuthorType,
    Conversation,
    ConversationStatus,
    ConversationTag,
    DeliveryStatus,
    Direction,
    Message,
    Priority,
)
from storedesk.conversations.repository import ConversationRepository, MessageRepository, remember_facts
from storedesk.customers.repository import CustomerRepository
from storedesk.db.base import UTCDateTime
from storedesk.events.service import record, record_now
from storedesk.jobs.registry import enqueue, enqueue_now
from storedesk.kit.actor import Actor
from storedesk.kit.errors import InvalidTransition, StoredeskError, ValidationFailed
from storedesk.kit.time import ensure_aware, utcnow
from storedesk.shops.models import Shop
from storedesk.shops.service import next_conversation_number
from storedesk.sla import service as sla_service

MAX_TEXT = 100_000
TAG_MAX = 64

ALLOWED: dict[ConversationStatus, set[ConversationStatus]] = {
    ConversationStatus.open: {
        ConversationStatus.pending,
        ConversationStatus.snoozed,
        ConversationStatus.resolved,
        ConversationStatus.closed,
    },
    ConversationStatus.pending: {
        ConversationStatus.open,
        ConversationStatus.snoozed,
        ConversationStatus.resolved,
        ConversationStatus.closed,
    },
    ConversationStatus.snoozed: {
        ConversationStatus.open,
        ConversationStatus.pending,
        ConversationStatus.resolved,
        ConversationStatus.closed,
    },
    ConversationStatus.resolved: {ConversationStatus.open, ConversationStatus.closed},
    ConversationStatus.closed: set(),
}


async def open_conversation(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    customer_id: int,
    channel_id: int,
    subject: str | None = None,
    language: str | None = None,
    priority: Priority = Priority.normal,
    order_id: int | None = None,
    created_at: datetime | None = None,
) -> Conversation:
    await CustomerRepository(session, shop_id).get_or_404(customer_id)
    await ChannelRepository(session, shop_id).get_or_404(channel_id)
    if order_id is not None:
        await OrderRepository(session, shop_id).get_or_404(order_id)
    now = created_at or utcnow()
    conversation = Conversation(
        shop_id=shop_id,
        number=await next_conversation_number(session, shop_id),
        customer_id=customer_id,
        channel_id=channel_id,
        subject=subject,
        language=language,
        priority=priority,
        order_id=order_id,
        status=ConversationStatus.open,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(conversation)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="conversation.created",
        actor=actor,
        conversation_id=conversation.id,
        customer_id=customer_id,
        order_id=order_id,
        occurred_at=now,
        data={"channel_id": channel_id, "number": conversation.number},
    )
    return conversation


def _author_for(actor: Actor, direction: Direction) -> AuthorType:
    if direction == Direction.inbound:
        return AuthorType.customer
    return {"agent": AuthorType.agent, "assistant": AuthorType.assistant}.get(actor.type, AuthorType.system)


async def add_message(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    conversation_id: int,
    direction: Direction,
    text: str,
    html: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    channel_id: int | None = None,
    provider_message_id: str | None = None,
    meta: dict[str, Any] | None = None,
    created_at: datetime | None = None,
    locked: Conversation | None = None,
) -> tuple[Message, bool]:
    """Add a message to a conversation. Returns ``(message, created)``.

    ``locked``: the conversation as the caller read it ``FOR UPDATE`` (refreshed) in this transaction,
    with nothing changed since by statements that bypass the session — saves the locked read here.

    Inbound messages are deduplicated on ``(channel, provider_message_id)``: a redelivery returns the
    stored message and changes nothing. Outbound replies enqueue ``delivery.send`` in the same
    transaction; internal notes are never sent anywhere.
    """
    if len(text) > MAX_TEXT:
        raise ValidationFailed(
            f"text is longer than {MAX_TEXT} characters",
            details={"field": "text"},
            reason="text_too_long",
            params={"max": MAX_TEXT},
        )
    if not text.strip() and not attachments and direction != Direction.system:
        raise ValidationFailed(
            "a message needs text or an attachment", details={"field": "text"}, reason="message_empty"
        )
    now = created_at or utcnow()
    touched = None
    if (
        provider_message_id is None
        and direction != Direction.inbound
        and session.identity_map.get((Conversation, (conversation_id,), None)) is None
    ):
        # the common case (a reply or a note): no status changes, so the checks and the counters are one
        # UPDATE … RETURNING; no row means "not found, closed or another channel": the locked read below
        # gives the precise answer
        touched = await _touch_for_message(session, shop_id, conversation_id, direction, channel_id, now)
    conversation: Conversation | None = None
    if touched is not None:
        customer_id = touched.customer_id
        channel_id = touched.channel_id
    else:
        if locked is not None and locked.id == conversation_id and locked.shop_id == shop_id:
            conversation = locked
        else:
            conversation = await ConversationRepository(session, shop_id).get_for_update(conversation_id)
        if channel_id is not None and channel_id != conversation.channel_id:
            await ChannelRepository(session, shop_id).get_or_404(channel_id)  # another of the shop's channels
        else:
            channel_id = conversation.channel_id
        if provider_message_id is not None:
            existing = await MessageRepository(session, shop_id).by_provider_id(
                channel_id, provider_message_id
            )
            if existing is not None:
                return existing, False
        if direction == Direction.outbound and conversation.status == ConversationStatus.closed:
            raise InvalidTransition(
                f"conversation {conversation.id} is closed; replies are not possible",
                details={"status": conversation.status},
                reason="conversation_closed",
            )
        conversation.last_activity_at = now
        if direction in (Direction.inbound, Direction.outbound):
            conversation.message_count += 1
            conversation.last_message_at = now
        if direction == Direction.inbound:
            if conversation.waiting_since is None:
                conversation.waiting_since = now
            if conversation.status in (
                ConversationStatus.resolved,
                ConversationStatus.pending,
                ConversationStatus.snoozed,
            ):
                await _set_status(session, conversation, ConversationStatus.open, actor, now)
        elif direction == Direction.outbound:
            if conversation.first_response_at is None:
                conversation.first_response_at = now
            conversation.waiting_since = None
        customer_id = conversation.customer_id
        await session.flush()  # the status change's event comes before the message's in the timeline
    message = await _insert_message(
        session,
        shop_id=shop_id,
        conversation_id=conversation_id,
        channel_id=channel_id if direction in (Direction.inbound, Direction.outbound) else None,
        direction=direction,
        author_type=_author_for(actor, direction),
        author_agent_id=actor.id if actor.type == "agent" else None,
        text=text,
        html=html,
        attachments=attachments or [],
        meta=meta or {},
        provider_message_id=provider_message_id,
        delivery_status=(
            DeliveryStatus.queued if direction == Direction.outbound else DeliveryStatus.received
        ),
        created_at=now,
    )
    if await sla_service.wants_message(session, shop_id, conversation_id, message):
        if conversation is None:  # the row as updated above (still locked by that UPDATE)
            conversation = _adopt_conversation(session, touched)
        await sla_service.on_message(session, conversation, message)  # SLA clock (storedesk.sla)
        await session.flush()  # its outcome events come before the message's
    await record_now(
        session,
        shop_id=shop_id,
        type=f"message.{'received' if direction == Direction.inbound else 'created'}",
        actor=actor,
        conversation_id=conversation_id,
        customer_id=customer_id,
        occurred_at=now,
        data={"message_id": message.id, "direction": direction.value, "channel_id": message.channel_id},
    )
    if direction == Direction.outbound:
        await enqueue_now(
            session,
            "delivery.send",
            {"message_id": message.id},
            shop_id=shop_id,
            dedupe_key=f"delivery.send:{message.id}",
        )
    return message, True


# the columns of the hot path's statements (SQLAlchemy Core: no unit of work, no identity map)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_conv = _CONVERSATIONS.c
_TOUCH: dict[tuple[bool, bool], Any] = {}


def _touch_statement(outbound: bool, given_channel: bool) -> Any:
    """``UPDATE conversations … RETURNING`` for a message that changes no status, built once per shape."""
    stmt = _TOUCH.get((outbound, given_channel))
    if stmt is None:
        now = bindparam("now", type_=UTCDateTime())
        values: dict[str, Any] = {"last_activity_at": now}
        where = [_conv.id == bindparam("b_conversation_id"), _conv.shop_id == bindparam("b_shop_id")]
        if outbound:
            values |= {
                "message_count": _conv.message_count + 1,
                "last_message_at": now,
                "first_response_at": func.coalesce(_conv.first_response_at, now),
                "waiting_since": None,
            }
            where.append(_conv.status != ConversationStatus.closed.value)
        if given_channel:
            where.append(_conv.channel_id == bindparam("b_channel_id"))
        token = select(Shop.settings_token).where(Shop.id == _conv.shop_id).scalar_subquery()
        kind = select(Channel.kind).where(Channel.id == _conv.channel_id).scalar_subquery()
        stmt = _TOUCH[(outbound, given_channel)] = (
            update(_CONVERSATIONS)
            .where(*where)
            .values(values)
            .returning(*_CONVERSATIONS.columns, token, kind)
        )
    return stmt


async def _touch_for_message(
    session: AsyncSession,
    shop_id: int,
    conversation_id: int,
    direction: Direction,
    channel_id: int | None,
    now: datetime,
) -> Any:
    """Count a reply or a note into its conversation, in one statement that also takes the row lock.

    Returns the updated row or None when the conversation is not the shop's, is closed (replies) or
    belongs to another channel than ``channel_id``."""
    if session.new or session.dirty or session.deleted:
        await session.flush()  # what the caller added comes first, as with the ORM's autoflush
    outbound = direction == Direction.outbound
    params: dict[str, Any] = {"b_conversation_id": conversation_id, "b_shop_id": shop_id, "now": now}
    if channel_id is not None:
        params["b_channel_id"] = channel_id
    row = (await session.execute(_touch_statement(outbound, channel_id is not None), params)).one_or_none()
    if row is not None:
        remember_facts(session, conversation_id, row[-2], row[-1])
    return row


def _adopt_conversation(session: AsyncSession, row: Any) -> Conversation:
    """The row returned by :func:`_touch_for_message` as a Conversation in the session, as if loaded (later
    changes to it are flushed as usual)."""
    conversation = Conversation(**{c.key: row[i] for i, c in enumerate(_CONVERSATIONS.columns)})
    make_transient_to_detached(conversation)
    session.add(conversation)
    return conversation


async def _insert_message(session: AsyncSession, **values: Any) -> Message:
    """INSERT … RETURNING id, and the row as a Message in the session (later changes are flushed)."""
    values |= {"html": values.get("html"), "delivery_error": None, "sent_at": None}
    values |= {"delivered_at": None, "read_at": None}
    message_id = (await session.execute(_INSERT_MESSAGE, values)).scalar_one()
    message = Message(id=message_id, **values)
    make_transient_to_detached(message)
    session.add(message)
    return message


_MESSAGES = cast(Table, Message.__table__)
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)


async def _set_status(
    session: AsyncSession,
    conversation: Conversation,
    status: ConversationStatus,
    actor: Actor,
    now: datetime,
    snoozed_until: datetime | None = None,
) -> None:
    before = ConversationStatus(conversation.status)
    if status not in ALLOWED[before]:
        raise InvalidTransition(
            f"a {before.value} conversation cannot become {status.value}",
            details={"from": before.value, "to": status.value},
            reason="status_transition",
            params={"from": before.value, "to": status.value},
        )
    conversation.status = status
    conversation.snoozed_until = snoozed_until if status == ConversationStatus.snoozed else None
    if status == ConversationStatus.resolved:
        conversation.resolved_at = now
        conversation.resolved_by_assistant = actor.type == "assistant"
    if status == ConversationStatus.closed:
        conversation.closed_at = now
    if before == ConversationStatus.resolved and status == ConversationStatus.open:
        conversation.reopened_count += 1
        conversation.resolved_at = None
    conversation.last_activity_at = now
    await record(
        session,
        shop_id=conversation.shop_id,
        type="conversation.status_changed",
        actor=actor,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        occurred_at=now,
        data={
            "from": before.value,
            "to": status.value,
            "snoozed_until": snoozed_until.isoformat() if snoozed_until else None,
        },
    )
    await sla_service.on_status(session, conversation, now)  # SLA clock (storedesk.sla)
    if (
        status == ConversationStatus.resolved
    ):  # CSAT/CES survey, if the shop's policy asks (storedesk.surveys)
        await enqueue(
            session,
            "survey.after_resolve",
            {"conversation_id": conversation.id},
            shop_id=conversation.shop_id,
            dedupe_key=f"survey.after_resolve:{conversation.id}:{conversation.reopened_count}",
        )


async def change_status(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    conversation_id: int,
    status: ConversationStatus,
    snoozed_until: datetime | None = None,
) -> Conversation:
    conversation = await ConversationRepository(session, shop_id).get_for_update(conversation_id)
    now = utcnow()
    if status == ConversationStatus.snoozed:
        if snoozed_until is None or snoozed_until <= now:
            raise ValidationFailed(
                "snoozing needs a snoozed_until in the future",
                details={"field": "snoozed_until"},
                reason="snooze_in_past",
            )
    elif snoozed_until is not None:
        raise ValidationFailed(
            "snoozed_until is only for status snoozed",
            details={"field": "snoozed_until"},
            reason="snooze_without_status",
        )
    if status == conversation.status:
        raise InvalidTransition(
            f"conversation {conversation.id} is already {status.value}",
            reason="status_unchanged",
            params={"status": status.value},
        )
    await _set_status(session, conversation, status, actor, now, snoozed_until)
    if status == ConversationStatus.snoozed:
        await enqueue(
            session,
            "conversation.wake",
            {
                "conversation_id": conversation.id,
                "snoozed_until": snoozed_until.isoformat() if snoozed_until else None,
            },
            shop_id=shop_id,
            run_at=snoozed_until,
        )
    return conversation


async def wake_if_due(
    session: AsyncSession, *, shop_id: int, conversation_id: int, snoozed_until: str
) -> bool:
    """Job side of snooze: reopen only if the conversation is still snoozed until that same time."""
    conversation = await ConversationRepository(session, shop_id).get_for_update(conversation_id)
    if conversation.status != ConversationStatus.snoozed or conversation.snoozed_until is None:
        return False
    if conversation.snoozed_until.isoformat() != snoozed_until:
        return False
    await _set_status(session, conversation, ConversationStatus.open, Actor("system"), utcnow())
    return True


async def assign(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    conversation_id: int,
    assignee_id: int | None,
    team_id: int | None,
    set_assignee: bool = True,
    set_team: bool = True,
) -> Conversation:
    conversation = await ConversationRepository(session, shop_id).get_for_update(conversation_id)
    if set_assignee and assignee_id is not None:
        agent = await AgentRepository(session, shop_id).get_or_404(assignee_id)
        if not agent.is_active:
            raise ValidationFailed(
                f"agent {agent.id} is deactivated",
                details={"field": "assignee_id"},
                reason="assignee_deactivated",
                params={"name": agent.name},
            )
    if set_team and team_id is not None:
        await TeamRepository(session, shop_id).get_or_404(team_id)
    before = {"assignee_id": conversation.assignee_id, "team_id": conversation.team_id}
    if set_assignee:
        conversation.assignee_id = assignee_id
    if set_team:
        conversation.team_id = team_id
    after = {"assignee_id": conversation.assignee_id, "team_id": conversation.team_id}
    if before == after:
        return conversation
    conversation.last_activity_at = utcnow()
    await record(
        session,
        shop_id=shop_id,
        type="conversation.assigned",
        actor=actor,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        data={"before": before, "after": after},
    )
    new_assignee = conversation.assignee_id
    if new_assignee is not None and new_assignee != before["assignee_id"]:
        if not (actor.type == "agent" and actor.id == new_assignee):
            await notify(
                session,
                shop_id=shop_id,
                agent_id=new_assignee,
                kind="assignment",
                text=f"#{conversation.number} {conversation.subject or ''}".strip(),
                conversation_id=conversation.id,
            )
    return conversation


async def update_attributes(
    session: AsyncSession, *, shop_id: int, actor: Actor, conversation_id: int, changes: dict[str, Any]
) -> Conversation:
    """Priority, subject, language, intent and the related order."""
    conversation = await ConversationRepository(session, shop_id).get_for_update(conversation_id)
    if changes.get("order_id") is not None:
        await OrderRepository(session, shop_id).get_or_404(changes["order_id"])
    before = {k: getattr(conversation, k) for k in changes}
    changed = {k: v for k, v in changes.items() if before[k] != v}
    if not changed:
        return conversation
    for key, value in changed.items():
        setattr(conversation, key, value)
    if "priority" in changed:
        await sla_service.on_change(session, conversation)  # another SLA policy may apply
    await record(
        session,
        shop_id=shop_id,
        type="conversation.updated",
        actor=actor,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        data={"before": {k: before[k] for k in changed}, "after": changed},
    )
    return conversation


def _clean_tag(tag: str) -> str:
    cleaned = tag.strip().lower()
    if not cleaned or len(cleaned) > TAG_MAX or any(c in cleaned for c in ",\n\t"):
        raise ValidationFailed(
            f"tag {tag!r} must be 1–{TAG_MAX} characters without commas",
            details={"field": "tags"},
            reason="tag_invalid",
            params={"max": TAG_MAX},
        )
    return cleaned


async def change_tags(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    conversation_id: int,
    add: list[str],
    remove: list[str],
) -> list[str]:
    conversation = await ConversationRepository(session, shop_id).get_for_update(conversation_id)
    add_c = {_clean_tag(t) for t in add}
    remove_c = {_clean_tag(t) for t in remove}
    current = set(
        (
            await session.execute(
                select(ConversationTag.name).where(ConversationTag.conversation_id == conversation.id)
            )
        ).scalars()
    )
    to_add = add_c - current
    to_remove = (remove_c & current) - add_c
    for name in sorted(to_add):
        session.add(ConversationTag(conversation_id=conversation.id, name=name, shop_id=shop_id))
    if to_remove:
        await session.execute(
            delete(ConversationTag).where(
                ConversationTag.conversation_id == conversation.id, ConversationTag.name.in_(to_remove)
            )
        )
    if to_add or to_remove:
        await sla_service.on_change(session, conversation)  # another SLA policy may apply
        await record(
            session,
            shop_id=shop_id,
            type="conversation.tagged",
            actor=actor,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            data={"added": sorted(to_add), "removed": sorted(to_remove)},
        )
    return sorted((current | to_add) - to_remove)


# --- channel ingest and delivery callbacks (used by storedesk.channels) -------------------------------------


async def find_open_conversation(
    session: AsyncSession, *, shop_id: int, customer_id: int, channel_id: int, lock: bool = False
) -> Conversation | None:
    """The customer's latest conversation on ``channel_id`` that is not closed (resolved ones reopen).

    ``lock``: read it ``FOR UPDATE`` (refreshed), ready to be handed to :func:`add_message` as ``locked``
    (inbound ingest: one read of the conversation instead of two)."""
    stmt = (
        ConversationRepository(session, shop_id)
        .select()
        .where(
            Conversation.customer_id == customer_id,
            Conversation.channel_id == channel_id,
            Conversation.status != ConversationStatus.closed,
        )
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    if lock:
        return await ConversationRepository(session, shop_id).first_for_update(stmt, refresh=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def conversation_for_provider_ids(
    session: AsyncSession, *, shop_id: int, channel_ids: list[int], provider_message_ids: list[str]
) -> Conversation | None:
    """The conversation holding the newest message with one of these provider ids (email Message-IDs)."""
    if not provider_message_ids or not channel_ids:
        return None
    stmt = (
        MessageRepository(session, shop_id)
        .select()
        .where(Message.channel_id.in_(channel_ids), Message.provider_message_id.in_(provider_message_ids))
        .order_by(Message.id.desc())
        .limit(1)
    )
    message = (await session.execute(stmt)).scalar_one_or_none()
    if message is None:
        return None
    return await ConversationRepository(session, shop_id).get(message.conversation_id)


async def last_inbound_at(
    session: AsyncSession, *, shop_id: int, customer_id: int, channel_id: int
) -> datetime | None:
    """When the customer last wrote to us on ``channel_id`` (messaging windows: WhatsApp, Messenger)."""
    stmt = (
        select(func.max(Message.created_at))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.shop_id == shop_id,
            Conversation.shop_id == shop_id,
            Conversation.customer_id == customer_id,
            Message.channel_id == channel_id,
            Message.direction == Direction.inbound,
        )
    )
    value = (await session.execute(stmt)).scalar_one_or_none()
    return ensure_aware(value) if isinstance(value, datetime) else None


_STATUS_TIMESTAMP = {
    DeliveryStatus.sent: "sent_at",
    DeliveryStatus.delivered: "delivered_at",
    DeliveryStatus.read: "read_at",
}


async def apply_delivery_status(
    session: AsyncSession,
    *,
    shop_id: int,
    channel_id: int,
    provider_message_id: str,
    status: DeliveryStatus,
    occurred_at: datetime | None = None,
    error: str | None = None,
    actor: Actor = Actor("system"),
) -> tuple[Message | None, bool]:
    """Apply a provider's delivery callback to our outbound message. Returns ``(message, changed)``.

    Callbacks arrive late, twice and out of order: the status only ever moves forward along
    ``DELIVERY_RANK`` (a ``read`` before its ``delivered`` wins; the late ``delivered`` only fills in
    ``delivered_at``). Unknown ids (messages sent from elsewhere) and inbound messages are ignored.
    """
    stmt = (
        MessageRepository(session, shop_id)
        .select()
        .where(Message.channel_id == channel_id, Message.provider_message_id == provider_message_id)
        .with_for_update()
    )
    message = (await session.execute(stmt)).scalar_one_or_none()
    if message is None or message.direction != Direction.outbound:
        return message, False
    when = occurred_at or utcnow()
    # implied earlier steps: read ⇒ delivered ⇒ sent
    if status in (DeliveryStatus.sent, DeliveryStatus.delivered, DeliveryStatus.read):
        for step in (DeliveryStatus.sent, DeliveryStatus.delivered, DeliveryStatus.read):
            attr = _STATUS_TIMESTAMP[step]
            if getattr(message, attr) is None:
                setattr(message, attr, when)
            if step == status:
                break
    before = DeliveryStatus(message.delivery_status)
    if DELIVERY_RANK[status] <= DELIVERY_RANK[before]:
        return message, False
    message.delivery_status = status
    if status == DeliveryStatus.failed:
        message.delivery_error = error or "the provider reported the message as failed"
    await record(
        session,
        shop_id=shop_id,
        type="message.failed" if status == DeliveryStatus.failed else "message.delivery_status",
        actor=actor,
        conversation_id=message.conversation_id,
        occurred_at=when,
        data={
            "message_id": message.id,
            "from": before.value,
            "to": status.value,
            **({"error": message.delivery_error} if status == DeliveryStatus.failed else {}),
        },
    )
    return message, True


# --- internal notes with @mentions, and bulk actions (the agent workspace) ------------------------------

MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][\w.+-]*)")


async def add_note(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    conversation_id: int,
    text: str,
    attachments: list[dict[str, Any]] | None = None,
) -> Message:
    """An internal note. ``@handle`` (the part of an agent's email before the @, or their name without
    spaces) notifies that agent."""
    message, _ = await add_message(
        session,
        shop_id=shop_id,
        actor=actor,
        conversation_id=conversation_id,
        direction=Direction.note,
        text=text,
        attachments=attachments,
    )
    handles = {h.rstrip(".").lower() for h in MENTION.findall(text)}
    if not handles:
        return message
    mentioned: list[int] = []
    for agent in await AgentRepository(session, shop_id).list():
        keys = {agent.email.split("@", 1)[0].lower(), "".join(agent.name.split()).lower()}
        if agent.is_active and keys & handles and not (actor.type == "agent" and actor.id == agent.id):
            mentioned.append(agent.id)
            await notify(
                session,
                shop_id=shop_id,
                agent_id=agent.id,
                kind="mention",
                text=text[:300],
                conversation_id=conversation_id,
            )
    if mentioned:
        message.meta = {**message.meta, "mentions": mentioned}
    return message


BULK_ACTIONS = ("assign", "tag", "untag", "status")


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    # the errors behind ``skipped`` (their reasons: transports show them in the user's language)
    errors: dict[int, StoredeskError] = field(default_factory=dict)


async def bulk_action(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    conversation_ids: list[int],
    action: str,
    assignee_id: int | None = None,
    tag: str | None = None,
    status: ConversationStatus | None = None,
) -> BulkResult:
    """Apply one action to many conversations through the single-conversation write paths.

    Each conversation is changed in its own savepoint: one that cannot take the change (already
    closed, another shop's id) is skipped with the reason and the others go through.
    """
    if action not in BULK_ACTIONS:
        raise ValidationFailed(
            f"unknown bulk action {action!r}", details={"field": "action"}, reason="bulk_action_unknown"
        )
    if action in ("tag", "untag") and not (tag or "").strip():
        raise ValidationFailed("enter a tag", details={"field": "tag"}, reason="tag_missing")
    if action == "status" and status is None:
        raise ValidationFailed("choose a status", details={"field": "status"}, reason="status_missing")
    if action == "status" and status == ConversationStatus.snoozed:
        raise ValidationFailed(
            "snooze conversations one at a time", details={"field": "status"}, reason="bulk_snooze"
        )
    result = BulkResult()
    for conversation_id in dict.fromkeys(conversation_ids):
        try:
            async with session.begin_nested():
                if action == "assign":
                    await assign(
                        session,
                        shop_id=shop_id,
                        actor=actor,
                        conversation_id=conversation_id,
                        assignee_id=assignee_id,
                        team_id=None,
                        set_team=False,
                    )
                elif action in ("tag", "untag"):
                    await change_tags(
                        session,
                        shop_id=shop_id,
                        actor=actor,
                        conversation_id=conversation_id,
                        add=[tag or ""] if action == "tag" else [],
                        remove=[tag or ""] if action == "untag" else [],
                    )
                elif status is not None:
                    await change_status(
                        session, shop_id=shop_id, actor=actor, conversation_id=conversation_id, status=status
                    )
        except StoredeskError as exc:
            result.skipped[conversation_id] = exc.message
            result.errors[conversation_id] = exc
        else:
            result.done.append(conversation_id)
    return result
