"""Background jobs of the conversations domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storedesk.agents.models import Agent
from storedesk.channels.models import Channel
from storedesk.channels.outbound import (
    RECIPIENT_KIND,
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    sender_for,
)
from storedesk.conversations.models import Conversation, DeliveryStatus, Message
from storedesk.customers.models import CustomerIdentity
from storedesk.events.service import record
from storedesk.jobs.registry import JobContext, PermanentJobError, job
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from storedesk.kit.time import utcnow

_box: SecretBox | None = None


def configure(box: SecretBox) -> None:
    """Called by the composition root so jobs can decrypt channel credentials."""
    global _box
    _box = box


async def _load(ctx: JobContext, message_id: int) -> OutboundMessage | None:
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(Message, Conversation, Channel)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Channel, Channel.id == Message.channel_id)
                .where(Message.id == message_id, Message.shop_id == ctx.shop_id)
            )
        ).one_or_none()
        if row is None:
            raise PermanentJobError(f"message {message_id} not found")
        message, conversation, channel = row
        if message.delivery_status != DeliveryStatus.queued:
            return None  # already sent (a re-run after a crash) or failed for good
        recipients: dict[str, list[str]] = {}
        for kind, value in (
            await session.execute(
                select(CustomerIdentity.kind, CustomerIdentity.value)
                .where(CustomerIdentity.customer_id == conversation.customer_id)
                .order_by(CustomerIdentity.id)
            )
        ).all():
            recipients.setdefault(kind, []).append(value)
        author_name = None
        if message.author_agent_id is not None:
            author_name = (
                await session.execute(select(Agent.name).where(Agent.id == message.author_agent_id))
            ).scalar_one_or_none()
        creds = {}
        if channel.credentials_encrypted and _box is not None:
            creds = _box.decrypt_json(channel.credentials_encrypted)
        return OutboundMessage(
            message_id=message.id,
            shop_id=message.shop_id,
            conversation_id=conversation.id,
            conversation_number=conversation.number,
            channel_id=channel.id,
            channel_kind=channel.kind,
            channel_external_id=channel.external_id,
            credentials=creds,
            settings=channel.settings,
            recipients=recipients,
            text=message.text,
            html=message.html,
            subject=conversation.subject,
            attachments=message.attachments,
            author_type=message.author_type,
            author_name=author_name,
            thread=dict(message.meta.get("thread", {})),
            buttons=list(message.meta.get("buttons") or []),
            buttons_label=message.meta.get("buttons_label"),
        )


async def _finish(ctx: JobContext, message_id: int, result: SendResult | None, error: str | None) -> None:
    async with ctx.db.transaction() as session:
        message = (
            await session.execute(select(Message).where(Message.id == message_id).with_for_update())
        ).scalar_one()
        conversation_id = message.conversation_id
        if error is None and result is not None:
            now = utcnow()
            message.delivery_status = DeliveryStatus.delivered if result.delivered else DeliveryStatus.sent
            message.sent_at = now
            if result.delivered:
                message.delivered_at = now
            if result.provider_message_id:
                message.provider_message_id = result.provider_message_id
            event_type = "message.sent"
            data: dict[str, Any] = {"message_id": message.id}
        else:
            message.delivery_status = DeliveryStatus.failed
            message.delivery_error = error
            event_type = "message.failed"
            data = {"message_id": message.id, "error": error}
        await record(
            session,
            shop_id=message.shop_id,
            type=event_type,
            actor=SYSTEM,
            conversation_id=conversation_id,
            data=data,
        )


@job("delivery.send", max_attempts=8, backoff_seconds=5.0)
async def deliver(ctx: JobContext) -> None:
    message_id = int(ctx.payload["message_id"])
    outbound = await _load(ctx, message_id)
    if outbound is None:
        return
    sender = sender_for(outbound.channel_kind)
    if sender is None:
        await _finish(ctx, message_id, None, f"no outbound adapter for {outbound.channel_kind} channels")
        raise PermanentJobError(f"no outbound adapter for {outbound.channel_kind} channels")
    kind = RECIPIENT_KIND.get(outbound.channel_kind)
    if (
        kind is not None
        and outbound.channel_kind not in ("chat", "api")
        and not outbound.recipients.get(kind)
    ):
        error = f"the customer has no {kind.value} to send to"
        await _finish(ctx, message_id, None, error)
        raise PermanentJobError(error)
    try:
        result = await sender.send(outbound)
    except PermanentSendError as exc:
        await _finish(ctx, message_id, None, str(exc))
        raise PermanentJobError(str(exc)) from exc
    except TemporarySendError as exc:
        if ctx.is_last_attempt:
            await _finish(ctx, message_id, None, f"gave up after {ctx.attempt} attempts: {exc}")
        raise
    await _finish(ctx, message_id, result, None)


@job("conversation.wake", max_attempts=5)
async def wake(ctx: JobContext) -> None:
    from storedesk.conversations.service import wake_if_due

    assert ctx.shop_id is not None
    async with ctx.db.transaction() as session:
        await wake_if_due(
            session,
            shop_id=ctx.shop_id,
            conversation_id=int(ctx.payload["conversation_id"]),
            snoozed_until=str(ctx.payload["snoozed_until"]),
        )
