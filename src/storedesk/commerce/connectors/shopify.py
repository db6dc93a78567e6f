"""Shopify: the GraphQL Admin API (``POST /admin/api/2025-01/graphql.json``) for reading and acting, REST-
shaped JSON for webhooks.

* Auth: ``X-Shopify-Access-Token`` (an Admin API access token of a custom or public app).
* Throttle: every answer carries ``extensions.cost.throttleStatus`` (``maximumAvailable``,
  ``currentlyAvailable``, ``restoreRate``). Before a query we wait until the bucket has refilled enough for
  the query's last known ``requestedQueryCost``; a ``THROTTLED`` error waits the same way and retries.
* Pagination: cursors (``pageInfo { hasNextPage endCursor }``), sorted by ID so a listing that resumes
  from a saved cursor neither skips nor repeats.
* Ids: the mirror keeps Shopify's numeric ids (what REST webhooks carry); GraphQL ids
  (``gid://shopify/Order/1``) are built from them.
* Webhooks: ``X-Shopify-Hmac-Sha256`` = base64 HMAC-SHA256 of the raw body with the app's client secret;
  deliveries are deduplicated on ``X-Shopify-Event-Id`` (older: ``X-Shopify-Webhook-Id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from storedesk.commerce.connectors.common import (
    BaseConnector,
    PlatformHTTP,
    from_minor,
    header,
    hmac_sha256_base64,
    json_body,
    parse_time,
    require_https,
    signature_matches,
    to_minor,
)
from storedesk.commerce.connectors.protocol import (
    Action,
    ActionOutcome,
    Address,
    AuthRejected,
    CancelRequest,
    ConnectorError,
    CustomerChanged,
    Deleted,
    ExtCustomer,
    ExtLine,
    ExtOrder,
    ExtProduct,
    ExtRefund,
    ExtReturn,
    ExtReturnLine,
    ExtShipment,
    ExtVariant,
    Ignored,
    InventoryRef,
    MalformedPayload,
    MissingScope,
    NotFoundOnPlatform,
    OrderChanged,
    OrderRef,
    Page,
    PlatformRefused,
    PlatformUnavailable,
    PrivacyCustomerRedact,
    PrivacyDataRequest,
    PrivacyShopRedact,
    ProductChanged,
    RateLimited,
    RefundCreated,
    RefundRequest,
    Resource,
    ReturnRequest,
    ShipmentChanged,
    StoreInfo,
    WebhookItem,
    WebhookRegistration,
)
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, ReturnStatus, ShipmentStatus

API_VERSION = "2025-01"
PAGE_SIZE = 100
ORDER_PAGE_SIZE = 10
PRODUCT_PAGE_SIZE = 10
REQUIRED_SCOPES = ("read_orders", "read_products", "read_customers")
GID = "gid://shopify/"

# --- GraphQL documents --------------------------------------------------------------------------------------

ADDRESS = (
    "firstName lastName name company address1 address2 city province provinceCode zip countryCodeV2 phone"
)

# Shopify refuses a query whose requested cost exceeds 1000 points (a connection costs 2 + first × the cost of
# one node; an object 1, a scalar 0). The listing therefore asks for a lean order (about 85 points, 10 per
# page) and each order that needs more — more than 10 lines, refunds, returns, several fulfilments — is
# completed with the detail query (about 730 points).
ORDER_BASE = f"""
  id name email phone createdAt updatedAt processedAt cancelledAt cancelReason returnStatus
  displayFinancialStatus displayFulfillmentStatus currencyCode note tags paymentGatewayNames
  subtotalPriceSet {{ shopMoney {{ amount }} }}
  totalShippingPriceSet {{ shopMoney {{ amount }} }}
  totalTaxSet {{ shopMoney {{ amount }} }}
  totalPriceSet {{ shopMoney {{ amount }} }}
  totalRefundedSet {{ shopMoney {{ amount }} }}
  shippingLine {{ title }}
  shippingAddress {{ {ADDRESS} }}
  billingAddress {{ {ADDRESS} }}
  customer {{ id email phone firstName lastName }}
"""

FULFILLMENT_FIELDS = """
  id status displayStatus createdAt updatedAt inTransitAt deliveredAt estimatedDeliveryAt
  trackingInfo(first: 1) { company number url }
"""

ORDER_LIST_FIELDS = f"""
  {ORDER_BASE}
  lineItems(first: 10) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...Line }} }}
  fulfillments(first: 2) {{ {FULFILLMENT_FIELDS} }}
  refunds(first: 2) {{ id }}
"""

ORDER_FIELDS = f"""
  {ORDER_BASE}
  lineItems(first: 50) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...Line }} }}
  fulfillments(first: 10) {{ {FULFILLMENT_FIELDS} }}
  refunds(first: 5) {{
    id createdAt note
    totalRefundedSet {{ shopMoney {{ amount currencyCode }} }}
    refundLineItems(first: 20) {{ nodes {{ quantity lineItem {{ id }} }} }}
  }}
  returns(first: 5) {{
    nodes {{
      id name status
      returnLineItems(first: 10) {{
        nodes {{ ... on ReturnLineItem {{ quantity returnReason fulfillmentLineItem {{ lineItem {{ id }} }} }} }}
      }}
    }}
  }}
"""

LINE_FRAGMENT = """
fragment Line on LineItem {
  id sku name title variantTitle quantity
  originalUnitPriceSet { shopMoney { amount } }
  discountedTotalSet { shopMoney { amount } }
  variant { id }
}
"""

Q_SHOP = """
query Shop {
  shop { name myshopifyDomain currencyCode }
  currentAppInstallation { accessScopes { handle } }
}
"""

Q_COUNT = {
    Resource.orders: "query OrdersCount { ordersCount(limit: null) { count } }",
    Resource.products: "query ProductsCount { productsCount(limit: null) { count } }",
    Resource.customers: "query CustomersCount { customersCount(limit: null) { count } }",
}

Q_ORDERS = (
    f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, sortKey: ID, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_LIST_FIELDS} }}
  }}
}}
"""
    + LINE_FRAGMENT
)

Q_ORDER = (
    f"""
query Order($id: ID!) {{
  order(id: $id) {{ {ORDER_FIELDS} }}
}}
"""
    + LINE_FRAGMENT
)

Q_ORDER_LINES = (
    """
query OrderLines($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 250, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...Line }
    }
  }
}
"""
    + LINE_FRAGMENT
)

Q_CUSTOMERS = """
query Customers($first: Int!, $after: String) {
  customers(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes { id email phone firstName lastName updatedAt defaultAddress { countryCodeV2 } }
  }
}
"""

