from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from storedesk.kit.schemas import MAX_ID, In, Out


class OrderSummaryOut(Out):
    id: int
    number: str
    store_id: int | None = None
    store_name: str | None = None
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


# --- stores -------------------------------------------------------------------------------------------------


class ShopifyCredentials(In):
    store_domain: str = Field(min_length=3, max_length=255, examples=["nordlys.myshopify.com"])
    access_token: str = Field(min_length=8, max_length=500)
    api_secret: str | None = Field(
        default=None, min_length=8, max_length=500, description="the app's client secret (webhook HMAC)"
    )
    api_version: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")


class WooCommerceCredentials(In):
    site_url: str = Field(min_length=8, max_length=500, examples=["https://shop.example"])
    consumer_key: str = Field(min_length=8, max_length=200)
    consumer_secret: str = Field(min_length=8, max_length=200)
    webhook_secret: str | None = Field(
        default=None, max_length=200, description="generated and shown once when not given"
    )
    auth_mode: Literal["basic", "query"] = "basic"


class EcwidCredentials(In):
    store_id: str = Field(min_length=1, max_length=32, pattern=r"^\d+$")
    access_token: str = Field(min_length=8, max_length=500)
    client_secret: str | None = Field(
        default=None, min_length=4, max_length=500, description="the app's client_secret (webhooks)"
    )


class StoreConnect(In):
    platform: Literal["shopify", "woocommerce", "ecwid"]
    name: str | None = Field(default=None, max_length=200)
    credentials: dict[str, Any]
    base_url: str | None = Field(
        default=None, max_length=500, description="the platform's API address, for local test servers"
    )
    backfill: bool = True

    @model_validator(mode="after")
    def _credentials_fit_the_platform(self) -> StoreConnect:
        models: dict[str, type[In]] = {
            "shopify": ShopifyCredentials,
            "woocommerce": WooCommerceCredentials,
            "ecwid": EcwidCredentials,
        }
        try:
            checked = models[self.platform].model_validate(self.credentials)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"credentials.{where}: {first['msg']}") from None
        self.credentials = checked.model_dump(exclude_none=True)
        return self

    def validated_credentials(self) -> dict[str, Any]:
        return dict(self.credentials)


class ResourceProgressOut(BaseModel):
    done: int = 0
    total: int | None = None
    complete: bool = False


class BackfillOut(BaseModel):
    status: str = "not_started"
    run: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    percent: float | None = None
    resources: dict[str, ResourceProgressOut] = Field(default_factory=dict)


class StoreOut(Out):
    id: int
    platform: str
    name: str
    status: str
    external_id: str | None
    base_url: str | None
    created_at: datetime
    last_synced_at: datetime | None
    last_error: str | None
    webhook_path: str = ""
    warnings: list[str] = Field(default_factory=list)
    backfill: BackfillOut = Field(default_factory=BackfillOut)
    counts: dict[str, int] = Field(default_factory=dict)
    webhooks: WebhooksOut | None = Field(
        default=None, description="the last webhook subscription (queued when the store was connected)"
    )


class WebhooksOut(Out):
    status: str = Field(description="registered, partial, failed or manual (set it in the platform's admin)")
    callback_url: str
    at: str | None = None
    message: str | None = None
    created: list[str] = Field(default_factory=list)
    existing: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


class StoreConnectedOut(StoreOut):
    generated: dict[str, str] = Field(
        default_factory=dict, description="secrets storedesk generated; shown only in this answer"
    )


class BackfillRequest(In):
    restart: bool = Field(default=False, description="start from the first page instead of resuming")


class BackfillQueuedOut(BaseModel):
    store_id: int
    run: str


class ImportIn(In):
    orders: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    products: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    customers: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    currency: str | None = Field(default=None, min_length=3, max_length=3)


class ImportOut(BaseModel):
    store_id: int
    orders: int
    products: int
    customers: int


# --- order actions ------------------------------------------------------------------------------------------


class Confirmable(In):
    confirm: bool = Field(default=False, description="without it the answer is a 409 with a preview")


class CancelIn(Confirmable):
    restock: bool = True
    refund: bool = True
    reason: Literal["customer", "fraud", "inventory", "declined", "staff", "other"] = "customer"
    notify: bool = False
    staff_note: str | None = Field(default=None, max_length=500)


class RefundLineIn(In):
    line_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=100_000)


class RefundIn(Confirmable):
    lines: list[RefundLineIn] = Field(default_factory=list, max_length=250)
    shipping_minor: int = Field(default=0, ge=0, le=10**12)
    amount_minor: int | None = Field(default=None, ge=1, le=10**12)
    reason: str | None = Field(default=None, max_length=200)
    restock: bool = True
    notify: bool = False


class AddressIn(In):
    name: str = Field(min_length=1, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    address1: str = Field(min_length=1, max_length=300)
    address2: str | None = Field(default=None, max_length=300)
    city: str = Field(min_length=1, max_length=200)
    province: str | None = Field(default=None, max_length=100)
    zip: str = Field(min_length=1, max_length=32)
    country_code: str = Field(min_length=2, max_length=2)
    phone: str | None = Field(default=None, max_length=32)


class ShippingAddressIn(Confirmable):
    address: AddressIn


class NoteIn(Confirmable):
    note: str = Field(min_length=1, max_length=2000)


class TagsIn(Confirmable):
    tags: list[str] = Field(min_length=1, max_length=20)


class ReturnLineIn(In):
    line_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=100_000)
    reason: (
        Literal[
            "defective",
            "not_as_described",
            "wrong_item",
            "unwanted",
            "size_too_small",
            "size_too_large",
            "style",
            "color",
            "other",
        ]
        | None
    ) = None


class ReturnIn(Confirmable):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=250)
    note: str | None = Field(default=None, max_length=500)
    notify: bool = False


class ResendIn(Confirmable):
    pass


class ActionResultOut(BaseModel):
    action: str
    status: str = Field(description="done, or pending when the platform finishes it in the background")
    message: str
    order_id: int
    refund_id: int | None = None
    return_id: int | None = None
    event_id: int | None = None
    order: OrderOut


class ActionsOut(BaseModel):
    """What can be done with an order now (for the agent UI's sidebar)."""

    order_id: int
    store_id: int | None
    platform: str | None
    supported: list[str]
    available: dict[str, bool]
    reasons: dict[str, str]
    refundable_minor: int
    currency: str
