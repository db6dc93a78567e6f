from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, IdMixin, shop_fk
from storedesk.kit.time import utcnow


class Event(IdMixin, Base):
    """Append-only timeline and audit log. KPI rollups are built from it; nothing updates a row."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_conversation", "shop_id", "conversation_id", "id"),
        Index("ix_events_type_time", "shop_id", "type", "occurred_at"),
        Index("ix_events_customer", "shop_id", "customer_id", "id"),
    )

    shop_id: Mapped[int] = shop_fk()
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    conversation_id: Mapped[int | None]
    customer_id: Mapped[int | None]
    order_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
