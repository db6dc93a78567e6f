"""One row per customer message the assistant looked at: what it understood, what it knew, what it did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, shop_fk
from storedesk.kit.time import utcnow


class AssistantTurn(IdMixin, Base):
    """The "why" of one assistant turn. ``message_id`` (the inbound message) is unique: a turn per message."""

    __tablename__ = "assistant_turns"
    __table_args__ = (
        Index("ix_assistant_turns_conversation", "conversation_id", "id"),
        Index("ix_assistant_turns_shop_created", "shop_id", "created_at"),
    )

    shop_id: Mapped[int] = shop_fk()
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    # the inbound message (unique); NULL for "suggest on demand" turns an agent asked for
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="started")  # started | done | skipped
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(48))
    confidence: Mapped[float | None]
    decision: Mapped[str | None] = mapped_column(String(16))  # NLU: answer | suggest | handover
    outcome: Mapped[str | None] = mapped_column(
        String(16)
    )  # answered | action | suggested | handover | skipped
    entities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy_check: Mapped[dict[str, Any]] = mapped_column(default=dict)
    action: Mapped[str | None] = mapped_column(String(48))
    action_result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # a question waiting for the customer's answer ({"kind": "confirm_cancel", "order_id": …}); None when none
    pending: Mapped[dict[str, Any] | None] = mapped_column()
    reply_message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="SET NULL")
    )
    suggested_text: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(64))
    corrected_intent: Mapped[str | None] = mapped_column(String(48))
    corrected_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id", ondelete="SET NULL"))
    corrected_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
