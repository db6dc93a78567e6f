"""The connector interface: our own types for what a store platform knows and does, and the one Protocol
every platform adapter implements.

Nothing outside ``storedesk.commerce.connectors`` sees a vendor's wire format: adapters turn Shopify
GraphQL, WooCommerce REST and Ecwid REST into these types, and turn our action requests into the
platform's calls. Amounts are integer minor units of the order's currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, ReturnStatus, ShipmentStatus

T = TypeVar("T")

# {"name", "company", "address1", "address2", "city", "province", "zip", "country_code", "phone"}
Address = dict[str, str | None]
ADDRESS_FIELDS = (
    "name",
    "company",
    "address1",
    "address2",
    "city",
    "province",
    "zip",
    "country_code",
    "phone",
)
# countries where an address is complete without a postcode (Ireland: the Eircode is optional)
ZIP_OPTIONAL_COUNTRIES = frozenset({"IE"})


class Resource(StrEnum):
    customers = "customers"
    products = "products"
    orders = "orders"
    fulfillments = "fulfillments"
    refunds = "refunds"


class Action(StrEnum):
    cancel = "cancel"
    refund = "refund"
    shipping_address = "shipping_address"
    note = "note"
    tags = "tags"
    create_return = "create_return"
    resend_confirmation = "resend_confirmation"


class CancelReason(StrEnum):
    customer = "customer"
    fraud = "fraud"
    inventory = "inventory"
    declined = "declined"
    staff = "staff"
    other = "other"


# --- what a platform knows ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ExtCustomer:
    external_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    country: str | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class ExtVariant:
    external_id: str
    sku: str
    title: str
    price_minor: int
    stock: int = 0
    size: str | None = None
    color: str | None = None
    backorder: bool = False
    inventory_item_id: str | None = None


@dataclass(slots=True)
class ExtProduct:
    external_id: str
    handle: str
    title: str
    vendor: str | None = None
    category: str | None = None
    description: str | None = None
    updated_at: datetime | None = None
    variants: list[ExtVariant] = field(default_factory=list)


@dataclass(slots=True)
class ExtLine:
    external_id: str
    title: str
    quantity: int
    unit_price_minor: int
    total_minor: int
    sku: str | None = None
    variant_title: str | None = None
    variant_external_id: str | None = None
    refunded_quantity: int = 0


@dataclass(slots=True)
class ExtShipment:
    external_id: str
    status: ShipmentStatus
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: datetime | None = None
    estimated_delivery_at: datetime | None = None
    delivered_at: datetime | None = None
    updated_at: datetime | None = None
    order_external_id: str | None = None


@dataclass(slots=True)
class ExtRefund:
    external_id: str
    amount_minor: int
    currency: str
    reason: str | None = None
    status: str = "success"
    created_at: datetime | None = None
    processed_at: datetime | None = None
    shipping_minor: int = 0
    # (line external id, quantity)
    lines: list[tuple[str, int]] = field(default_factory=list)
    order_external_id: str | None = None


@dataclass(slots=True)
class ExtReturnLine:
    line_external_id: str
    quantity: int
    reason: str | None = None


@dataclass(slots=True)
class ExtReturn:
    external_id: str
    number: str
    status: ReturnStatus
    reason: str | None = None
    created_at: datetime | None = None
    lines: list[ExtReturnLine] = field(default_factory=list)
    order_external_id: str | None = None


@dataclass(slots=True)
class ExtOrder:
    external_id: str
    number: str
    currency: str
    financial_status: FinancialStatus
    fulfillment_status: FulfillmentStatus
    placed_at: datetime
    updated_at: datetime | None
    subtotal_minor: int
    total_minor: int
    shipping_minor: int = 0
    tax_minor: int = 0
    refunded_minor: int = 0
    customer: ExtCustomer | None = None
    email: str | None = None
    phone: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    shipping_method: str | None = None
    payment_method: str | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    lines: list[ExtLine] = field(default_factory=list)
    shipments: list[ExtShipment] = field(default_factory=list)
    refunds: list[ExtRefund] = field(default_factory=list)
    returns: list[ExtReturn] = field(default_factory=list)


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a resource. ``next_cursor`` is None on the last page; resume a listing by passing the
    cursor back (it is an opaque string the adapter understands)."""

    items: list[T]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class StoreInfo:
    name: str
    external_id: str
    currency: str | None = None
    scopes: tuple[str, ...] = ()


# --- webhooks: what a delivery means ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderChanged:
    order: ExtOrder


@dataclass(frozen=True, slots=True)
class OrderRef:
    """The platform sent only an id (Ecwid): fetch the order, then apply it."""

    external_id: str


@dataclass(frozen=True, slots=True)
class ProductChanged:
    product: ExtProduct


@dataclass(frozen=True, slots=True)
class ProductRef:
    external_id: str


@dataclass(frozen=True, slots=True)
class InventoryRef:
    """Stock of one inventory item changed (Shopify): fetch its product, then apply it."""

    inventory_item_id: str


@dataclass(frozen=True, slots=True)
class CustomerChanged:
    customer: ExtCustomer


@dataclass(frozen=True, slots=True)
class ShipmentChanged:
    order_external_id: str
    shipment: ExtShipment


@dataclass(frozen=True, slots=True)
class RefundCreated:
    order_external_id: str
    refund: ExtRefund


@dataclass(frozen=True, slots=True)
class Deleted:
    resource: Resource
    external_id: str


