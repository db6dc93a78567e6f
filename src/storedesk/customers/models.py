from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk


class IdentityKind(StrEnum):
    email = "email"
    phone = "phone"
    whatsapp = "whatsapp"
    messenger = "messenger"
    instagram = "instagram"
    chat_visitor = "chat_visitor"
    store_customer = "store_customer"


class Customer(IdMixin, TimestampMixin, Base):
    """One person, many identities; merged customers point at the survivor."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_shop_name", "shop_id", "name"),)

    shop_id: Mapped[int] = shop_fk()
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    segments: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[dict[str, Any] | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    merged_at: Mapped[datetime | None]


class CustomerIdentity(IdMixin, TimestampMixin, Base):
    """A normalised handle (email, E.164 phone, platform id) that resolves to one customer per shop."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "value"),)

    shop_id: Mapped[int] = shop_fk()
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[IdentityKind] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(320))
