"""A local Shopify: the GraphQL Admin API (``POST /admin/api/2025-01/graphql.json``) executed by
graphql-core against a subset of Shopify's schema written from shopify.dev (types, fields, arguments,
enums and mutation payloads as documented), plus REST-shaped webhook payloads.

What it enforces like the real one: ``X-Shopify-Access-Token`` (401 ``[API] Invalid API key or access
token``), access scopes (``ACCESS_DENIED`` errors), query validation against the schema, the single query
cost limit (``MAX_COST_EXCEEDED`` above 1000 points), the leaky bucket (``extensions.cost.throttleStatus``
on every answer, ``THROTTLED`` when the requested cost is not available), cursor pagination sorted by ID,
``userErrors`` on mutations, and 429 / 503 on demand.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    build_schema,
    execute,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql.language import DocumentNode, FragmentDefinitionNode, SelectionSetNode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.commerce.fakes.common import BASE_TS, COLORS, SIZES, Faults, b64_hmac, iso, money, person

SDL = """
scalar DateTime
scalar Money
scalar Decimal
scalar URL

enum CurrencyCode { EUR USD GBP SEK NOK HUF PLN DKK JPY }
enum CountryCode { DE AT NL FR GB US SE NO HU PL DK }
enum OrderDisplayFinancialStatus { PENDING AUTHORIZED PARTIALLY_PAID PARTIALLY_REFUNDED VOIDED PAID REFUNDED EXPIRED }
enum OrderDisplayFulfillmentStatus { UNFULFILLED PARTIALLY_FULFILLED FULFILLED RESTOCKED PENDING_FULFILLMENT OPEN IN_PROGRESS ON_HOLD SCHEDULED REQUEST_DECLINED }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderReturnStatus { INSPECTION_COMPLETE IN_PROGRESS NO_RETURN RETURNED RETURN_FAILED RETURN_REQUESTED }
enum FulfillmentStatus { CANCELLED ERROR FAILURE SUCCESS OPEN PENDING }
enum FulfillmentDisplayStatus { ATTEMPTED_DELIVERY CANCELED CONFIRMED DELIVERED FAILURE FULFILLED IN_TRANSIT LABEL_PRINTED LABEL_PURCHASED LABEL_VOIDED MARKED_AS_FULFILLED NOT_DELIVERED OUT_FOR_DELIVERY PICKED_UP READY_FOR_PICKUP SUBMITTED }
enum ReturnStatus { CANCELED CLOSED DECLINED OPEN REQUESTED }
enum ReturnReason { COLOR DEFECTIVE NOT_AS_DESCRIBED OTHER SIZE_TOO_LARGE SIZE_TOO_SMALL STYLE UNKNOWN UNWANTED WRONG_ITEM }
enum ProductVariantInventoryPolicy { DENY CONTINUE }
enum OrderSortKeys { CREATED_AT CUSTOMER_NAME FINANCIAL_STATUS FULFILLMENT_STATUS ID ORDER_NUMBER PROCESSED_AT RELEVANCE TOTAL_PRICE UPDATED_AT }
enum CustomerSortKeys { CREATED_AT ID LOCATION NAME RELEVANCE UPDATED_AT }
enum ProductSortKeys { CREATED_AT ID INVENTORY_TOTAL PRODUCT_TYPE PUBLISHED_AT RELEVANCE TITLE UPDATED_AT VENDOR }
enum RestockType { NO_RESTOCK CANCEL RETURN LEGACY_RESTOCK }
enum OrderTransactionKind { SALE CAPTURE AUTHORIZATION VOID REFUND CHANGE EMV_AUTHORIZATION SUGGESTED_REFUND }
enum CountPrecision { EXACT AT_LEAST }

