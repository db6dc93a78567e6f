"""Feedback: surveys sent to customers (CSAT, CES, NPS), their responses, and imported product reviews."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk
from storedesk.kit.time import utcnow


class SurveyKind(StrEnum):
    csat = "csat"  # 1–5: how satisfied with the help
    ces = "ces"  # 1–7: "made it easy to handle my issue" (7 = strongly agree)
    nps = "nps"  # 0–10: how likely to recommend


SCALES: dict[SurveyKind, tuple[int, int]] = {
    SurveyKind.csat: (1, 5),
    SurveyKind.ces: (1, 7),
    SurveyKind.nps: (0, 10),
}


class SurveyTrigger(StrEnum):
    resolved = "resolved"
    delivery = "delivery"
    periodic = "periodic"
    manual = "manual"


class SurveyStatus(StrEnum):
    scheduled = "scheduled"
    sent = "sent"
    answered = "answered"
    skipped = "skipped"


class Survey(IdMixin, TimestampMixin, Base):
    """One survey sent to one customer: its questions (``kinds``, the first is asked in the message),
    who and what it is about, and the nonce its signed link is made from."""

    __tablename__ = "surveys"
    __table_args__ = (
        Index("ix_surveys_shop_customer", "shop_id", "customer_id", "created_at"),
        Index("ix_surveys_shop_conversation", "shop_id", "conversation_id"),
        Index("ix_surveys_shop_created", "shop_id", "created_at", "id"),
    )

    shop_id: Mapped[int] = shop_fk()
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL")
    )
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"))
    channel_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("channels.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    trigger: Mapped[SurveyTrigger] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(48))
    status: Mapped[SurveyStatus] = mapped_column(String(16), default=SurveyStatus.scheduled)
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    nonce: Mapped[str] = mapped_column(String(32))
    scheduled_for: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]


class SurveyResponse(IdMixin, Base):
    """A customer's answer to one question of a survey, with what it is about copied for reporting."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("survey_id", "kind"),
        Index("ix_survey_responses_shop_answered", "shop_id", "answered_at", "id"),
    )

    shop_id: Mapped[int] = shop_fk()
    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("surveys.id", ondelete="CASCADE"))
    kind: Mapped[SurveyKind] = mapped_column(String(8))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL")
    )
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"))
    channel_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("channels.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    follow_up_conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL")
    )


class Review(IdMixin, TimestampMixin, Base):
    """A product review from the store (CSV import now, a connector later), linked where we can."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("shop_id", "source", "external_id"),
        Index("ix_reviews_shop_published", "shop_id", "published_at", "id"),
        Index("ix_reviews_shop_customer", "shop_id", "customer_id"),
    )

    shop_id: Mapped[int] = shop_fk()
    source: Mapped[str] = mapped_column(String(32), default="csv")
    external_id: Mapped[str] = mapped_column(String(128))
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id", ondelete="SET NULL"))
    product_title: Mapped[str | None] = mapped_column(String(300))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id", ondelete="SET NULL"))
    rating: Mapped[int]
    title: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[datetime]
    follow_up_conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL")
    )
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    replied_by_agent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agents.id", ondelete="SET NULL")
    )