@dataclass(frozen=True, slots=True)
class PrivacyDataRequest:
    customer: ExtCustomer
    order_external_ids: tuple[str, ...]
    request_id: str | None


@dataclass(frozen=True, slots=True)
class PrivacyCustomerRedact:
    customer: ExtCustomer
    order_external_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrivacyShopRedact:
    pass


@dataclass(frozen=True, slots=True)
class Ignored:
    topic: str


WebhookItem = (
    OrderChanged
    | OrderRef
    | ProductChanged
    | ProductRef
    | InventoryRef
    | CustomerChanged
    | ShipmentChanged
    | RefundCreated
    | Deleted
    | PrivacyDataRequest
    | PrivacyCustomerRedact
    | PrivacyShopRedact
    | Ignored
)


# --- actions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CancelRequest:
    restock: bool
    refund: bool
    reason: CancelReason
    notify: bool = False
    staff_note: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    # (line external id, quantity)
    lines: tuple[tuple[str, int], ...]
    shipping_minor: int
    amount_minor: int
    currency: str
    reason: str | None = None
    restock: bool = True
    notify: bool = False


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    lines: tuple[ExtReturnLine, ...]
    note: str | None = None
    notify: bool = False


@dataclass(slots=True)
class ActionOutcome:
    """What the platform answered. ``order`` is its state after the action (applied to the mirror);
    ``pending`` means the platform accepted the request and finishes it asynchronously."""

    message: str
    order: ExtOrder | None = None
    refund: ExtRefund | None = None
    return_: ExtReturn | None = None
    pending: bool = False


# --- errors: always in plain words, never a vendor stack trace ---------------------------------------------


@dataclass(frozen=True)
class WebhookRegistration:
    """What :meth:`Connector.register_webhooks` did: topics created now, topics that already pointed at
    storedesk, and topics the platform refused (topic → its message)."""

    callback_url: str
    created: tuple[str, ...] = ()
    existing: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)


class ConnectorError(Exception):
    code = "store_error"
    retryable = False

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class AuthRejected(ConnectorError):
    code = "store_auth_rejected"


class MissingScope(ConnectorError):
    code = "store_missing_scope"


class Unreachable(ConnectorError):
    code = "store_unreachable"
    retryable = True


class PlatformUnavailable(ConnectorError):
    code = "store_unavailable"
    retryable = True


class RateLimited(ConnectorError):
    code = "store_rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class NotFoundOnPlatform(ConnectorError):
    code = "store_not_found"


class PlatformRefused(ConnectorError):
    code = "store_refused"


class NotSupported(ConnectorError):
    code = "store_not_supported"


class MalformedPayload(ConnectorError):
    code = "malformed_payload"


# --- the interface ------------------------------------------------------------------------------------------


class Connector(Protocol):
    """One connected store on one platform.

    Listing methods are resumable: pass back the ``next_cursor`` of the last page applied. Fulfilments,
    refunds and returns come embedded in orders on every platform we support; ``list_fulfillments`` and
    ``list_refunds`` exist for platforms that list them separately and return an empty last page here.
    Webhook methods need no network. Action methods receive the mirror's view of the order (with the
    platform's ids) and return the platform's answer; they raise a :class:`ConnectorError` subclass
    with a plain-words message when the platform refuses.
    """

    platform: str
    actions: frozenset[Action]
    # what a backfill lists, in this order; the rest comes embedded in orders
    resources: tuple[Resource, ...]

    async def test(self) -> StoreInfo: ...

    async def count(self, resource: Resource) -> int | None: ...

    async def list_customers(self, cursor: str | None) -> Page[ExtCustomer]: ...

    async def list_products(self, cursor: str | None) -> Page[ExtProduct]: ...

    async def list_orders(
        self, cursor: str | None, *, updated_since: datetime | None = None
    ) -> Page[ExtOrder]: ...

    async def list_fulfillments(self, cursor: str | None) -> Page[ExtShipment]: ...

    async def list_refunds(self, cursor: str | None) -> Page[ExtRefund]: ...

    async def get_order(self, external_id: str) -> ExtOrder | None: ...

    async def get_product(self, external_id: str) -> ExtProduct | None: ...

    async def get_product_by_inventory_item(self, inventory_item_id: str) -> ExtProduct | None: ...

    def webhook_key(self, body: bytes, headers: Mapping[str, str]) -> str | None: ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool: ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookItem]: ...

    async def cancel(self, order: ExtOrder, request: CancelRequest) -> ActionOutcome: ...

    async def refund(self, order: ExtOrder, request: RefundRequest) -> ActionOutcome: ...

    async def update_shipping_address(self, order: ExtOrder, address: Address) -> ActionOutcome: ...

    async def add_note(self, order: ExtOrder, note: str) -> ActionOutcome: ...

    async def add_tags(self, order: ExtOrder, tags: list[str]) -> ActionOutcome: ...

    async def create_return(self, order: ExtOrder, request: ReturnRequest) -> ActionOutcome: ...

    async def resend_confirmation(self, order: ExtOrder) -> ActionOutcome: ...

    async def register_webhooks(self, callback_url: str) -> WebhookRegistration:
        """Subscribe the platform's order, fulfilment, refund, customer and product webhooks to
        ``callback_url`` (idempotent: topics already subscribed to it are left alone). ``NotSupported``
        where the platform only takes webhook addresses in its own admin."""
        ...

    async def aclose(self) -> None: ...