interface Node { id: ID! }

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! endCursor: String startCursor: String }
type MailingAddress {
  firstName: String lastName: String name: String company: String address1: String address2: String
  city: String province: String provinceCode: String zip: String country: String countryCodeV2: CountryCode phone: String
}
type Customer implements Node {
  id: ID! email: String phone: String firstName: String lastName: String updatedAt: DateTime!
  defaultAddress: MailingAddress
}
type CustomerConnection { nodes: [Customer!]! pageInfo: PageInfo! }
type SelectedOption { name: String! value: String! }
type InventoryItem implements Node { id: ID! variant: ProductVariant! }
type ProductVariant implements Node {
  id: ID! sku: String title: String! price: Money! inventoryQuantity: Int
  inventoryPolicy: ProductVariantInventoryPolicy! selectedOptions: [SelectedOption!]!
  inventoryItem: InventoryItem! product: Product!
}
type ProductVariantConnection { nodes: [ProductVariant!]! pageInfo: PageInfo! }
type Product implements Node {
  id: ID! handle: String! title: String! vendor: String! productType: String!
  description(truncateAt: Int): String! updatedAt: DateTime!
  variants(first: Int, after: String): ProductVariantConnection!
}
type ProductConnection { nodes: [Product!]! pageInfo: PageInfo! }
type LineItem implements Node {
  id: ID! sku: String name: String! title: String! variantTitle: String quantity: Int!
  originalUnitPriceSet: MoneyBag! discountedTotalSet: MoneyBag! variant: ProductVariant
}
type LineItemConnection { nodes: [LineItem!]! pageInfo: PageInfo! }
type FulfillmentTrackingInfo { company: String number: String url: URL }
type FulfillmentLineItem implements Node { id: ID! quantity: Int lineItem: LineItem! }
type FulfillmentLineItemConnection { nodes: [FulfillmentLineItem!]! pageInfo: PageInfo! }
type Fulfillment implements Node {
  id: ID! status: FulfillmentStatus! displayStatus: FulfillmentDisplayStatus createdAt: DateTime! updatedAt: DateTime!
  inTransitAt: DateTime deliveredAt: DateTime estimatedDeliveryAt: DateTime
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems(first: Int, after: String): FulfillmentLineItemConnection!
}
type RefundLineItem { quantity: Int! lineItem: LineItem! restockType: RestockType! }
type RefundLineItemConnection { nodes: [RefundLineItem!]! pageInfo: PageInfo! }
type Refund implements Node {
  id: ID! createdAt: DateTime note: String totalRefundedSet: MoneyBag!
  refundLineItems(first: Int, after: String): RefundLineItemConnection!
}
interface ReturnLineItemType { id: ID! quantity: Int! returnReason: ReturnReason! }
type ReturnLineItem implements ReturnLineItemType & Node {
  id: ID! quantity: Int! returnReason: ReturnReason! fulfillmentLineItem: FulfillmentLineItem!
}
type ReturnLineItemTypeConnection { nodes: [ReturnLineItemType!]! pageInfo: PageInfo! }
type Return implements Node {
  id: ID! name: String! status: ReturnStatus! returnLineItems(first: Int, after: String): ReturnLineItemTypeConnection!
}
type ReturnConnection { nodes: [Return!]! pageInfo: PageInfo! }
type ShippingLine { title: String! }
type OrderTransaction implements Node { id: ID! gateway: String kind: OrderTransactionKind! amountSet: MoneyBag! }
type SuggestedOrderTransaction { amountSet: MoneyBag! gateway: String kind: OrderTransactionKind! parentTransaction: OrderTransaction }
type SuggestedRefund { amountSet: MoneyBag! suggestedTransactions: [SuggestedOrderTransaction!]! }
input RefundLineItemInput { lineItemId: ID! quantity: Int! restockType: RestockType locationId: ID }
type Order implements Node {
  id: ID! name: String! email: String phone: String createdAt: DateTime! updatedAt: DateTime! processedAt: DateTime!
  cancelledAt: DateTime cancelReason: OrderCancelReason returnStatus: OrderReturnStatus!
  displayFinancialStatus: OrderDisplayFinancialStatus displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  currencyCode: CurrencyCode! note: String tags: [String!]! paymentGatewayNames: [String!]!
  subtotalPriceSet: MoneyBag totalShippingPriceSet: MoneyBag! totalTaxSet: MoneyBag totalPriceSet: MoneyBag!
  totalRefundedSet: MoneyBag! shippingLine: ShippingLine shippingAddress: MailingAddress billingAddress: MailingAddress
  customer: Customer
  lineItems(first: Int, after: String): LineItemConnection!
  fulfillments(first: Int): [Fulfillment!]!
  refunds(first: Int): [Refund!]!
  returns(first: Int, after: String): ReturnConnection!
  suggestedRefund(refundLineItems: [RefundLineItemInput!], shippingAmount: Money, refundShipping: Boolean): SuggestedRefund
}
type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! }
type Count { count: Int! precision: CountPrecision! }
type Shop { name: String! myshopifyDomain: String! currencyCode: CurrencyCode! }
type AccessScope { handle: String! }
type AppInstallation { accessScopes: [AccessScope!]! }
type Job { id: ID! done: Boolean! }
type Query {
  shop: Shop!
  currentAppInstallation: AppInstallation!
  orders(first: Int, after: String, sortKey: OrderSortKeys, reverse: Boolean, query: String): OrderConnection!
  order(id: ID!): Order
  customers(first: Int, after: String, sortKey: CustomerSortKeys, query: String): CustomerConnection!
  products(first: Int, after: String, sortKey: ProductSortKeys, query: String): ProductConnection!
  product(id: ID!): Product
  inventoryItem(id: ID!): InventoryItem
  job(id: ID!): Job
  ordersCount(query: String, limit: Int): Count
  productsCount(query: String, limit: Int): Count
  customersCount(query: String, limit: Int): Count
  webhookSubscriptions(first: Int, after: String, callbackUrl: URL, format: WebhookSubscriptionFormat, topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
}
input ShippingRefundInput { amount: Money fullRefund: Boolean }
input OrderTransactionInput { amount: Money! gateway: String! kind: OrderTransactionKind! orderId: ID! parentId: ID }
input RefundInput {
  orderId: ID! note: String notify: Boolean shipping: ShippingRefundInput refundLineItems: [RefundLineItemInput!]
  transactions: [OrderTransactionInput!] currency: CurrencyCode
}
input MailingAddressInput {
  address1: String address2: String city: String company: String countryCode: CountryCode firstName: String
  lastName: String phone: String provinceCode: String zip: String
}
input OrderInput { id: ID! note: String tags: [String!] shippingAddress: MailingAddressInput email: String }
input ReturnLineItemInput { fulfillmentLineItemId: ID! quantity: Int! returnReason: ReturnReason returnReasonNote: String }
input ReturnInput { orderId: ID! returnLineItems: [ReturnLineItemInput!]! notifyCustomer: Boolean requestedAt: DateTime }
input EmailInput { to: String from: String subject: String customMessage: String bcc: [String!] }
type UserError { field: [String!] message: String! }
type OrderCancelUserError { field: [String!] message: String! code: String }
type ReturnUserError { field: [String!] message: String! code: String }
type OrderInvoiceSendUserError { field: [String!] message: String! code: String }
type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]! }
type RefundCreatePayload { order: Order refund: Refund userErrors: [UserError!]! }
type OrderUpdatePayload { order: Order userErrors: [UserError!]! }
type TagsAddPayload { node: Node userErrors: [UserError!]! }
type ReturnCreatePayload { return: Return userErrors: [ReturnUserError!]! }
type OrderInvoiceSendPayload { order: Order userErrors: [OrderInvoiceSendUserError!]! }
enum WebhookSubscriptionTopic {
  APP_UNINSTALLED CUSTOMERS_CREATE CUSTOMERS_UPDATE CUSTOMERS_DELETE FULFILLMENTS_CREATE FULFILLMENTS_UPDATE
  INVENTORY_LEVELS_UPDATE ORDERS_CANCELLED ORDERS_CREATE ORDERS_DELETE ORDERS_EDITED ORDERS_FULFILLED ORDERS_PAID
  ORDERS_PARTIALLY_FULFILLED ORDERS_UPDATED PRODUCTS_CREATE PRODUCTS_DELETE PRODUCTS_UPDATE REFUNDS_CREATE
}
enum WebhookSubscriptionFormat { JSON XML }
type WebhookHttpEndpoint { callbackUrl: URL! }
type WebhookEventBridgeEndpoint { arn: String! }
type WebhookPubSubEndpoint { pubSubProject: String! pubSubTopic: String! }
union WebhookSubscriptionEndpoint = WebhookHttpEndpoint | WebhookEventBridgeEndpoint | WebhookPubSubEndpoint
type WebhookSubscription {
  id: ID! topic: WebhookSubscriptionTopic! format: WebhookSubscriptionFormat! endpoint: WebhookSubscriptionEndpoint!
  callbackUrl: URL! createdAt: DateTime! updatedAt: DateTime! includeFields: [String!]!
}
type WebhookSubscriptionConnection { nodes: [WebhookSubscription!]! pageInfo: PageInfo! }
input WebhookSubscriptionInput { callbackUrl: URL format: WebhookSubscriptionFormat includeFields: [String!] metafieldNamespaces: [String!] }
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
type Mutation {
  orderCancel(orderId: ID!, reason: OrderCancelReason!, refund: Boolean!, restock: Boolean!, notifyCustomer: Boolean, staffNote: String): OrderCancelPayload
  refundCreate(input: RefundInput!): RefundCreatePayload
  orderUpdate(input: OrderInput!): OrderUpdatePayload
  tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
  returnCreate(returnInput: ReturnInput!): ReturnCreatePayload
  orderInvoiceSend(id: ID!, email: EmailInput): OrderInvoiceSendPayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
}
"""

SCHEMA = build_schema(SDL)
MAX_COST = 1000
API_PATH = "/admin/api/2025-01/graphql.json"
READ_SCOPES_FOR = {
    "orders": "read_orders",
    "order": "read_orders",
    "ordersCount": "read_orders",
    "customers": "read_customers",
    "customersCount": "read_customers",
    "products": "read_products",
    "product": "read_products",
    "productsCount": "read_products",
    "inventoryItem": "read_inventory",
}
WRITE_SCOPES_FOR = {
    "orderCancel": "write_orders",
    "refundCreate": "write_orders",
    "orderUpdate": "write_orders",
    "tagsAdd": "write_orders",
    "orderInvoiceSend": "write_orders",
    "returnCreate": "write_returns",
}
WEBHOOK_TOPIC_SCOPES = {
    "ORDERS": "read_orders",
    "FULFILLMENTS": "read_orders",
    "REFUNDS": "read_orders",
    "CUSTOMERS": "read_customers",
    "PRODUCTS": "read_products",
    "INVENTORY": "read_inventory",
}
ALL_SCOPES = (
    "read_orders",
    "write_orders",
    "read_customers",
    "read_products",
    "read_inventory",
    "write_returns",
)


def gid(kind: str, n: int) -> str:
    return f"gid://shopify/{kind}/{n}"


def num(value: str) -> int:
    return int(str(value).rsplit("/", 1)[-1])


def _cursor(n: int) -> str:
    return base64.b64encode(f"id:{n}".encode()).decode()


def _uncursor(c: str | None) -> int:
    return int(base64.b64decode(c).decode().split(":", 1)[1]) if c else 0


def _bag(cents: int, currency: str) -> dict[str, Any]:
    m = {"amount": money(cents), "currencyCode": currency}
    return {"shopMoney": m, "presentmentMoney": m}


def _conn(items: list[Any], first: int | None, after: str | None, key: Any) -> dict[str, Any]:
    start = _uncursor(after)
    rest = [i for i in items if key(i) > start]
    page = rest[: first or 50]
    return {
        "nodes": page,
        "pageInfo": {
            "hasNextPage": len(rest) > len(page),
            "hasPreviousPage": start > 0,
            "endCursor": _cursor(key(page[-1])) if page else None,
            "startCursor": _cursor(key(page[0])) if page else None,
        },
    }


# --- cost -------------------------------------------------------------------------------------------------


def _arg(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for a in node.arguments or ():
        if a.name.value == name:
            return value_from_ast_untyped(a.value, variables)
    return None


def _selection_cost(
    selection_set: SelectionSetNode | None,
    parent: GraphQLObjectType | Any,
    variables: dict[str, Any],
    fragments: dict[str, FragmentDefinitionNode],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for sel in selection_set.selections:
        if isinstance(sel, FragmentSpreadNode):
            frag = fragments[sel.name.value]
            total += _selection_cost(
                frag.selection_set, SCHEMA.get_type(frag.type_condition.name.value), variables, fragments
            )
            continue
        if isinstance(sel, InlineFragmentNode):
            target = SCHEMA.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            total += _selection_cost(sel.selection_set, target, variables, fragments)
            continue
        assert isinstance(sel, FieldNode)
        name = sel.name.value
        if name == "__typename":
            continue
        fields = getattr(parent, "fields", {})
        fdef = fields.get(name)
        if fdef is None:
            continue
        named = get_named_type(fdef.type)
        if is_leaf_type(named):
            continue
        first = _arg(sel, "first", variables)
        if named.name.endswith("Connection"):
            # Shopify: a connection costs 2 + first × the cost of one node (the node object counts 1)
            per_node = 0
            for sub in sel.selection_set.selections if sel.selection_set else ():
                if isinstance(sub, FieldNode) and sub.name.value == "nodes":
                    node_type = get_named_type(named.fields["nodes"].type)
                    per_node += 1 + _selection_cost(sub.selection_set, node_type, variables, fragments)
                elif isinstance(sub, FieldNode) and sub.name.value == "edges":
                    per_node += 1 + _selection_cost(
                        sub.selection_set, get_named_type(named.fields["edges"].type), variables, fragments
                    )
            total += 2 + int(first or 50) * max(1, per_node)
            continue
        child = _selection_cost(sel.selection_set, named, variables, fragments)
        if first is not None and _is_list(fdef.type):
            total += int(first) * (1 + child)
        else:
            total += 1 + child
    return total


def _is_list(t: Any) -> bool:
    return isinstance(t, GraphQLList) or isinstance(getattr(t, "of_type", None), GraphQLList)


def requested_cost(
    document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> int:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = SCHEMA.mutation_type if operation.operation.value == "mutation" else SCHEMA.query_type
    cost = _selection_cost(operation.selection_set, root, variables, fragments)
    if operation.operation.value == "mutation":
        cost += 10 * len(operation.selection_set.selections)
    return max(1, cost)


# --- state ------------------------------------------------------------------------------------------------


@dataclass
class Bucket:
    maximum: float = 1000.0
    restore_rate: float = 50.0
    available: float = 1000.0
    at: float = field(default_factory=time.monotonic)

    def refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        self.at = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }


class ShopifyFake:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = Faults()
        self.reset()

    # -- setup

    def reset(
        self,
        *,
        orders: int = 0,
        customers: int = 0,
        products: int = 0,
        currency: str = "EUR",
        maximum: float = 2000.0,
        restore_rate: float = 2000.0,
    ) -> None:
        with self.lock:
            self.faults.reset()
            self.domain = "nordlys.myshopify.com"
            self.name = "Nordlys Home"
            self.currency = currency
            self.token = "shpat_test_token"
            self.api_secret = "shopify-app-secret"
            self.scopes = list(ALL_SCOPES)
            self.bucket = Bucket(maximum=maximum, restore_rate=restore_rate, available=maximum)
            self.throttle_next = 0
            self.ids = itertools.count(1000)
            self.customers: dict[int, dict[str, Any]] = {}
            self.products: dict[int, dict[str, Any]] = {}
            self.orders: dict[int, dict[str, Any]] = {}
            self.jobs: dict[int, bool] = {}
            self.invoices: list[int] = []
            self.webhooks: dict[int, dict[str, Any]] = {}
            self.queries: list[tuple[str, int]] = []
            self.clock = BASE_TS
            for i in range(products):
                self.add_product(i)
            for i in range(customers):
                self.add_customer(i)
            for i in range(orders):
                self.add_order(i)

    def next_id(self) -> int:
        return next(self.ids)

    def tick(self) -> str:
        self.clock += 60
        return iso(self.clock)

    def add_customer(self, i: int) -> dict[str, Any]:
        first, last, email = person(i)
        cid = self.next_id()
        rec = {
            "id": cid,
            "email": email,
            "phone": f"+4915112{i:05d}",
            "first_name": first,
            "last_name": last,
            "country": "DE",
            "updated_at": self.tick(),
        }
        self.customers[cid] = rec
        return rec

    def add_product(self, i: int) -> dict[str, Any]:
        pid = self.next_id()
        variants = []
        for c in COLORS:
            for s in SIZES[:2]:
                vid = self.next_id()
                variants.append(
                    {
                        "id": vid,
                        "inventory_item_id": self.next_id(),
                        "sku": f"P{i}-{c[0]}{s}",
                        "title": f"{c} / {s}",
                        "price": 2500 + i * 100,
                        "stock": 10 + i,
                        "policy": "DENY",
                        "options": [("Color", c), ("Size", s)],
                    }
                )
        rec = {
            "id": pid,
            "handle": f"product-{i}",
            "title": f"Product {i}",
            "vendor": "Nordlys",
            "product_type": "Home",
            "description": f"Description {i}",
            "updated_at": self.tick(),
            "variants": variants,
        }
        self.products[pid] = rec
        return rec

    def add_order(
        self,
        i: int,
        *,
        lines: int = 2,
        customer: dict[str, Any] | None = None,
        paid: bool = True,
        fulfilled: bool = False,
    ) -> dict[str, Any]:
        oid = self.next_id()
        if customer is None and self.customers:
            customer = list(self.customers.values())[i % len(self.customers)]
        first, last, email = (
            (customer["first_name"], customer["last_name"], customer["email"]) if customer else person(i)
        )
        variants = [v for p in self.products.values() for v in p["variants"]]
        items = []
        for n in range(lines):
            v = variants[(i + n) % len(variants)] if variants else None
            items.append(
                {
                    "id": self.next_id(),
                    "sku": v["sku"] if v else f"SKU-{i}-{n}",
                    "title": f"Item {n}",
                    "variant_title": v["title"] if v else None,
                    "quantity": 1 + n,
                    "price": v["price"] if v else 1000,
                    "variant_id": v["id"] if v else None,
                }
            )
        subtotal = sum(it["price"] * it["quantity"] for it in items)
        created = self.tick()
        rec: dict[str, Any] = {
            "id": oid,
            "name": f"#{1001 + i}",
            "email": email,
            "phone": None,
            "created_at": created,
            "updated_at": created,
            "cancelled_at": None,
            "cancel_reason": None,
            "financial": "PAID" if paid else "PENDING",
            "fulfillment": "UNFULFILLED",
            "subtotal": subtotal,
            "shipping": 490,
            "tax": 0,
            "total": subtotal + 490,
            "refunded": 0,
            "note": None,
            "tags": [],
            "customer_id": customer["id"] if customer else None,
            "shipping_address": {
                "first_name": first,
                "last_name": last,
                "address1": f"Hauptstraße {i + 1}",
                "city": "Berlin",
                "zip": "10115",
                "country_code": "DE",
                "phone": None,
                "company": None,
                "address2": None,
                "province_code": None,
            },
            "lines": items,
            "fulfillments": [],
            "refunds": [],
            "returns": [],
            "transactions": [
                {"id": self.next_id(), "kind": "SALE", "gateway": "manual", "amount": subtotal + 490}
            ]
            if paid
            else [],
        }
        self.orders[oid] = rec
        if fulfilled:
            self.fulfil(oid)
        return rec

    def fulfil(self, oid: int, *, status: str = "IN_TRANSIT") -> dict[str, Any]:
        rec = self.orders[oid]
        fid = self.next_id()
        f = {
            "id": fid,
            "status": "SUCCESS",
            "display": status,
            "created_at": self.tick(),
            "updated_at": iso(self.clock),
            "company": "DHL",
            "number": f"00340434{oid:010d}",
            "url": f"https://www.dhl.de/track?n={oid}",
            "lines": [
                {"id": self.next_id(), "line_id": li["id"], "quantity": li["quantity"]} for li in rec["lines"]
            ],
        }
        rec["fulfillments"].append(f)
        rec["fulfillment"] = "FULFILLED"
        rec["updated_at"] = iso(self.clock)
        return f

    # -- GraphQL renderings

    def _address(self, a: dict[str, Any] | None) -> dict[str, Any] | None:
        if not a:
            return None
        return {
            "firstName": a.get("first_name"),
            "lastName": a.get("last_name"),
            "name": " ".join(p for p in (a.get("first_name"), a.get("last_name")) if p) or None,
            "company": a.get("company"),
            "address1": a.get("address1"),
            "address2": a.get("address2"),
            "city": a.get("city"),
            "province": None,
            "provinceCode": a.get("province_code"),
            "zip": a.get("zip"),
            "country": a.get("country_code"),
            "countryCodeV2": a.get("country_code"),
            "phone": a.get("phone"),
        }

    def g_customer(self, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "Customer",
            "id": gid("Customer", c["id"]),
            "email": c["email"],
            "phone": c["phone"],
            "firstName": c["first_name"],
            "lastName": c["last_name"],
            "updatedAt": c["updated_at"],
            "defaultAddress": {"countryCodeV2": c["country"]},
        }

    def g_variant(self, v: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", v["id"]),
            "sku": v["sku"],
            "title": v["title"],
            "price": money(v["price"]),
            "inventoryQuantity": v["stock"],
            "inventoryPolicy": v["policy"],
            "selectedOptions": [{"name": n, "value": val} for n, val in v["options"]],
            "inventoryItem": lambda info, v=v, p=product: {
                "id": gid("InventoryItem", v["inventory_item_id"]),
                "variant": self.g_variant(v, p),
            },
            "product": lambda info, p=product: self.g_product(p),
        }

    def g_product(self, p: dict[str, Any]) -> dict[str, Any]:
        variants = p["variants"]
        return {
            "__typename": "Product",
            "id": gid("Product", p["id"]),
            "handle": p["handle"],
            "title": p["title"],
            "vendor": p["vendor"],
            "productType": p["product_type"],
            "description": lambda info, truncateAt=None: p["description"],
            "updatedAt": p["updated_at"],
            "variants": lambda info, first=None, after=None: _conn(
                [self.g_variant(v, p) for v in variants], first, after, lambda n: num(n["id"])
            ),
        }

    def _line(self, li: dict[str, Any], currency: str) -> dict[str, Any]:
        return {
            "__typename": "LineItem",
            "id": gid("LineItem", li["id"]),
            "sku": li["sku"],
            "name": li["title"],
            "title": li["title"],
            "variantTitle": li["variant_title"],
            "quantity": li["quantity"],
            "originalUnitPriceSet": _bag(li["price"], currency),
            "discountedTotalSet": _bag(li["price"] * li["quantity"], currency),
            "variant": {"id": gid("ProductVariant", li["variant_id"])} if li["variant_id"] else None,
        }

    def g_order(self, o: dict[str, Any]) -> dict[str, Any]:
        cur = self.currency
        lines = {li["id"]: li for li in o["lines"]}
        customer = self.customers.get(o["customer_id"]) if o["customer_id"] else None
        fulfillments = [
            {
                "id": gid("Fulfillment", f["id"]),
                "status": f["status"],
                "displayStatus": f["display"],
                "createdAt": f["created_at"],
                "updatedAt": f["updated_at"],
                "inTransitAt": f["created_at"],
                "deliveredAt": f["updated_at"] if f["display"] == "DELIVERED" else None,
                "estimatedDeliveryAt": None,
                "trackingInfo": lambda info, first=None, f=f: [
                    {"company": f["company"], "number": f["number"], "url": f["url"]}
                ][: first or 10],
                "fulfillmentLineItems": lambda info, first=None, after=None, f=f: _conn(
                    [
                        {
                            "id": gid("FulfillmentLineItem", fl["id"]),
                            "quantity": fl["quantity"],
                            "lineItem": self._line(lines[fl["line_id"]], cur),
                        }
                        for fl in f["lines"]
                    ],
                    first,
                    after,
                    lambda n: num(n["id"]),
                ),
            }
            for f in o["fulfillments"]
        ]
        flis = {fl["id"]: fl for f in o["fulfillments"] for fl in f["lines"]}
        refunds = [
            {
                "__typename": "Refund",
                "id": gid("Refund", r["id"]),
                "createdAt": r["created_at"],
                "note": r["note"],
                "totalRefundedSet": _bag(r["amount"], cur),
                "refundLineItems": lambda info, first=None, after=None, r=r: _conn(
                    [
                        {"quantity": q, "lineItem": self._line(lines[lid], cur), "restockType": "RETURN"}
                        for lid, q in r["lines"]
                    ],
                    first,
                    after,
                    lambda n: num(n["lineItem"]["id"]),
                ),
            }
            for r in o["refunds"]
        ]
        returns = [
            {
                "__typename": "Return",
                "id": gid("Return", rt["id"]),
                "name": rt["name"],
                "status": rt["status"],
                "returnLineItems": lambda info, first=None, after=None, rt=rt: _conn(
                    [
                        {
                            "__typename": "ReturnLineItem",
                            "id": gid("ReturnLineItem", rl["id"]),
                            "quantity": rl["quantity"],
                            "returnReason": rl["reason"],
                            "fulfillmentLineItem": {
                                "id": gid("FulfillmentLineItem", rl["fli"]),
                                "quantity": flis[rl["fli"]]["quantity"],
                                "lineItem": self._line(lines[flis[rl["fli"]]["line_id"]], cur),
                            },
                        }
                        for rl in rt["lines"]
                    ],
                    first,
                    after,
                    lambda n: num(n["id"]),
                ),
            }
            for rt in o["returns"]
        ]
        return {
            "__typename": "Order",
            "id": gid("Order", o["id"]),
            "name": o["name"],
            "email": o["email"],
            "phone": o["phone"],
            "createdAt": o["created_at"],
            "updatedAt": o["updated_at"],
            "processedAt": o["created_at"],
            "cancelledAt": o["cancelled_at"],
            "cancelReason": o["cancel_reason"],
            "returnStatus": "IN_PROGRESS" if o["returns"] else "NO_RETURN",
            "displayFinancialStatus": o["financial"],
            "displayFulfillmentStatus": o["fulfillment"],
            "currencyCode": cur,
            "note": o["note"],
            "tags": o["tags"],
            "paymentGatewayNames": ["manual"],
            "subtotalPriceSet": _bag(o["subtotal"], cur),
            "totalShippingPriceSet": _bag(o["shipping"], cur),
            "totalTaxSet": _bag(o["tax"], cur),
            "totalPriceSet": _bag(o["total"], cur),
            "totalRefundedSet": _bag(o["refunded"], cur),
            "shippingLine": {"title": "Standard"},
            "shippingAddress": self._address(o["shipping_address"]),
            "billingAddress": self._address(o["shipping_address"]),
            "customer": self.g_customer(customer) if customer else None,
            "lineItems": lambda info, first=None, after=None: _conn(
                [self._line(li, cur) for li in o["lines"]], first, after, lambda n: num(n["id"])
            ),
            "fulfillments": lambda info, first=None: fulfillments[: first or 10],
            "refunds": lambda info, first=None: refunds[: first or 10],
            "returns": lambda info, first=None, after=None: _conn(
                returns, first, after, lambda n: num(n["id"])
            ),
            "suggestedRefund": lambda info, refundLineItems=None, shippingAmount=None, refundShipping=None: (
                self._suggest(o, refundLineItems or [], shippingAmount)
            ),
        }

    def _suggest(
        self, o: dict[str, Any], lines: list[dict[str, Any]], shipping: str | None
    ) -> dict[str, Any]:
        by_id = {li["id"]: li for li in o["lines"]}
        amount = sum(
            by_id[num(x["lineItemId"])]["price"] * int(x["quantity"])
            for x in lines
            if num(x["lineItemId"]) in by_id
        )
        if shipping:
            amount += round(float(shipping) * 100)
        amount = min(amount, o["total"] - o["refunded"])
        sale = next((t for t in o["transactions"] if t["kind"] == "SALE"), None)
        txs = []
        if sale and amount > 0:
            txs.append(
                {
                    "amountSet": _bag(amount, self.currency),
                    "gateway": sale["gateway"],
                    "kind": "SUGGESTED_REFUND",
                    "parentTransaction": {
                        "id": gid("OrderTransaction", sale["id"]),
                        "gateway": sale["gateway"],
                        "kind": "SALE",
                        "amountSet": _bag(sale["amount"], self.currency),
                    },
                }
            )
        return {"amountSet": _bag(amount, self.currency), "suggestedTransactions": txs}

    # -- root resolvers

    def root(self) -> dict[str, Any]:
        def by_query(items: list[dict[str, Any]], query: str | None) -> list[dict[str, Any]]:
            if query and query.startswith("updated_at:>="):
                since = datetime.fromisoformat(query.split(">=", 1)[1].strip("'\"").replace("Z", "+00:00"))
                return [
                    o
                    for o in items
                    if datetime.fromisoformat(o["updated_at"].replace("Z", "+00:00")) >= since
                ]
            return items

        def order(info: Any, id: str) -> Any:
            o = self.orders.get(num(id))
            return self.g_order(o) if o else None

        def product(info: Any, id: str) -> Any:
            p = self.products.get(num(id))
            return self.g_product(p) if p else None

        def inventory_item(info: Any, id: str) -> Any:
            for p in self.products.values():
                for v in p["variants"]:
                    if v["inventory_item_id"] == num(id):
                        return {"id": id, "variant": self.g_variant(v, p)}
            return None

        return {
            "shop": {"name": self.name, "myshopifyDomain": self.domain, "currencyCode": self.currency},
            "currentAppInstallation": {"accessScopes": [{"handle": s} for s in self.scopes]},
            "orders": lambda info, first=None, after=None, sortKey=None, reverse=None, query=None: _conn(
                [
                    self.g_order(o)
                    for o in by_query(sorted(self.orders.values(), key=lambda o: o["id"]), query)
                ],
                first,
                after,
                lambda n: num(n["id"]),
            ),
            "order": order,
            "customers": lambda info, first=None, after=None, sortKey=None, query=None: _conn(
                [self.g_customer(c) for c in sorted(self.customers.values(), key=lambda c: c["id"])],
                first,
                after,
                lambda n: num(n["id"]),
            ),
            "products": lambda info, first=None, after=None, sortKey=None, query=None: _conn(
                [self.g_product(p) for p in sorted(self.products.values(), key=lambda p: p["id"])],
                first,
                after,
                lambda n: num(n["id"]),
            ),
            "product": product,
            "inventoryItem": inventory_item,
            "job": lambda info, id: {"id": id, "done": self.jobs.get(num(id), True)},
            "ordersCount": lambda info, query=None, limit=None: {
                "count": len(self.orders),
                "precision": "EXACT",
            },
            "productsCount": lambda info, query=None, limit=None: {
                "count": len(self.products),
                "precision": "EXACT",
            },
            "customersCount": lambda info, query=None, limit=None: {
                "count": len(self.customers),
                "precision": "EXACT",
            },
            "webhookSubscriptions": self.q_webhooks,
            # mutations
            "webhookSubscriptionCreate": self.m_webhook_create,
            "orderCancel": self.m_cancel,
            "refundCreate": self.m_refund,
            "orderUpdate": self.m_update,
            "tagsAdd": self.m_tags,
            "returnCreate": self.m_return,
            "orderInvoiceSend": self.m_invoice,
        }

    # -- mutations (each bumps updatedAt, like Shopify)

    def g_webhook(self, w: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": gid("WebhookSubscription", w["id"]),
            "topic": w["topic"],
            "format": w["format"],
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": w["callbackUrl"]},
            "callbackUrl": w["callbackUrl"],
            "createdAt": w["createdAt"],
            "updatedAt": w["createdAt"],
            "includeFields": [],
        }

    def q_webhooks(
        self,
        info: Any,
        first: int | None = None,
        after: str | None = None,
        callbackUrl: str | None = None,
        format: str | None = None,
        topics: list[str] | None = None,
    ) -> dict[str, Any]:
        items = [
            self.g_webhook(w)
            for w in sorted(self.webhooks.values(), key=lambda w: w["id"])
            if (callbackUrl is None or w["callbackUrl"] == callbackUrl)
            and (not topics or w["topic"] in topics)
        ]
        return _conn(items, first, after, lambda n: num(n["id"]))

    def m_webhook_create(self, info: Any, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        url = str(webhookSubscription.get("callbackUrl") or "")
        if not url.startswith("https://"):
            protocol = url.split("//", 1)[0] + "//" if "//" in url else url
            return {
                "webhookSubscription": None,
                "userErrors": [self._err(f"Address protocol {protocol} is not supported", ["callbackUrl"])],
            }
        scope = WEBHOOK_TOPIC_SCOPES.get(topic.split("_", 1)[0])
        if scope and scope not in self.scopes and scope.replace("read_", "write_") not in self.scopes:
            return {
                "webhookSubscription": None,
                "userErrors": [
                    self._err(
                        f"You do not have permission to create or update webhooks with "
                        f"{topic.lower().replace('_', '/', 1)} topic. This topic requires the `{scope}` access scope.",
                        ["topic"],
                    )
                ],
            }
        if any(w["topic"] == topic and w["callbackUrl"] == url for w in self.webhooks.values()):
            return {
                "webhookSubscription": None,
                "userErrors": [self._err("Address for this topic has already been taken", ["callbackUrl"])],
            }
        w = {
            "id": self.next_id(),
            "topic": topic,
            "format": webhookSubscription.get("format") or "JSON",
            "callbackUrl": url,
            "createdAt": self.tick(),
        }
        self.webhooks[w["id"]] = w
        return {"webhookSubscription": self.g_webhook(w), "userErrors": []}

    def _err(self, message: str, field: list[str] | None = None, code: str | None = None) -> dict[str, Any]:
        return {"field": field, "message": message, "code": code}

    def m_cancel(
        self,
        info: Any,
        orderId: str,
        reason: str,
        refund: bool,
        restock: bool,
        notifyCustomer: bool | None = None,
        staffNote: str | None = None,
    ) -> dict[str, Any]:
        o = self.orders.get(num(orderId))
        if o is None:
            e = self._err("Order does not exist", ["orderId"], "NOT_FOUND")
            return {"job": None, "orderCancelUserErrors": [e], "userErrors": [e]}
        if o["cancelled_at"]:
            e = self._err("Order has already been cancelled", ["orderId"], "INVALID")
            return {"job": None, "orderCancelUserErrors": [e], "userErrors": [e]}
        o["cancelled_at"] = self.tick()
        o["cancel_reason"] = reason
        o["updated_at"] = o["cancelled_at"]
        if refund and o["financial"] in ("PAID", "PARTIALLY_REFUNDED"):
            amount = o["total"] - o["refunded"]
            o["refunds"].append(
                {
                    "id": self.next_id(),
                    "created_at": o["cancelled_at"],
                    "note": "cancel",
                    "amount": amount,
                    "lines": [],
                }
            )
            o["refunded"] = o["total"]
            o["financial"] = "REFUNDED"
        elif o["financial"] == "PENDING":
            o["financial"] = "VOIDED"
        job = self.next_id()
        self.jobs[job] = True
        return {"job": {"id": gid("Job", job), "done": False}, "orderCancelUserErrors": [], "userErrors": []}

    def m_refund(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        o = self.orders.get(num(input["orderId"]))
        if o is None:
            return {
                "order": None,
                "refund": None,
                "userErrors": [self._err("Order does not exist", ["orderId"])],
            }
        by_id = {li["id"]: li for li in o["lines"]}
        refunded_qty: dict[int, int] = {}
        for r in o["refunds"]:
            for lid, q in r["lines"]:
                refunded_qty[lid] = refunded_qty.get(lid, 0) + q
        lines = []
        for x in input.get("refundLineItems") or []:
            lid = num(x["lineItemId"])
            if lid not in by_id:
                return {
                    "order": None,
                    "refund": None,
                    "userErrors": [self._err("Line item does not exist", ["refundLineItems"])],
                }
            if x["quantity"] > by_id[lid]["quantity"] - refunded_qty.get(lid, 0):
                return {
                    "order": None,
                    "refund": None,
                    "userErrors": [
                        self._err(
                            "Quantity cannot refund more items than were purchased",
                            ["refundLineItems", "quantity"],
                        )
                    ],
                }
            lines.append((lid, int(x["quantity"])))
        amount = sum(round(float(t["amount"]) * 100) for t in input.get("transactions") or [])
        if amount > o["total"] - o["refunded"]:
            return {
                "order": None,
                "refund": None,
                "userErrors": [
                    self._err(
                        "Refund amount exceeds the amount that can be refunded", ["transactions", "amount"]
                    )
                ],
            }
        if amount <= 0 and not lines:
            return {
                "order": None,
                "refund": None,
                "userErrors": [self._err("Refund must have at least one line item or transaction", None)],
            }
        rec = {
            "id": self.next_id(),
            "created_at": self.tick(),
            "note": input.get("note"),
            "amount": amount,
            "lines": lines,
        }
        o["refunds"].append(rec)
        o["refunded"] += amount
        o["financial"] = "REFUNDED" if o["refunded"] >= o["total"] else "PARTIALLY_REFUNDED"
        o["updated_at"] = rec["created_at"]
        g = self.g_order(o)
        refund_node = next(r for r in g["refunds"](None, first=50) if r["id"] == gid("Refund", rec["id"]))
        return {"order": g, "refund": refund_node, "userErrors": []}

    def m_update(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        o = self.orders.get(num(input["id"]))
        if o is None:
            return {"order": None, "userErrors": [self._err("Order does not exist", ["id"])]}
        if "shippingAddress" in input and input["shippingAddress"] is not None:
            if o["fulfillments"]:
                return {
                    "order": None,
                    "userErrors": [
                        self._err("Shipping address cannot be changed after fulfillment", ["shippingAddress"])
                    ],
                }
            a = input["shippingAddress"]
            if not a.get("zip"):
                return {
                    "order": None,
                    "userErrors": [self._err("Zip is invalid", ["shippingAddress", "zip"])],
                }
            o["shipping_address"] = {
                "first_name": a.get("firstName"),
                "last_name": a.get("lastName"),
                "company": a.get("company"),
                "address1": a.get("address1"),
                "address2": a.get("address2"),
                "city": a.get("city"),
                "zip": a.get("zip"),
                "country_code": a.get("countryCode"),
                "province_code": a.get("provinceCode"),
                "phone": a.get("phone"),
            }
        if input.get("note") is not None:
            o["note"] = input["note"]
        if input.get("tags") is not None:
            o["tags"] = list(input["tags"])
        o["updated_at"] = self.tick()
        return {"order": self.g_order(o), "userErrors": []}

    def m_tags(self, info: Any, id: str, tags: list[str]) -> dict[str, Any]:
        o = self.orders.get(num(id))
        if o is None:
            return {"node": None, "userErrors": [self._err("Resource does not exist", ["id"])]}
        for t in tags:
            if t not in o["tags"]:
                o["tags"].append(t)
        o["updated_at"] = self.tick()
        return {"node": self.g_order(o), "userErrors": []}

    def m_return(self, info: Any, returnInput: dict[str, Any]) -> dict[str, Any]:
        o = self.orders.get(num(returnInput["orderId"]))
        if o is None:
            return {
                "return": None,
                "userErrors": [self._err("Order does not exist", ["orderId"], "NOT_FOUND")],
            }
        flis = {fl["id"]: fl for f in o["fulfillments"] for fl in f["lines"]}
        lines = []
        for x in returnInput["returnLineItems"]:
            fid = num(x["fulfillmentLineItemId"])
            if fid not in flis or x["quantity"] > flis[fid]["quantity"]:
                return {
                    "return": None,
                    "userErrors": [
                        self._err("Fulfillment line item quantity is invalid", ["returnLineItems"], "INVALID")
                    ],
                }
            lines.append(
                {
                    "id": self.next_id(),
                    "fli": fid,
                    "quantity": int(x["quantity"]),
                    "reason": x.get("returnReason") or "UNKNOWN",
                }
            )
        rt = {
            "id": self.next_id(),
            "name": f"{o['name']}-R{len(o['returns']) + 1}",
            "status": "OPEN",
            "lines": lines,
        }
        o["returns"].append(rt)
        o["updated_at"] = self.tick()
        node = next(
            r
            for r in self.g_order(o)["returns"](None, first=50)["nodes"]
            if r["id"] == gid("Return", rt["id"])
        )
        return {"return": node, "userErrors": []}

    def m_invoice(self, info: Any, id: str, email: dict[str, Any] | None = None) -> dict[str, Any]:
        o = self.orders.get(num(id))
        if o is None:
            return {
                "order": None,
                "userErrors": [self._err("Order does not exist", ["id"], "ORDER_NOT_FOUND")],
            }
        if not o["email"]:
            return {
                "order": None,
                "userErrors": [
                    self._err("Order has no email address", ["email"], "ORDER_INVOICE_SEND_UNSUCCESSFUL")
                ],
            }
        self.invoices.append(o["id"])
        return {"order": self.g_order(o), "userErrors": []}

    # -- REST shapes (webhook payloads)

    def rest_order(self, oid: int) -> dict[str, Any]:
        o = self.orders[oid]
        cur = self.currency
        c = self.customers.get(o["customer_id"]) if o["customer_id"] else None
        a = o["shipping_address"]
        return {
            "id": o["id"],
            "admin_graphql_api_id": gid("Order", o["id"]),
            "name": o["name"],
            "order_number": int(o["name"].lstrip("#")),
            "email": o["email"],
            "phone": o["phone"],
            "created_at": o["created_at"],
            "updated_at": o["updated_at"],
            "processed_at": o["created_at"],
            "cancelled_at": o["cancelled_at"],
            "cancel_reason": (o["cancel_reason"] or "").lower() or None,
            "currency": cur,
            "financial_status": o["financial"].lower(),
            "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
                o["fulfillment"]
            ),
            "subtotal_price": money(o["subtotal"]),
            "total_tax": money(o["tax"]),
            "total_price": money(o["total"]),
            "total_shipping_price_set": {
                "shop_money": {"amount": money(o["shipping"]), "currency_code": cur}
            },
            "note": o["note"],
            "tags": ", ".join(o["tags"]),
            "payment_gateway_names": ["manual"],
            "customer": {
                "id": c["id"],
                "email": c["email"],
                "phone": c["phone"],
                "first_name": c["first_name"],
                "last_name": c["last_name"],
            }
            if c
            else None,
            "shipping_address": {
                k: a.get(k)
                for k in (
                    "first_name",
                    "last_name",
                    "address1",
                    "address2",
                    "city",
                    "zip",
                    "country_code",
                    "phone",
                    "company",
                    "province_code",
                )
            }
            if a
            else None,
            "billing_address": None,
            "shipping_lines": [{"title": "Standard", "price": money(o["shipping"])}],
            "line_items": [
                {
                    "id": li["id"],
                    "variant_id": li["variant_id"],
                    "sku": li["sku"],
                    "title": li["title"],
                    "variant_title": li["variant_title"],
                    "quantity": li["quantity"],
                    "price": money(li["price"]),
                    "discount_allocations": [],
                }
                for li in o["lines"]
            ],
            "fulfillments": [self.rest_fulfillment(oid, f) for f in o["fulfillments"]],
            "refunds": [self.rest_refund(oid, r) for r in o["refunds"]],
        }

    def rest_fulfillment(self, oid: int, f: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f["id"],
            "order_id": oid,
            "status": "success",
            "created_at": f["created_at"],
            "updated_at": f["updated_at"],
            "tracking_company": f["company"],
            "tracking_number": f["number"],
            "tracking_numbers": [f["number"]],
            "tracking_url": f["url"],
            "tracking_urls": [f["url"]],
            "shipment_status": f["display"].lower(),
        }

    def rest_refund(self, oid: int, r: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": r["id"],
            "order_id": oid,
            "created_at": r["created_at"],
            "processed_at": r["created_at"],
            "note": r["note"],
            "refund_line_items": [{"line_item_id": lid, "quantity": q} for lid, q in r["lines"]],
            "transactions": [
                {
                    "kind": "refund",
                    "status": "success",
                    "amount": money(r["amount"]),
                    "currency": self.currency,
                }
            ],
            "order_adjustments": [],
        }

    def webhook(
        self,
        topic: str,
        payload: dict[str, Any],
        *,
        secret: str | None = None,
        event_id: str | None = None,
        domain: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A delivery as Shopify sends it: raw JSON body and the documented headers."""
        body = orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": b64_hmac(secret or self.api_secret, body),
            "X-Shopify-Shop-Domain": domain or self.domain,
            "X-Shopify-API-Version": "2025-01",
            "X-Shopify-Webhook-Id": f"wh-{event_id or self.next_id()}",
            "X-Shopify-Event-Id": event_id or f"ev-{self.next_id()}",
            "X-Shopify-Triggered-At": iso(self.clock),
        }
        return body, headers

    # -- HTTP

    async def graphql(self, request: Request) -> Response:
        self.faults.log(request)
        fault = self.faults.inject()
        if fault is not None:
            return fault
        if request.headers.get("x-shopify-access-token") != self.token:
            return JSONResponse(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                status_code=401,
            )
        try:
            payload = orjson.loads(await request.body())
            document = parse(payload["query"])
        except Exception as exc:
            return JSONResponse(
                {"errors": [{"message": f"Parse error: {exc}", "extensions": {"code": "PARSE_ERROR"}}]}
            )
        errors = validate(SCHEMA, document)
        if errors:
            return JSONResponse(
                {
                    "errors": [
                        {"message": e.message, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                        for e in errors
                    ]
                }
            )
        variables = payload.get("variables") or {}
        op = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        cost = requested_cost(document, op, variables)
        with self.lock:
            self.queries.append((op.name.value if op.name else "?", cost))
            self.bucket.refill()
            extensions = {
                "cost": {
                    "requestedQueryCost": cost,
                    "actualQueryCost": None,
                    "throttleStatus": self.bucket.status(),
                }
            }
            if cost > MAX_COST:
                return JSONResponse(
                    {
                        "errors": [
                            {
                                "message": f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_COST}).",
                                "extensions": {
                                    "code": "MAX_COST_EXCEEDED",
                                    "cost": cost,
                                    "maxCost": MAX_COST,
                                },
                            }
                        ],
                        "extensions": extensions,
                    }
                )
            if self.throttle_next > 0 or self.bucket.available < cost:
                if self.throttle_next > 0:
                    self.throttle_next -= 1
                    self.bucket.available = 0.0
                    extensions["cost"]["throttleStatus"] = self.bucket.status()
                return JSONResponse(
                    {
                        "errors": [
                            {
                                "message": "Throttled",
                                "extensions": {
                                    "code": "THROTTLED",
                                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                                },
                            }
                        ],
                        "extensions": extensions,
                    }
                )
            missing = self._missing_scope(op)
            if missing:
                field, scope = missing
                return JSONResponse(
                    {
                        "data": None,
                        "errors": [
                            {
                                "message": f"Access denied for {field} field. Required access: `{scope}` access scope.",
                                "extensions": {
                                    "code": "ACCESS_DENIED",
                                    "documentation": "https://shopify.dev/api/usage/access-scopes",
                                    "requiredAccess": f"`{scope}` access scope.",
                                },
                            }
                        ],
                        "extensions": extensions,
                    }
                )
            if op.name and op.name.value in ("Orders", "Customers", "Products", "Order"):
                if (failed := self.faults.count_data_request()) is not None:
                    return failed
            result = execute(
                SCHEMA,
                document,
                root_value=self.root(),
                variable_values=variables,
                operation_name=op.name.value if op.name else None,
            )
            actual = max(1, cost // 3)
            self.bucket.available -= actual
            extensions["cost"]["actualQueryCost"] = actual
            extensions["cost"]["throttleStatus"] = self.bucket.status()
            body: dict[str, Any] = {"data": result.data, "extensions": extensions}
            if result.errors:
                body["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
            return Response(orjson.dumps(body), media_type="application/json")

    def _missing_scope(self, op: OperationDefinitionNode) -> tuple[str, str] | None:
        for sel in op.selection_set.selections:
            if isinstance(sel, FieldNode):
                name = sel.name.value
                scope = READ_SCOPES_FOR.get(name) or WRITE_SCOPES_FOR.get(name)
                if (
                    scope
                    and scope not in self.scopes
                    and not (scope.startswith("read_") and scope.replace("read_", "write_") in self.scopes)
                ):
                    return name, scope
        return None

    def app(self) -> Starlette:
        return Starlette(routes=[Route(API_PATH, self.graphql, methods=["POST"])])
