"""SLA policies and the per-conversation SLA clock (the due times themselves live on Conversation)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk
from storedesk.kit.time import utcnow


class SlaTarget(StrEnum):
    first_response = "first_response"
    next_response = "next_response"
    resolution = "resolution"


class SlaOutcome(StrEnum):
    achieved = "achieved"
    breached = "breached"


class SlaPolicy(IdMixin, TimestampMixin, Base):
    """Targets for the conversations it matches. Policies are tried in ``position`` order; the first
    active one whose conditions all hold (empty condition = any) applies."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint("shop_id", "name"),
        Index("ix_sla_policies_shop_position", "shop_id", "position", "id"),
    )

    shop_id: Mapped[int] = shop_fk()
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    match_priority: Mapped[str | None] = mapped_column(String(16))
    match_channel_kind: Mapped[str | None] = mapped_column(String(16))
    match_tag: Mapped[str | None] = mapped_column(String(64))
    first_response_minutes: Mapped[int | None]
    next_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    business_hours: Mapped[bool] = mapped_column(default=True)


class ConversationSla(Base):
    """The SLA clock of one conversation: what the due times on ``conversations`` are computed from.

    ``started_at`` is the customer's first message; ``awaiting_since`` the oldest customer message not yet
    answered by an agent or the assistant (automatic replies and surveys do not count as answers).
    ``next_due_at`` is the earliest running due time (met or not), ``next_breach_at`` the earliest one not
    yet reported as breached: the inbox and the breach job read these two (indexed) instead of scanning
    open conversations.
    """

    __tablename__ = "sla_conversation_states"
    __table_args__ = (
        Index("ix_sla_states_next_breach", "next_breach_at", "shop_id"),
        Index("ix_sla_states_shop_next_due", "shop_id", "next_due_at"),
    )

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[int] = shop_fk()
    policy_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_policies.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    awaiting_since: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(16))
    paused_at: Mapped[datetime | None]
    paused_seconds: Mapped[float] = mapped_column(default=0.0)
    first_response_outcome: Mapped[str | None] = mapped_column(String(16))
    next_response_outcome: Mapped[str | None] = mapped_column(String(16))
    resolution_outcome: Mapped[str | None] = mapped_column(String(16))
    next_due_at: Mapped[datetime | None]
    next_breach_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