PRODUCT_FIELDS = """
  id handle title vendor productType description updatedAt
  variants(first: 30) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku title price inventoryQuantity inventoryPolicy
      selectedOptions { name value }
      inventoryItem { id }
    }
  }
"""

Q_PRODUCTS = f"""
query Products($first: Int!, $after: String) {{
  products(first: $first, after: $after, sortKey: ID) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {PRODUCT_FIELDS} }}
  }}
}}
"""

Q_PRODUCT = f"""
query Product($id: ID!) {{
  product(id: $id) {{ {PRODUCT_FIELDS} }}
}}
"""

Q_PRODUCT_VARIANTS = """
query ProductVariants($id: ID!, $after: String) {
  product(id: $id) {
    variants(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id sku title price inventoryQuantity inventoryPolicy selectedOptions { name value } inventoryItem { id } }
    }
  }
}
"""

Q_INVENTORY_ITEM = f"""
query InventoryItemProduct($id: ID!) {{
  inventoryItem(id: $id) {{ variant {{ product {{ {PRODUCT_FIELDS} }} }} }}
}}
"""

Q_JOB = "query Job($id: ID!) { job(id: $id) { id done } }"

Q_NOTE = "query OrderNote($id: ID!) { order(id: $id) { id note } }"

Q_FULFILLMENT_LINES = """
query FulfillmentLines($id: ID!) {
  order(id: $id) {
    fulfillments(first: 10) {
      fulfillmentLineItems(first: 40) { nodes { id quantity lineItem { id } } }
    }
  }
}
"""

Q_SUGGESTED_REFUND = """
query SuggestedRefund($id: ID!, $lines: [RefundLineItemInput!], $shipping: Money) {
  order(id: $id) {
    suggestedRefund(refundLineItems: $lines, shippingAmount: $shipping) {
      amountSet { shopMoney { amount } }
      suggestedTransactions { amountSet { shopMoney { amount } } gateway kind parentTransaction { id } }
    }
  }
}
"""

M_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!,
                     $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

M_REFUND = """
mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) {
    refund {
      id createdAt note
      totalRefundedSet { shopMoney { amount currencyCode } }
      refundLineItems(first: 50) { nodes { quantity lineItem { id } } }
    }
    userErrors { field message }
  }
}
"""

M_ORDER_UPDATE = """
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id updatedAt }
    userErrors { field message }
  }
}
"""

