"""What an RMA needs beyond the commerce mirror's ``Return``/``ReturnLine``: the chosen method, the
policy decision and money (computed once, at request time), the label, the step timestamps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk
from storedesk.kit.time import utcnow


class ReturnMethod(StrEnum):
    refund = "refund"
    store_credit = "store_credit"
    exchange = "exchange"


class ReturnCase(IdMixin, TimestampMixin, Base):
    __tablename__ = "return_cases"
    __table_args__ = (UniqueConstraint("return_id"),)

    shop_id: Mapped[int] = shop_fk()
    return_id: Mapped[int] = mapped_column(BigId, ForeignKey("returns.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    method: Mapped[ReturnMethod] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="portal")
    language: Mapped[str] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    items_minor: Mapped[int] = mapped_column(default=0)
    restocking_fee_minor: Mapped[int] = mapped_column(default=0)
    label_fee_minor: Mapped[int] = mapped_column(default=0)
    bonus_minor: Mapped[int] = mapped_column(default=0)
    payout_minor: Mapped[int] = mapped_column(default=0)
    customer_pays_shipping: Mapped[bool] = mapped_column(default=False)
    customs_note: Mapped[str | None] = mapped_column(Text)
    label_carrier: Mapped[str | None] = mapped_column(String(64))
    label_number: Mapped[str | None] = mapped_column(String(64))
    label_issued_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    inspected_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    inspection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decision: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReturnLineChoice(IdMixin, Base):
    __tablename__ = "return_line_choices"
    __table_args__ = (UniqueConstraint("return_line_id"),)

    shop_id: Mapped[int] = shop_fk()
    return_id: Mapped[int] = mapped_column(BigId, ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    return_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("return_lines.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id", ondelete="CASCADE"))
    exchange_variant_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("variants.id", ondelete="SET NULL")
    )
    amount_minor: Mapped[int] = mapped_column(default=0)
    restocking_fee_minor: Mapped[int] = mapped_column(default=0)
    condition: Mapped[str | None] = mapped_column(String(32))


class StoreCredit(IdMixin, Base):
    """Store credit granted for a return (the bonus included)."""

    __tablename__ = "store_credits"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)

    shop_id: Mapped[int] = shop_fk()
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    return_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("returns.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(32))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
