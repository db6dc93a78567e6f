"""The commerce mirror: what the shop's store platform knows, kept with the platform's ids."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk


class Store(IdMixin, TimestampMixin, Base):
    """A connected store platform account (Shopify, WooCommerce, Ecwid, CSV import, demo)."""

    __tablename__ = "stores"

    shop_id: Mapped[int] = shop_fk()
    platform: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(String(500))
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    sync_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the platform-side address of the store: myshopify domain, WooCommerce site URL, Ecwid store id
    external_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None]


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "products"
    # handles are unique per store, not per shop: two connected stores may both sell "t-shirt"
    __table_args__ = (
        Index("ix_products_shop_handle", "shop_id", "handle"),
        Index("ux_products_store_external", "store_id", "external_id", unique=True),
    )

    shop_id: Mapped[int] = shop_fk()
    store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    vendor: Mapped[str | None] = mapped_column(String(200))
    final_sale: Mapped[bool] = mapped_column(default=False)
    platform_updated_at: Mapped[datetime | None]


class InventoryPolicy(StrEnum):
    deny = "deny"
    backorder = "backorder"


class Variant(IdMixin, TimestampMixin, Base):
    __tablename__ = "variants"
    # SKUs are optional on the platforms (empty on many Shopify variants) and repeat across stores
    __table_args__ = (
        Index("ix_variants_shop_sku", "shop_id", "sku"),
        Index("ux_variants_store_external", "store_id", "external_id", unique=True),
    )

    shop_id: Mapped[int] = shop_fk()
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    size: Mapped[str | None] = mapped_column(String(32))
    color: Mapped[str | None] = mapped_column(String(32))
    price_minor: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    inventory_policy: Mapped[InventoryPolicy] = mapped_column(String(16), default=InventoryPolicy.deny)
    restock_date: Mapped[date | None]


class FinancialStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    voided = "voided"


class FulfillmentStatus(StrEnum):
    unfulfilled = "unfulfilled"
    partial = "partial"
    fulfilled = "fulfilled"


class Order(IdMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    # numbers are unique per store, not per shop (a Shopify #1001 and a WooCommerce 1001 may coexist);
    # the platform's id is the key a sync upserts on
    __table_args__ = (
        Index("ix_orders_shop_number", "shop_id", "number"),
        Index("ux_orders_store_external", "store_id", "external_id", unique=True),
        Index("ix_orders_shop_customer", "shop_id", "customer_id", "placed_at"),
        Index("ix_orders_shop_placed", "shop_id", "placed_at", "id"),
    )

    shop_id: Mapped[int] = shop_fk()
    store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    financial_status: Mapped[FinancialStatus] = mapped_column(String(24))
    fulfillment_status: Mapped[FulfillmentStatus] = mapped_column(String(16))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    subtotal_minor: Mapped[int]
    shipping_minor: Mapped[int] = mapped_column(default=0)
    tax_minor: Mapped[int] = mapped_column(default=0)
    total_minor: Mapped[int]
    refunded_minor: Mapped[int] = mapped_column(default=0)
    shipping_method: Mapped[str | None] = mapped_column(String(100))
    payment_method: Mapped[str | None] = mapped_column(String(100))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column()
    billing_address: Mapped[dict[str, Any] | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    placed_at: Mapped[datetime]
    platform_updated_at: Mapped[datetime | None]
    # an order action in flight (set before the platform call, cleared after): one action at a time
    action_pending: Mapped[str | None] = mapped_column(String(32))
    action_started_at: Mapped[datetime | None]


class OrderLine(IdMixin, Base):
    __tablename__ = "order_lines"
    __table_args__ = (Index("ux_order_lines_order_external", "order_id", "external_id", unique=True),)

    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("variants.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    variant_title: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_minor: Mapped[int]
    total_minor: Mapped[int]
    refunded_quantity: Mapped[int] = mapped_column(default=0)


class ShipmentStatus(StrEnum):
    label_created = "label_created"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    exception = "exception"
    returned_to_sender = "returned_to_sender"


class Shipment(IdMixin, TimestampMixin, Base):
    __tablename__ = "shipments"
    __table_args__ = (Index("ux_shipments_order_external", "order_id", "external_id", unique=True),)

    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(100), index=True)
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ShipmentStatus] = mapped_column(String(24))
    shipped_at: Mapped[datetime | None]
    estimated_delivery_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    platform_updated_at: Mapped[datetime | None]


class TrackingEvent(IdMixin, Base):
    __tablename__ = "tracking_events"

    shop_id: Mapped[int] = shop_fk()
    shipment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    location: Mapped[str | None] = mapped_column(String(200))


class ReturnStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"
    label_issued = "label_issued"
    in_transit = "in_transit"
    received = "received"
    inspected = "inspected"
    refunded = "refunded"
    exchanged = "exchanged"
    store_credit = "store_credit"


class Return(IdMixin, TimestampMixin, Base):
    """An RMA: lines of an order coming back, and what the customer gets for them."""

    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint("shop_id", "number"),
        Index("ux_returns_order_external", "order_id", "external_id", unique=True),
    )

    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[ReturnStatus] = mapped_column(String(16))
    resolution: Mapped[str] = mapped_column(String(16), default="refund")
    reason: Mapped[str | None] = mapped_column(String(200))
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(64))


class ReturnLine(IdMixin, Base):
    __tablename__ = "return_lines"
    __table_args__ = (UniqueConstraint("return_id", "order_line_id"),)

    shop_id: Mapped[int] = shop_fk()
    return_id: Mapped[int] = mapped_column(BigId, ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(200))


class Refund(IdMixin, TimestampMixin, Base):
    __tablename__ = "refunds"
    __table_args__ = (Index("ux_refunds_order_external", "order_id", "external_id", unique=True),)

    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    return_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("returns.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(64))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    processed_at: Mapped[datetime | None]
    shipping_minor: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # [{"order_line_id": 12, "quantity": 1}]: the lines this refund covers
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
