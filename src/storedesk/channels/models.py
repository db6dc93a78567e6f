from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk
from storedesk.kit.time import utcnow


class ChannelKind(StrEnum):
    chat = "chat"
    email = "email"
    whatsapp = "whatsapp"
    messenger = "messenger"
    instagram = "instagram"
    sms = "sms"
    voice = "voice"
    webform = "webform"
    api = "api"


class Channel(IdMixin, TimestampMixin, Base):
    """An inbox bound to one account on one medium. Credentials are encrypted at rest."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("kind", "external_id"),)

    shop_id: Mapped[int] = shop_fk()
    kind: Mapped[ChannelKind] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # the provider-side address that routes inbound traffic here: mailbox, phone number id, page id ...
    external_id: Mapped[str | None] = mapped_column(String(320))
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)


class InboundEvent(IdMixin, Base):
    """Every raw inbound delivery (webhook body, SMTP message), stored before it is acknowledged.

    ``(source, dedupe_key)`` is unique: a provider's retry of the same delivery is recognised and
    changes nothing.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source", "dedupe_key"),
        Index("ix_inbound_events_status", "status", "received_at"),
    )

    shop_id: Mapped[int | None] = mapped_column(index=True)
    channel_id: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class ChatSession(IdMixin, TimestampMixin, Base):
    """A website-chat visitor: the subject of a signed visitor token, bound to the conversation it sees.

    The widget only ever shows the conversation bound here — never other conversations of the customer
    the visitor was identified as (pre-chat identification is not proof of identity).
    """

    __tablename__ = "chat_sessions"
    __table_args__ = (UniqueConstraint("channel_id", "visitor_id"),)

    shop_id: Mapped[int] = shop_fk()
    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    order_number: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
