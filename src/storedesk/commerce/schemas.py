from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from storedesk.kit.schemas import Out


class OrderSummaryOut(Out):
    id: int
    number: str
    customer_id: int | None
    email: str | None
    currency: str
    financial_status: str
    fulfillment_status: str
    cancelled_at: datetime | None
    total_minor: int
    refunded_minor: int
    placed_at: datetime


class OrderLineOut(Out):
    id: int
    variant_id: int | None
    sku: str | None
    title: str
    variant_title: str | None
    quantity: int
    unit_price_minor: int
    total_minor: int
    refunded_quantity: int


class TrackingEventOut(Out):
    id: int
    occurred_at: datetime
    status: str
    description: str
    location: str | None


class ShipmentOut(Out):
    id: int
    order_id: int
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    status: str
    shipped_at: datetime | None
    estimated_delivery_at: datetime | None
    delivered_at: datetime | None
    events: list[TrackingEventOut] = Field(default_factory=list)


class RefundOut(Out):
    id: int
    amount_minor: int
    currency: str
    reason: str | None
    status: str
    created_at: datetime
    processed_at: datetime | None


class ReturnOut(Out):
    id: int
    number: str
    status: str
    resolution: str
    reason: str | None
    created_at: datetime


class OrderOut(OrderSummaryOut):
    phone: str | None
    cancel_reason: str | None
    subtotal_minor: int
    shipping_minor: int
    tax_minor: int
    shipping_method: str | None
    payment_method: str | None
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    note: str | None
    tags: list[str]
    lines: list[OrderLineOut] = Field(default_factory=list)
    shipments: list[ShipmentOut] = Field(default_factory=list)
    refunds: list[RefundOut] = Field(default_factory=list)
    returns: list[ReturnOut] = Field(default_factory=list)


class VariantOut(Out):
    id: int
    sku: str
    title: str
    size: str | None
    color: str | None
    price_minor: int
    stock: int
    inventory_policy: str
    restock_date: date | None


class ProductOut(Out):
    id: int
    handle: str
    title: str
    category: str | None
    description: str | None
    vendor: str | None
    variants: list[VariantOut] = Field(default_factory=list)
