from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk
from storedesk.kit.time import utcnow


class ConversationStatus(StrEnum):
    open = "open"
    pending = "pending"
    snoozed = "snoozed"
    resolved = "resolved"
    closed = "closed"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


# The inbox's priority order as SQL: the expression of index ix_conv_shop_status_priority. A query
# sorting by it must use this exact text (literal values, no bound parameters) to use the index.
PRIORITY_RANK_SQL = (
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
)
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}  # the same ranks (anything else: 4)


class Conversation(IdMixin, TimestampMixin, Base):
    """A ticket: one customer, one thread, a channel of origin, and the timestamps KPIs need."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("shop_id", "number"),
        Index("ix_conv_shop_status_activity", "shop_id", "status", "last_activity_at", "id"),
        Index("ix_conv_shop_activity", "shop_id", "last_activity_at", "id"),
        Index("ix_conv_shop_assignee", "shop_id", "assignee_id", "last_activity_at"),
        Index("ix_conv_shop_customer", "shop_id", "customer_id"),
        # the agent workspace's inbox sorts (migration 0004_search)
        Index("ix_conv_shop_status_waiting", "shop_id", "status", "waiting_since", "id"),
        Index("ix_conv_shop_status_assignee", "shop_id", "status", "assignee_id", "last_activity_at"),
        # inbox filters by priority, language, channel and team stay index-only at 1M (migration 0005)
        Index("ix_conv_shop_priority_activity", "shop_id", "priority", "last_activity_at", "id"),
        Index("ix_conv_shop_language_activity", "shop_id", "language", "last_activity_at", "id"),
        Index("ix_conv_shop_channel_activity", "shop_id", "channel_id", "last_activity_at", "id"),
        Index("ix_conv_shop_team_activity", "shop_id", "team_id", "last_activity_at", "id"),
        # the inbox sorted by priority (migration 0610): walks the index instead of sorting every match
        Index(
            "ix_conv_shop_status_priority",
            "shop_id",
            "status",
            text(PRIORITY_RANK_SQL),
            text("last_activity_at DESC"),
            text("id DESC"),
        ),
        # "SLA due soon" / breached views: only conversations that have a due time are indexed
        Index(
            "ix_conv_shop_frt_due",
            "shop_id",
            "first_response_due_at",
            postgresql_where=text("first_response_at IS NULL AND first_response_due_at IS NOT NULL"),
            sqlite_where=text("first_response_at IS NULL AND first_response_due_at IS NOT NULL"),
        ),
        Index(
            "ix_conv_shop_resolution_due",
            "shop_id",
            "resolution_due_at",
            postgresql_where=text("resolution_due_at IS NOT NULL"),
            sqlite_where=text("resolution_due_at IS NOT NULL"),
        ),
    )

    shop_id: Mapped[int] = shop_fk()
    number: Mapped[int]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id"))
    subject: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ConversationStatus] = mapped_column(String(16), default=ConversationStatus.open)
    priority: Mapped[Priority] = mapped_column(String(16), default=Priority.normal)
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"))
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(48))
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id", ondelete="SET NULL"))
    snoozed_until: Mapped[datetime | None]
    first_response_due_at: Mapped[datetime | None]
    next_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    waiting_since: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    reopened_count: Mapped[int] = mapped_column(default=0)
    message_count: Mapped[int] = mapped_column(default=0)
    resolved_by_assistant: Mapped[bool] = mapped_column(default=False)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"
    __table_args__ = (Index("ix_conversation_tags_shop_name", "shop_id", "name"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[int] = shop_fk()


class Direction(StrEnum):
    inbound = "inbound"
    outbound = "outbound"
    note = "note"
    system = "system"


class AuthorType(StrEnum):
    customer = "customer"
    agent = "agent"
    assistant = "assistant"
    system = "system"


class DeliveryStatus(StrEnum):
    received = "received"
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"


# a status update never moves a message backwards (providers deliver callbacks out of order)
DELIVERY_RANK = {
    DeliveryStatus.received: 0,
    DeliveryStatus.queued: 1,
    DeliveryStatus.sent: 2,
    DeliveryStatus.delivered: 3,
    DeliveryStatus.read: 4,
    DeliveryStatus.failed: 5,
}


class Message(IdMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "provider_message_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
    )

    shop_id: Mapped[int] = shop_fk()
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    channel_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("channels.id"))
    direction: Mapped[Direction] = mapped_column(String(16))
    author_type: Mapped[AuthorType] = mapped_column(String(16))
    author_agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    delivery_status: Mapped[DeliveryStatus] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


class Attachment(IdMixin, Base):
    """A stored file (upload from the widget or composer, email attachment). Bytes live in file storage."""

    __tablename__ = "attachments"

    shop_id: Mapped[int] = shop_fk()
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    content_id: Mapped[str | None] = mapped_column(String(255))
    inline: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
