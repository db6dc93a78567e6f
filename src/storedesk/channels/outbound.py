"""Outbound delivery: one job picks the channel's sender; senders are adapters behind a Protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from storedesk.customers.models import IdentityKind


class TemporarySendError(Exception):
    """The provider could not take the message now (timeout, 5xx, 429): retry with backoff."""


class PermanentSendError(Exception):
    """The provider refused the message for good (bad recipient, closed window): mark it failed."""


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    shop_id: int
    conversation_id: int
    conversation_number: int
    channel_id: int
    channel_kind: str
    channel_external_id: str | None
    credentials: dict[str, Any]
    settings: dict[str, Any]
    recipients: dict[str, list[str]]
    text: str
    html: str | None
    subject: str | None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    author_type: str = "agent"
    author_name: str | None = None
    thread: dict[str, Any] = field(default_factory=dict)
    # quick-reply buttons (``meta.buttons`` of the message, e.g. a survey's scores): ``{id, title,
    # description?, url?}``; a channel that has buttons sends them, the others send the text (with its link)
    buttons: list[dict[str, Any]] = field(default_factory=list)
    buttons_label: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    delivered: bool = False


class ChannelSender(Protocol):
    async def send(self, message: OutboundMessage) -> SendResult: ...


class InAppSender:
    """Chat widget and API channel: the customer's client reads the message from us, nothing to push."""

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(provider_message_id=None, delivered=False)


_senders: dict[str, ChannelSender] = {"chat": InAppSender(), "api": InAppSender()}

RECIPIENT_KIND: dict[str, IdentityKind] = {
    "email": IdentityKind.email,
    "whatsapp": IdentityKind.whatsapp,
    "sms": IdentityKind.phone,
    "voice": IdentityKind.phone,
    "messenger": IdentityKind.messenger,
    "instagram": IdentityKind.instagram,
    "chat": IdentityKind.chat_visitor,
}


def register_sender(kind: str, sender: ChannelSender) -> None:
    _senders[kind] = sender


def sender_for(kind: str) -> ChannelSender | None:
    return _senders.get(kind)
