from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, IdMixin, TimestampMixin

DEFAULT_POLICIES: dict[str, Any] = {
    "cancellation_window_hours": 24,
    "return_window_days": 30,
    "return_window_starts": "delivery",
    "refund_processing_days": 5,
    "free_return_countries": [],
    "restocking_fee_percent": 0,
}

DEFAULT_BUSINESS_HOURS: dict[str, Any] = {
    "mon": [["09:00", "17:00"]],
    "tue": [["09:00", "17:00"]],
    "wed": [["09:00", "17:00"]],
    "thu": [["09:00", "17:00"]],
    "fri": [["09:00", "17:00"]],
    "sat": [],
    "sun": [],
    "holidays": [],
}


class Shop(IdMixin, TimestampMixin, Base):
    """A tenant: one online shop with its own agents, channels, customers and orders."""

    __tablename__ = "shops"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["en"])
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    country: Mapped[str | None] = mapped_column(String(2))
    support_email: Mapped[str | None] = mapped_column(String(320))
    order_number_pattern: Mapped[str] = mapped_column(String(200), default=r"#?\d{4,8}")
    business_hours: Mapped[dict[str, Any]] = mapped_column(default=lambda: dict(DEFAULT_BUSINESS_HOURS))
    policies: Mapped[dict[str, Any]] = mapped_column(default=lambda: dict(DEFAULT_POLICIES))
    conversation_seq: Mapped[int] = mapped_column(default=0)
    # A fresh random value whenever settings that processes cache change (time zone, business hours,
    # SLA policies): a cached copy is checked against it in the same query that loads the data it is
    # used for (storedesk.sla.service). NULL (rows written outside the services) means "do not cache".
    settings_token: Mapped[str | None] = mapped_column(String(32), default=lambda: new_settings_token())


def new_settings_token() -> str:
    return uuid.uuid4().hex