M_TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}
"""

M_RETURN_CREATE = """
mutation ReturnCreate($returnInput: ReturnInput!) {
  returnCreate(returnInput: $returnInput) {
    return {
      id name status
      returnLineItems(first: 50) {
        nodes { ... on ReturnLineItem { quantity returnReason fulfillmentLineItem { lineItem { id } } } }
      }
    }
    userErrors { field message code }
  }
}
"""

M_INVOICE_SEND = """
mutation OrderInvoiceSend($id: ID!) {
  orderInvoiceSend(id: $id) {
    order { id }
    userErrors { field message }
  }
}
"""

# --- mappings -----------------------------------------------------------------------------------------------

FINANCIAL = {
    "PENDING": FinancialStatus.pending,
    "AUTHORIZED": FinancialStatus.pending,
    "PARTIALLY_PAID": FinancialStatus.pending,
    "PAID": FinancialStatus.paid,
    "PARTIALLY_REFUNDED": FinancialStatus.partially_refunded,
    "REFUNDED": FinancialStatus.refunded,
    "VOIDED": FinancialStatus.voided,
    "EXPIRED": FinancialStatus.voided,
}

FULFILLMENT = {
    "FULFILLED": FulfillmentStatus.fulfilled,
    "PARTIALLY_FULFILLED": FulfillmentStatus.partial,
    "PARTIAL": FulfillmentStatus.partial,
}

SHIPMENT = {
    "DELIVERED": ShipmentStatus.delivered,
    "PICKED_UP": ShipmentStatus.delivered,
    "OUT_FOR_DELIVERY": ShipmentStatus.out_for_delivery,
    "IN_TRANSIT": ShipmentStatus.in_transit,
    "CONFIRMED": ShipmentStatus.in_transit,
    "FULFILLED": ShipmentStatus.in_transit,
    "MARKED_AS_FULFILLED": ShipmentStatus.in_transit,
    "READY_FOR_PICKUP": ShipmentStatus.in_transit,
    "ATTEMPTED_DELIVERY": ShipmentStatus.exception,
    "FAILURE": ShipmentStatus.exception,
    "NOT_DELIVERED": ShipmentStatus.exception,
    "CANCELED": ShipmentStatus.exception,
    "LABEL_VOIDED": ShipmentStatus.exception,
}

RETURN_STATUS = {
    "REQUESTED": ReturnStatus.requested,
    "OPEN": ReturnStatus.approved,
    "CLOSED": ReturnStatus.received,
    "DECLINED": ReturnStatus.rejected,
    "CANCELED": ReturnStatus.rejected,
}

RETURN_REASONS = {
    "defective": "DEFECTIVE",
    "not_as_described": "NOT_AS_DESCRIBED",
    "wrong_item": "WRONG_ITEM",
    "unwanted": "UNWANTED",
    "size_too_small": "SIZE_TOO_SMALL",
    "size_too_large": "SIZE_TOO_LARGE",
    "style": "STYLE",
    "color": "COLOR",
    "other": "OTHER",
}

CANCEL_REASONS = {
    "customer": "CUSTOMER",
    "fraud": "FRAUD",
    "inventory": "INVENTORY",
    "declined": "DECLINED",
    "staff": "STAFF",
    "other": "OTHER",
}

SIZE_OPTIONS = {"size", "größe", "taille", "storlek", "størrelse", "méret", "rozmiar", "talla"}
COLOR_OPTIONS = {"color", "colour", "farbe", "couleur", "färg", "farge", "szín", "kolor"}


# the topics parse_webhook understands; the mandatory privacy topics (customers/data_request,
# customers/redact, shop/redact) are set in the app's configuration, not per shop
WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "ORDERS_EDITED",
    "ORDERS_DELETE",
    "FULFILLMENTS_CREATE",
    "FULFILLMENTS_UPDATE",
    "REFUNDS_CREATE",
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
    "PRODUCTS_CREATE",
    "PRODUCTS_UPDATE",
    "PRODUCTS_DELETE",
    "INVENTORY_LEVELS_UPDATE",
)

Q_WEBHOOKS = """
query Webhooks($after: String, $callbackUrl: URL) {
  webhookSubscriptions(first: 100, after: $after, callbackUrl: $callbackUrl) {
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

M_WEBHOOK_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""


def gid(kind: str, external_id: str) -> str:
    return external_id if external_id.startswith(GID) else f"{GID}{kind}/{external_id}"


def legacy_id(value: Any) -> str:
    """``gid://shopify/Order/123`` → ``123`` (what webhooks carry); numbers pass through."""
    if value is None:
        raise MalformedPayload("an id is missing")
    text = str(value)
    if text.startswith(GID):
        return text.rsplit("/", 1)[-1].split("?", 1)[0]
    return text


def _money(node: Any, currency: str, key: str = "shopMoney") -> int:
    if not isinstance(node, dict):
        return 0
    inner = node.get(key) or {}
    return to_minor(inner.get("amount"), currency)


def _name(first: Any, last: Any) -> str | None:
    name = " ".join(str(p) for p in (first, last) if p)
    return name or None


def _address_gql(node: Any) -> Address | None:
    if not isinstance(node, dict):
        return None
    return {
        "name": node.get("name") or _name(node.get("firstName"), node.get("lastName")),
        "company": node.get("company"),
        "address1": node.get("address1"),
        "address2": node.get("address2"),
        "city": node.get("city"),
        "province": node.get("provinceCode") or node.get("province"),
        "zip": node.get("zip"),
        "country_code": node.get("countryCodeV2"),
        "phone": node.get("phone"),
    }


def _address_rest(node: Any) -> Address | None:
    if not isinstance(node, dict):
        return None
    return {
        "name": node.get("name") or _name(node.get("first_name"), node.get("last_name")),
        "company": node.get("company"),
        "address1": node.get("address1"),
        "address2": node.get("address2"),
        "city": node.get("city"),
        "province": node.get("province_code") or node.get("province"),
        "zip": node.get("zip"),
        "country_code": node.get("country_code"),
        "phone": node.get("phone"),
    }


def _options(options: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    size = color = None
    for name, value in options:
        key = name.strip().lower()
        if key in SIZE_OPTIONS and size is None:
            size = value[:32]
        elif key in COLOR_OPTIONS and color is None:
            color = value[:32]
    return size, color


def _shipment_status(status: str | None) -> ShipmentStatus:
    return SHIPMENT.get((status or "").upper(), ShipmentStatus.label_created)


# GraphQL → our types


def customer_from_gql(node: dict[str, Any]) -> ExtCustomer:
    address = node.get("defaultAddress") or {}
    return ExtCustomer(
        external_id=legacy_id(node.get("id")),
        email=node.get("email"),
        phone=node.get("phone"),
        name=_name(node.get("firstName"), node.get("lastName")),
        country=address.get("countryCodeV2") if isinstance(address, dict) else None,
        updated_at=parse_time(node.get("updatedAt")),
    )


def product_from_gql(node: dict[str, Any], currency: str) -> ExtProduct:
    variants = []
    for v in (node.get("variants") or {}).get("nodes") or []:
        size, color = _options([(o["name"], o["value"]) for o in v.get("selectedOptions") or []])
        item = v.get("inventoryItem") or {}
        variants.append(
            ExtVariant(
                external_id=legacy_id(v.get("id")),
                sku=(v.get("sku") or "")[:100],
                title=(v.get("title") or "")[:200],
                price_minor=to_minor(v.get("price"), currency),
                stock=int(v.get("inventoryQuantity") or 0),
                size=size,
                color=color,
                backorder=(v.get("inventoryPolicy") or "").upper() == "CONTINUE",
                inventory_item_id=legacy_id(item["id"]) if item.get("id") else None,
            )
        )
    return ExtProduct(
        external_id=legacy_id(node.get("id")),
        handle=str(node.get("handle") or legacy_id(node.get("id")))[:200],
        title=str(node.get("title") or "")[:300],
        vendor=node.get("vendor"),
        category=(node.get("productType") or None),
        description=node.get("description"),
        updated_at=parse_time(node.get("updatedAt")),
        variants=variants,
    )


def line_from_gql(node: dict[str, Any], currency: str) -> ExtLine:
    quantity = int(node.get("quantity") or 0)
    unit = _money(node.get("originalUnitPriceSet"), currency)
    total_set = node.get("discountedTotalSet")
    return ExtLine(
        external_id=legacy_id(node.get("id")),
        title=str(node.get("title") or node.get("name") or "")[:300],
        quantity=quantity,
        unit_price_minor=unit,
        total_minor=_money(total_set, currency) if total_set else unit * quantity,
        sku=node.get("sku") or None,
        variant_title=node.get("variantTitle"),
        variant_external_id=legacy_id(node["variant"]["id"]) if node.get("variant") else None,
    )


def refund_from_gql(node: dict[str, Any], currency: str, order_id: str | None = None) -> ExtRefund:
    total = (node.get("totalRefundedSet") or {}).get("shopMoney") or {}
    lines = [
        (legacy_id(r["lineItem"]["id"]), int(r.get("quantity") or 0))
        for r in (node.get("refundLineItems") or {}).get("nodes") or []
        if r.get("lineItem")
    ]
    created = parse_time(node.get("createdAt"))
    return ExtRefund(
        external_id=legacy_id(node.get("id")),
        amount_minor=to_minor(total.get("amount"), total.get("currencyCode") or currency),
        currency=total.get("currencyCode") or currency,
        reason=node.get("note"),
        status="success",
        created_at=created,
        processed_at=created,
        lines=lines,
        order_external_id=order_id,
    )


def return_from_gql(node: dict[str, Any], order_id: str | None = None) -> ExtReturn:
    lines = []
    for r in (node.get("returnLineItems") or {}).get("nodes") or []:
        fli = r.get("fulfillmentLineItem") or {}
        line = fli.get("lineItem") or {}
        if line.get("id"):
            lines.append(
                ExtReturnLine(
                    legacy_id(line["id"]),
                    int(r.get("quantity") or 0),
                    (r.get("returnReason") or "").lower() or None,
                )
            )
    return ExtReturn(
        external_id=legacy_id(node.get("id")),
        number=str(node.get("name") or legacy_id(node.get("id"))).lstrip("#")[:32],
        status=RETURN_STATUS.get(str(node.get("status") or "").upper(), ReturnStatus.requested),
        lines=lines,
        order_external_id=order_id,
    )


def order_from_gql(node: dict[str, Any]) -> ExtOrder:
    try:
        currency = str(node.get("currencyCode") or "USD")
        order_id = legacy_id(node.get("id"))
        lines = [line_from_gql(n, currency) for n in (node.get("lineItems") or {}).get("nodes") or []]
        refunds = [refund_from_gql(r, currency, order_id) for r in node.get("refunds") or []]
        refunded_qty: dict[str, int] = {}
        for r in refunds:
            for line_id, qty in r.lines:
                refunded_qty[line_id] = refunded_qty.get(line_id, 0) + qty
        for line in lines:
            line.refunded_quantity = refunded_qty.get(line.external_id, 0)
        shipments = []
        for f in node.get("fulfillments") or []:
            tracking = (f.get("trackingInfo") or [{}])[0] if f.get("trackingInfo") else {}
            shipments.append(
                ExtShipment(
                    external_id=legacy_id(f.get("id")),
                    status=_shipment_status(f.get("displayStatus")),
                    carrier=tracking.get("company"),
                    tracking_number=tracking.get("number"),
                    tracking_url=tracking.get("url"),
                    shipped_at=parse_time(f.get("inTransitAt") or f.get("createdAt")),
                    estimated_delivery_at=parse_time(f.get("estimatedDeliveryAt")),
                    delivered_at=parse_time(f.get("deliveredAt")),
                    updated_at=parse_time(f.get("updatedAt")),
                    order_external_id=order_id,
                )
            )
        customer_node = node.get("customer")
        shipping_line = node.get("shippingLine") or {}
        gateways = node.get("paymentGatewayNames") or []
        return ExtOrder(
            external_id=order_id,
            number=str(node.get("name") or order_id).lstrip("#")[:64],
            currency=currency,
            financial_status=FINANCIAL.get(
                str(node.get("displayFinancialStatus") or "").upper(), FinancialStatus.pending
            ),
            fulfillment_status=FULFILLMENT.get(
                str(node.get("displayFulfillmentStatus") or "").upper(), FulfillmentStatus.unfulfilled
            ),
            placed_at=parse_time(node.get("processedAt") or node.get("createdAt")) or datetime.now(UTC),
            updated_at=parse_time(node.get("updatedAt")),
            subtotal_minor=_money(node.get("subtotalPriceSet"), currency),
            total_minor=_money(node.get("totalPriceSet"), currency),
            shipping_minor=_money(node.get("totalShippingPriceSet"), currency),
            tax_minor=_money(node.get("totalTaxSet"), currency),
            refunded_minor=_money(node.get("totalRefundedSet"), currency),
            customer=ExtCustomer(
                external_id=legacy_id(customer_node.get("id")),
                email=customer_node.get("email"),
                phone=customer_node.get("phone"),
                name=_name(customer_node.get("firstName"), customer_node.get("lastName")),
            )
            if isinstance(customer_node, dict) and customer_node.get("id")
            else None,
            email=node.get("email"),
            phone=node.get("phone"),
            cancelled_at=parse_time(node.get("cancelledAt")),
            cancel_reason=(str(node["cancelReason"]).lower() if node.get("cancelReason") else None),
            shipping_method=(shipping_line.get("title") if isinstance(shipping_line, dict) else None),
            payment_method=", ".join(gateways)[:100] if gateways else None,
            shipping_address=_address_gql(node.get("shippingAddress")),
            billing_address=_address_gql(node.get("billingAddress")),
            note=node.get("note"),
            tags=[str(t) for t in node.get("tags") or []],
            lines=lines,
            shipments=shipments,
            refunds=refunds,
            returns=[return_from_gql(r, order_id) for r in (node.get("returns") or {}).get("nodes") or []],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"Shopify order is not in the expected shape: {exc}") from exc


# REST (webhook payloads) → our types

REST_FINANCIAL = {k.lower(): v for k, v in FINANCIAL.items()}
REST_FULFILLMENT = {"fulfilled": FulfillmentStatus.fulfilled, "partial": FulfillmentStatus.partial}


def _rest_money_set(node: Any, currency: str) -> int:
    if isinstance(node, dict):
        return to_minor((node.get("shop_money") or {}).get("amount"), currency)
    return 0


def shipment_from_rest(node: dict[str, Any], order_id: str | None) -> ExtShipment:
    numbers = node.get("tracking_numbers") or []
    urls = node.get("tracking_urls") or []
    status = node.get("shipment_status") or ("in_transit" if node.get("status") == "success" else None)
    if node.get("status") == "cancelled":
        status = "canceled"
    return ExtShipment(
        external_id=str(node["id"]),
        status=_shipment_status(status),
        carrier=node.get("tracking_company"),
        tracking_number=node.get("tracking_number") or (numbers[0] if numbers else None),
        tracking_url=node.get("tracking_url") or (urls[0] if urls else None),
        shipped_at=parse_time(node.get("created_at")),
        updated_at=parse_time(node.get("updated_at")),
        delivered_at=parse_time(node.get("updated_at")) if status == "delivered" else None,
        order_external_id=order_id,
    )


def refund_from_rest(node: dict[str, Any], currency: str, order_id: str | None) -> ExtRefund:
    amount = 0
    for t in node.get("transactions") or []:
        if t.get("kind") == "refund" and t.get("status") in ("success", None):
            amount += to_minor(t.get("amount"), t.get("currency") or currency)
    shipping = 0
    for adj in node.get("order_adjustments") or []:
        if adj.get("kind") == "shipping_refund":
            shipping += abs(to_minor(adj.get("amount"), currency))
    lines = [
        (str(r["line_item_id"]), int(r.get("quantity") or 0))
        for r in node.get("refund_line_items") or []
        if r.get("line_item_id") is not None
    ]
    created = parse_time(node.get("created_at"))
    return ExtRefund(
        external_id=str(node["id"]),
        amount_minor=amount,
        currency=currency,
        reason=node.get("note"),
        created_at=created,
        processed_at=parse_time(node.get("processed_at")) or created,
        shipping_minor=shipping,
        lines=lines,
        order_external_id=order_id,
    )


def order_from_rest(node: dict[str, Any]) -> ExtOrder:
    try:
        currency = str(node.get("currency") or "USD")
        order_id = str(node["id"])
        refunds = [refund_from_rest(r, currency, order_id) for r in node.get("refunds") or []]
        refunded_qty: dict[str, int] = {}
        for r in refunds:
            for line_id, qty in r.lines:
                refunded_qty[line_id] = refunded_qty.get(line_id, 0) + qty
        lines = []
        for li in node.get("line_items") or []:
            quantity = int(li.get("quantity") or 0)
            unit = to_minor(li.get("price"), currency)
            discount = sum(to_minor(d.get("amount"), currency) for d in li.get("discount_allocations") or [])
            line_id = str(li["id"])
            lines.append(
                ExtLine(
                    external_id=line_id,
                    title=str(li.get("title") or li.get("name") or "")[:300],
                    quantity=quantity,
                    unit_price_minor=unit,
                    total_minor=unit * quantity - discount,
                    sku=li.get("sku") or None,
                    variant_title=li.get("variant_title"),
                    variant_external_id=str(li["variant_id"]) if li.get("variant_id") else None,
                    refunded_quantity=refunded_qty.get(line_id, 0),
                )
            )
        customer = node.get("customer")
        shipping_lines = node.get("shipping_lines") or []
        gateways = node.get("payment_gateway_names") or []
        tags = node.get("tags") or ""
        shipping = _rest_money_set(node.get("total_shipping_price_set"), currency)
        if not shipping and shipping_lines:
            shipping = sum(to_minor(s.get("price"), currency) for s in shipping_lines)
        return ExtOrder(
            external_id=order_id,
            number=str(node.get("name") or node.get("order_number") or order_id).lstrip("#")[:64],
            currency=currency,
            financial_status=REST_FINANCIAL.get(
                str(node.get("financial_status") or "").lower(), FinancialStatus.pending
            ),
            fulfillment_status=REST_FULFILLMENT.get(
                str(node.get("fulfillment_status") or "").lower(), FulfillmentStatus.unfulfilled
            ),
            placed_at=parse_time(node.get("processed_at") or node.get("created_at")) or datetime.now(UTC),
            updated_at=parse_time(node.get("updated_at")),
            subtotal_minor=to_minor(node.get("subtotal_price"), currency),
            total_minor=to_minor(node.get("total_price"), currency),
            shipping_minor=shipping,
            tax_minor=to_minor(node.get("total_tax"), currency),
            refunded_minor=sum(r.amount_minor for r in refunds),
            customer=ExtCustomer(
                external_id=str(customer["id"]),
                email=customer.get("email"),
                phone=customer.get("phone"),
                name=_name(customer.get("first_name"), customer.get("last_name")),
            )
            if isinstance(customer, dict) and customer.get("id")
            else None,
            email=node.get("email") or node.get("contact_email"),
            phone=node.get("phone"),
            cancelled_at=parse_time(node.get("cancelled_at")),
            cancel_reason=node.get("cancel_reason"),
            shipping_method=shipping_lines[0].get("title") if shipping_lines else None,
            payment_method=", ".join(gateways)[:100] if gateways else None,
            shipping_address=_address_rest(node.get("shipping_address")),
            billing_address=_address_rest(node.get("billing_address")),
            note=node.get("note"),
            tags=[t.strip() for t in str(tags).split(",") if t.strip()]
            if isinstance(tags, str)
            else [str(t) for t in tags],
            lines=lines,
            shipments=[shipment_from_rest(f, order_id) for f in node.get("fulfillments") or []],
            refunds=refunds,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"Shopify order is not in the expected shape: {exc}") from exc


def product_from_rest(node: dict[str, Any], currency: str) -> ExtProduct:
    try:
        option_names = {
            int(o.get("position") or i + 1): str(o.get("name") or "")
            for i, o in enumerate(node.get("options") or [])
        }
        variants = []
        for v in node.get("variants") or []:
            chosen = [
                (option_names.get(i, ""), str(v.get(f"option{i}")))
                for i in (1, 2, 3)
                if v.get(f"option{i}") is not None
            ]
            size, color = _options(chosen)
            variants.append(
                ExtVariant(
                    external_id=str(v["id"]),
                    sku=(v.get("sku") or "")[:100],
                    title=(v.get("title") or "")[:200],
                    price_minor=to_minor(v.get("price"), currency),
                    stock=int(v.get("inventory_quantity") or 0),
                    size=size,
                    color=color,
                    backorder=v.get("inventory_policy") == "continue",
                    inventory_item_id=str(v["inventory_item_id"]) if v.get("inventory_item_id") else None,
                )
            )
        return ExtProduct(
            external_id=str(node["id"]),
            handle=str(node.get("handle") or node["id"])[:200],
            title=str(node.get("title") or "")[:300],
            vendor=node.get("vendor"),
            category=node.get("product_type") or None,
            description=node.get("body_html"),
            updated_at=parse_time(node.get("updated_at")),
            variants=variants,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"Shopify product is not in the expected shape: {exc}") from exc


def customer_from_rest(node: dict[str, Any]) -> ExtCustomer:
    address = node.get("default_address") or {}
    return ExtCustomer(
        external_id=str(node["id"]),
        email=node.get("email"),
        phone=node.get("phone"),
        name=_name(node.get("first_name"), node.get("last_name")),
        country=address.get("country_code") if isinstance(address, dict) else None,
        updated_at=parse_time(node.get("updated_at")),
    )


# --- the throttle -------------------------------------------------------------------------------------------


class CostBucket:
    """Shopify's leaky bucket of query cost points, as last reported by the API."""

    def __init__(self, clock: Any = None) -> None:
        import time

        self._clock = clock or time.monotonic
        self.maximum = 1000.0
        self.available: float | None = None
        self.restore_rate = 50.0
        self.at = 0.0

    def update(self, status: Mapping[str, Any]) -> None:
        self.maximum = float(status.get("maximumAvailable") or self.maximum)
        self.available = float(status.get("currentlyAvailable") or 0.0)
        self.restore_rate = float(status.get("restoreRate") or self.restore_rate) or 1.0
        self.at = self._clock()

    def wait_for(self, cost: float) -> float:
        """Seconds to wait until ``cost`` points are available (0 when they are, or nothing is known)."""
        if self.available is None:
            return 0.0
        needed = min(cost, self.maximum)
        now_available = min(self.maximum, self.available + (self._clock() - self.at) * self.restore_rate)
        if now_available >= needed:
            return 0.0
        return (needed - now_available) / self.restore_rate


# --- the connector ------------------------------------------------------------------------------------------


class ShopifyConnector(BaseConnector):
    platform = "shopify"
    label = "Shopify"
    actions = frozenset(Action)

    def __init__(
        self,
        *,
        store_domain: str,
        access_token: str,
        api_secret: str | None = None,
        base_url: str | None = None,
        api_version: str = API_VERSION,
        http: PlatformHTTP | None = None,
        **http_options: Any,
    ) -> None:
        self.store_domain = store_domain.strip().lower().removeprefix("https://").rstrip("/")
        self.api_secret = api_secret or ""
        self.currency = "USD"
        base = (base_url or f"https://{self.store_domain}").rstrip("/")
        require_https(base, self.label)
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.http = http or PlatformHTTP(
            base,
            platform=self.label,
            headers={"X-Shopify-Access-Token": access_token, "Content-Type": "application/json"},
            **http_options,
        )
        self.bucket = CostBucket()
        self._cost: dict[str, float] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- transport

    async def graphql(
        self, operation: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        for _ in range(8):
            await self.http.wait(self.bucket.wait_for(self._cost.get(operation, 10.0)))
            response = await self.http.request(
                "POST", self.path, json={"query": query, "variables": variables or {}}
            )
            self._check_status(response.status_code, response.text)
            body = json_body(response, self.label)
            cost = (body.get("extensions") or {}).get("cost") or {}
            if cost.get("throttleStatus"):
                self.bucket.update(cost["throttleStatus"])
            if cost.get("requestedQueryCost") is not None:
                self._cost[operation] = float(cost["requestedQueryCost"])
            errors = body.get("errors")
            if errors:
                codes = {((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
                if "THROTTLED" in codes:
                    if self.bucket.available is None:
                        await self.http.wait(1.0)
                    continue
                messages = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
                if "ACCESS_DENIED" in codes:
                    raise MissingScope(f"the Shopify access token is missing a permission: {messages}")
                if body.get("data") is None:
                    raise ConnectorError(f"Shopify could not run {operation}: {messages}")
            data = body.get("data")
            if not isinstance(data, dict):
                raise PlatformUnavailable("Shopify answered without data")
            return data
        raise RateLimited(
            "Shopify kept throttling the requests", retry_after=self.bucket.wait_for(100.0) or 10.0
        )

    def _check_status(self, status: int, text: str) -> None:
        if status < 400:
            return
        if status == 401:
            raise AuthRejected("the store rejected the access token (Shopify answered 401)")
        if status == 403:
            raise MissingScope("the access token is not allowed to do this (Shopify answered 403)")
        if status == 404:
            raise NotFoundOnPlatform(f"there is no Shopify store at {self.store_domain}")
        if status == 402:
            raise PlatformRefused("the Shopify store is frozen (unpaid plan)")
        if status == 423:
            raise PlatformRefused("the Shopify store is locked")
        raise PlatformRefused(f"Shopify answered {status}: {text[:200]}")

    @staticmethod
    def _user_errors(payload: Mapping[str, Any], *keys: str) -> None:
        for key in keys:
            errors = payload.get(key) or []
            if errors:
                message = "; ".join(str(e.get("message")) for e in errors)
                raise PlatformRefused(f"Shopify refused: {message}", details={"errors": errors})

    # -- connect

    async def test(self) -> StoreInfo:
        data = await self.graphql("Shop", Q_SHOP)
        shop = data.get("shop") or {}
        scopes = tuple(
            s.get("handle") for s in ((data.get("currentAppInstallation") or {}).get("accessScopes") or [])
        )
        granted = set(scopes)
        # write_orders implies read_orders, and so on
        granted |= {s.replace("write_", "read_") for s in scopes if s.startswith("write_")}
        missing = [s for s in REQUIRED_SCOPES if s not in granted]
        if missing:
            raise MissingScope(
                f"the access token lacks the {', '.join(missing)} scope{'s' if len(missing) > 1 else ''}",
                details={"missing": missing},
            )
        self.currency = str(shop.get("currencyCode") or self.currency)
        return StoreInfo(
            name=str(shop.get("name") or self.store_domain),
            external_id=str(shop.get("myshopifyDomain") or self.store_domain),
            currency=self.currency,
            scopes=tuple(s for s in scopes if s),
        )

    async def count(self, resource: Resource) -> int | None:
        query = Q_COUNT.get(resource)
        if query is None:
            return 0
        try:
            data = await self.graphql(f"{resource.value}Count", query)
        except ConnectorError:
            return None
        node = next(iter(data.values()), None) or {}
        return int(node["count"]) if isinstance(node, dict) and node.get("count") is not None else None

    # -- listing

    async def list_customers(self, cursor: str | None) -> Page[ExtCustomer]:
        data = await self.graphql("Customers", Q_CUSTOMERS, {"first": PAGE_SIZE, "after": cursor})
        conn = data["customers"]
        return Page([customer_from_gql(n) for n in conn["nodes"]], _next(conn))

    async def list_products(self, cursor: str | None) -> Page[ExtProduct]:
        data = await self.graphql("Products", Q_PRODUCTS, {"first": PRODUCT_PAGE_SIZE, "after": cursor})
        conn = data["products"]
        return Page([await self._product(n) for n in conn["nodes"]], _next(conn))

    async def _product(self, node: dict[str, Any]) -> ExtProduct:
        """A product with more variants than one query returns: fetch the rest before mapping."""
        variants = node.get("variants") or {}
        info = variants.get("pageInfo") or {}
        while info.get("hasNextPage"):
            data = await self.graphql(
                "ProductVariants", Q_PRODUCT_VARIANTS, {"id": node["id"], "after": info.get("endCursor")}
            )
            more = ((data.get("product") or {}).get("variants")) or {}
            variants["nodes"] = list(variants.get("nodes") or []) + list(more.get("nodes") or [])
            info = more.get("pageInfo") or {}
        return product_from_gql(node, self.currency)

    async def list_orders(
        self, cursor: str | None, *, updated_since: datetime | None = None
    ) -> Page[ExtOrder]:
        query = f"updated_at:>='{updated_since.astimezone(UTC).isoformat()}'" if updated_since else None
        data = await self.graphql(
            "Orders", Q_ORDERS, {"first": ORDER_PAGE_SIZE, "after": cursor, "query": query}
        )
        conn = data["orders"]
        orders = []
        for node in conn["nodes"]:
            if _needs_details(node):
                detail = await self.graphql("Order", Q_ORDER, {"id": node["id"]})
                node = detail.get("order") or node
            orders.append(await self._complete(node))
        return Page(orders, _next(conn))

    async def _complete(self, node: dict[str, Any]) -> ExtOrder:
        """An order with more lines than one query returns: fetch the rest before mapping."""
        lines = node.get("lineItems") or {}
        info = lines.get("pageInfo") or {}
        while info.get("hasNextPage"):
            data = await self.graphql(
                "OrderLines", Q_ORDER_LINES, {"id": node["id"], "after": info.get("endCursor")}
            )
            more = ((data.get("order") or {}).get("lineItems")) or {}
            lines["nodes"] = list(lines.get("nodes") or []) + list(more.get("nodes") or [])
            info = more.get("pageInfo") or {}
        return order_from_gql(node)

    async def get_order(self, external_id: str) -> ExtOrder | None:
        data = await self.graphql("Order", Q_ORDER, {"id": gid("Order", external_id)})
        node = data.get("order")
        return await self._complete(node) if node else None

    async def get_product(self, external_id: str) -> ExtProduct | None:
        data = await self.graphql("Product", Q_PRODUCT, {"id": gid("Product", external_id)})
        node = data.get("product")
        return await self._product(node) if node else None

    async def get_product_by_inventory_item(self, inventory_item_id: str) -> ExtProduct | None:
        data = await self.graphql(
            "InventoryItemProduct", Q_INVENTORY_ITEM, {"id": gid("InventoryItem", inventory_item_id)}
        )
        product = (((data.get("inventoryItem") or {}).get("variant")) or {}).get("product")
        return await self._product(product) if product else None

    # -- webhooks

    def webhook_key(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        return header(headers, "X-Shopify-Event-Id") or header(headers, "X-Shopify-Webhook-Id")

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        if not self.api_secret:
            return False
        # a public app signs every shop's webhooks with the same secret: the shop must be this store's
        domain = (header(headers, "X-Shopify-Shop-Domain") or "").strip().lower()
        if domain != self.store_domain:
            return False
        return signature_matches(
            hmac_sha256_base64(self.api_secret, body), header(headers, "X-Shopify-Hmac-Sha256")
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookItem]:
        topic = (header(headers, "X-Shopify-Topic") or "").strip().lower()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload("the webhook body is not JSON") from exc
        if not isinstance(payload, dict):
            raise MalformedPayload("the webhook body is not a JSON object")
        try:
            return self._items(topic, payload)
        except KeyError as exc:
            raise MalformedPayload(f"{topic or 'webhook'} payload lacks {exc}") from exc

    def _items(self, topic: str, payload: dict[str, Any]) -> list[WebhookItem]:
        currency = str(payload.get("currency") or self.currency)
        if topic in (
            "orders/create",
            "orders/updated",
            "orders/cancelled",
            "orders/fulfilled",
            "orders/paid",
            "orders/partially_fulfilled",
        ):
            return [OrderChanged(order_from_rest(payload))]
        if topic == "orders/edited":
            edit = payload.get("order_edit") or {}
            return [OrderRef(str(edit["order_id"]))]
        if topic == "orders/delete":
            return [Deleted(Resource.orders, str(payload["id"]))]
        if topic in ("fulfillments/create", "fulfillments/update"):
            order_id = str(payload["order_id"])
            return [ShipmentChanged(order_id, shipment_from_rest(payload, order_id))]
        if topic == "refunds/create":
            order_id = str(payload["order_id"])
            return [RefundCreated(order_id, refund_from_rest(payload, currency, order_id))]
        if topic in ("customers/create", "customers/update"):
            return [CustomerChanged(customer_from_rest(payload))]
        if topic in ("products/create", "products/update"):
            return [ProductChanged(product_from_rest(payload, currency))]
        if topic == "products/delete":
            return [Deleted(Resource.products, str(payload["id"]))]
        if topic == "inventory_levels/update":
            return [InventoryRef(str(payload["inventory_item_id"]))]
        if topic in ("customers/data_request", "customers/redact"):
            c = payload.get("customer") or {}
            customer = ExtCustomer(
                external_id=str(c.get("id") or ""), email=c.get("email"), phone=c.get("phone")
            )
            if topic == "customers/data_request":
                return [
                    PrivacyDataRequest(
                        customer,
                        tuple(str(o) for o in payload.get("orders_requested") or []),
                        str((payload.get("data_request") or {}).get("id") or "") or None,
                    )
                ]
            return [
                PrivacyCustomerRedact(customer, tuple(str(o) for o in payload.get("orders_to_redact") or []))
            ]
        if topic == "shop/redact":
            return [PrivacyShopRedact()]
        return [Ignored(topic or "unknown")]

    # -- actions

    async def _refetch(self, order: ExtOrder) -> ExtOrder:
        fresh = await self.get_order(order.external_id)
        if fresh is None:
            raise NotFoundOnPlatform(f"order {order.number} no longer exists on Shopify")
        return fresh

    async def cancel(self, order: ExtOrder, request: CancelRequest) -> ActionOutcome:
        data = await self.graphql(
            "OrderCancel",
            M_CANCEL,
            {
                "orderId": gid("Order", order.external_id),
                "reason": CANCEL_REASONS[request.reason.value],
                "refund": request.refund,
                "restock": request.restock,
                "notifyCustomer": request.notify,
                "staffNote": request.staff_note,
            },
        )
        payload = data.get("orderCancel") or {}
        self._user_errors(payload, "orderCancelUserErrors", "userErrors")
        job = payload.get("job") or {}
        done = bool(job.get("done"))
        for _ in range(10):
            if done or not job.get("id"):
                break
            await self.http.wait(0.3)
            status = await self.graphql("Job", Q_JOB, {"id": job["id"]})
            done = bool((status.get("job") or {}).get("done"))
        fresh = await self._refetch(order)
        if not done or fresh.cancelled_at is None:
            return ActionOutcome(
                f"Shopify accepted the cancellation of order {order.number}; it finishes in the background",
                order=fresh,
                pending=True,
            )
        return ActionOutcome(f"Shopify cancelled order {order.number}", order=fresh)

    async def refund(self, order: ExtOrder, request: RefundRequest) -> ActionOutcome:
        order_gid = gid("Order", order.external_id)
        lines = [
            {
                "lineItemId": gid("LineItem", line_id),
                "quantity": qty,
                "restockType": "RETURN" if request.restock else "NO_RESTOCK",
            }
            for line_id, qty in request.lines
        ]
        shipping = from_minor(request.shipping_minor, request.currency) if request.shipping_minor else None
        suggestion = await self.graphql(
            "SuggestedRefund",
            Q_SUGGESTED_REFUND,
            {
                "id": order_gid,
                "lines": [{"lineItemId": x["lineItemId"], "quantity": x["quantity"]} for x in lines],
                "shipping": shipping,
            },
        )
        suggested = ((suggestion.get("order") or {}).get("suggestedRefund")) or {}
        transactions = []
        for t in suggested.get("suggestedTransactions") or []:
            parent = (t.get("parentTransaction") or {}).get("id")
            transactions.append(
                {
                    "orderId": order_gid,
                    "parentId": parent,
                    "gateway": t.get("gateway"),
                    "kind": "REFUND",
                    "amount": ((t.get("amountSet") or {}).get("shopMoney") or {}).get("amount"),
                }
            )
        suggested_minor = _money(suggested.get("amountSet"), request.currency)
        if request.amount_minor != suggested_minor:
            if len(transactions) != 1:
                raise PlatformRefused(
                    "the order was paid in several payments; refund whole lines instead of a custom amount"
                    if transactions
                    else "Shopify has no payment on this order to refund"
                )
            transactions[0]["amount"] = from_minor(request.amount_minor, request.currency)
        refund_input: dict[str, Any] = {
            "orderId": order_gid,
            "note": request.reason,
            "notify": request.notify,
            "refundLineItems": lines,
            "transactions": transactions,
        }
        if shipping:
            refund_input["shipping"] = {"amount": shipping}
        data = await self.graphql("RefundCreate", M_REFUND, {"input": refund_input})
        payload = data.get("refundCreate") or {}
        self._user_errors(payload, "userErrors")
        refund_node = payload.get("refund")
        refund = refund_from_gql(refund_node, request.currency, order.external_id) if refund_node else None
        fresh = await self._refetch(order)
        return ActionOutcome(
            f"Shopify refunded {from_minor(request.amount_minor, request.currency)} {request.currency} "
            f"on order {order.number}",
            order=fresh,
            refund=refund,
        )

    async def update_shipping_address(self, order: ExtOrder, address: Address) -> ActionOutcome:
        first, _, last = (address.get("name") or "").partition(" ")
        data = await self.graphql(
            "OrderUpdate",
            M_ORDER_UPDATE,
            {
                "input": {
                    "id": gid("Order", order.external_id),
                    "shippingAddress": {
                        "firstName": first or None,
                        "lastName": last or None,
                        "company": address.get("company"),
                        "address1": address.get("address1"),
                        "address2": address.get("address2"),
                        "city": address.get("city"),
                        "provinceCode": address.get("province"),
                        "zip": address.get("zip"),
                        "countryCode": address.get("country_code"),
                        "phone": address.get("phone"),
                    },
                }
            },
        )
        self._user_errors(data.get("orderUpdate") or {}, "userErrors")
        return ActionOutcome(
            f"Shopify changed the shipping address of order {order.number}", order=await self._refetch(order)
        )

    async def add_note(self, order: ExtOrder, note: str) -> ActionOutcome:
        current = await self.graphql("OrderNote", Q_NOTE, {"id": gid("Order", order.external_id)})
        existing = ((current.get("order") or {}).get("note")) or ""
        combined = f"{existing}\n\n{note}" if existing else note
        data = await self.graphql(
            "OrderUpdate",
            M_ORDER_UPDATE,
            {"input": {"id": gid("Order", order.external_id), "note": combined}},
        )
        self._user_errors(data.get("orderUpdate") or {}, "userErrors")
        return ActionOutcome(
            f"Shopify added the note to order {order.number}", order=await self._refetch(order)
        )

    async def add_tags(self, order: ExtOrder, tags: list[str]) -> ActionOutcome:
        data = await self.graphql(
            "TagsAdd", M_TAGS_ADD, {"id": gid("Order", order.external_id), "tags": tags}
        )
        self._user_errors(data.get("tagsAdd") or {}, "userErrors")
        return ActionOutcome(f"Shopify tagged order {order.number}", order=await self._refetch(order))

    async def create_return(self, order: ExtOrder, request: ReturnRequest) -> ActionOutcome:
        data = await self.graphql(
            "FulfillmentLines", Q_FULFILLMENT_LINES, {"id": gid("Order", order.external_id)}
        )
        available: dict[str, list[tuple[str, int]]] = {}
        for f in (data.get("order") or {}).get("fulfillments") or []:
            for n in (f.get("fulfillmentLineItems") or {}).get("nodes") or []:
                line = legacy_id((n.get("lineItem") or {}).get("id"))
                available.setdefault(line, []).append((n["id"], int(n.get("quantity") or 0)))
        items = []
        for wanted in request.lines:
            candidates = [c for c in available.get(wanted.line_external_id, []) if c[1] >= wanted.quantity]
            if not candidates:
                raise PlatformRefused(
                    "Shopify can only take back items that were shipped; this line has not been shipped "
                    "in that quantity"
                )
            reason = RETURN_REASONS.get((wanted.reason or "other").lower(), "OTHER")
            item: dict[str, Any] = {
                "fulfillmentLineItemId": candidates[0][0],
                "quantity": wanted.quantity,
                "returnReason": reason,
            }
            if reason == "OTHER" and wanted.reason:
                item["returnReasonNote"] = wanted.reason
            items.append(item)
        created = await self.graphql(
            "ReturnCreate",
            M_RETURN_CREATE,
            {
                "returnInput": {
                    "orderId": gid("Order", order.external_id),
                    "returnLineItems": items,
                    "notifyCustomer": request.notify,
                }
            },
        )
        payload = created.get("returnCreate") or {}
        self._user_errors(payload, "userErrors")
        node = payload.get("return")
        ret = return_from_gql(node, order.external_id) if node else None
        return ActionOutcome(
            f"Shopify opened return {ret.number if ret else ''} for order {order.number}".replace("  ", " "),
            order=await self._refetch(order),
            return_=ret,
        )

    async def register_webhooks(self, callback_url: str) -> WebhookRegistration:
        existing: set[str] = set()
        cursor: str | None = None
        while True:
            data = await self.graphql("Webhooks", Q_WEBHOOKS, {"after": cursor, "callbackUrl": callback_url})
            conn = data.get("webhookSubscriptions") or {}
            for node in conn.get("nodes") or []:
                endpoint = node.get("endpoint") or {}
                if endpoint.get("callbackUrl", callback_url) == callback_url:
                    existing.add(str(node.get("topic")))
            cursor = _next(conn)
            if cursor is None:
                break
        created: list[str] = []
        failed: dict[str, str] = {}
        for topic in WEBHOOK_TOPICS:
            if topic in existing:
                continue
            data = await self.graphql(
                "WebhookSubscriptionCreate",
                M_WEBHOOK_CREATE,
                {"topic": topic, "webhookSubscription": {"callbackUrl": callback_url, "format": "JSON"}},
            )
            payload = data.get("webhookSubscriptionCreate") or {}
            errors = payload.get("userErrors") or []
            if errors:
                failed[topic] = "; ".join(str(e.get("message")) for e in errors)
            else:
                created.append(topic)
        return WebhookRegistration(
            callback_url,
            created=tuple(created),
            existing=tuple(t for t in WEBHOOK_TOPICS if t in existing),
            failed=failed,
        )

    async def resend_confirmation(self, order: ExtOrder) -> ActionOutcome:
        data = await self.graphql("OrderInvoiceSend", M_INVOICE_SEND, {"id": gid("Order", order.external_id)})
        self._user_errors(data.get("orderInvoiceSend") or {}, "userErrors")
        return ActionOutcome(f"Shopify sent the order email for order {order.number} again")


def _needs_details(node: Mapping[str, Any]) -> bool:
    lines = node.get("lineItems") or {}
    return bool(
        (lines.get("pageInfo") or {}).get("hasNextPage")
        or node.get("refunds")
        or len(node.get("fulfillments") or []) >= 2
        or (node.get("returnStatus") or "NO_RETURN") != "NO_RETURN"
    )


def _next(conn: Mapping[str, Any]) -> str | None:
    info = conn.get("pageInfo") or {}
    return str(info["endCursor"]) if info.get("hasNextPage") and info.get("endCursor") else None
