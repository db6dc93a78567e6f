"""WooCommerce: the REST API v3 (``/wp-json/wc/v3/...``).

* Auth: a consumer key and secret, sent as HTTP Basic over HTTPS (default) or as ``consumer_key`` /
  ``consumer_secret`` query parameters for servers that drop the Authorization header.
* Pagination: ``page`` and ``per_page`` (max 100) with ``X-WP-Total`` / ``X-WP-TotalPages``; listings are
  sorted by id ascending, so orders created during a backfill land on later pages (no gap).
* Webhooks: ``X-WC-Webhook-Signature`` = base64 HMAC-SHA256 of the raw body with the webhook's secret;
  deduplicated on ``X-WC-Webhook-Delivery-ID``; the creation ping (form body ``webhook_id=N``) is unsigned.
* Tracking numbers: core WooCommerce has none; the WooCommerce Shipment Tracking extension's
  ``_wc_shipment_tracking_items`` order meta is read when present.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
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
    ExtShipment,
    ExtVariant,
    Ignored,
    MalformedPayload,
    MissingScope,
    NotFoundOnPlatform,
    NotSupported,
    OrderChanged,
    Page,
    PlatformRefused,
    ProductChanged,
    RefundRequest,
    Resource,
    StoreInfo,
    WebhookItem,
    WebhookRegistration,
)
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, ShipmentStatus

PER_PAGE = 100
API = "/wp-json/wc/v3"
# the topics parse_webhook understands (WooCommerce → Settings → Advanced → Webhooks shows them)
WEBHOOK_TOPICS = (
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "customer.created",
    "customer.updated",
    "product.created",
    "product.updated",
    "product.deleted",
)

# WooCommerce order status → (financial, fulfilment)
STATUS = {
    "pending": (FinancialStatus.pending, FulfillmentStatus.unfulfilled),
    "on-hold": (FinancialStatus.pending, FulfillmentStatus.unfulfilled),
    "processing": (FinancialStatus.paid, FulfillmentStatus.unfulfilled),
    "completed": (FinancialStatus.paid, FulfillmentStatus.fulfilled),
    "cancelled": (FinancialStatus.voided, FulfillmentStatus.unfulfilled),
    "refunded": (FinancialStatus.refunded, FulfillmentStatus.unfulfilled),
    "failed": (FinancialStatus.voided, FulfillmentStatus.unfulfilled),
}

AUTH_CODES = {
    "woocommerce_rest_authentication_error",
    "woocommerce_rest_authentication_missing_parameter",
    "woocommerce_rest_authentication_invalid_key",
    "rest_not_logged_in",
}


def _gmt(value: Any) -> datetime | None:
    # *_gmt fields carry no offset but are UTC
    return parse_time(value)


def _address(node: Any) -> Address | None:
    if not isinstance(node, dict) or not any(node.get(k) for k in ("address_1", "city", "last_name")):
        return None
    name = " ".join(p for p in (node.get("first_name"), node.get("last_name")) if p) or None
    return {
        "name": name,
        "company": node.get("company") or None,
        "address1": node.get("address_1") or None,
        "address2": node.get("address_2") or None,
        "city": node.get("city") or None,
        "province": node.get("state") or None,
        "zip": node.get("postcode") or None,
        "country_code": node.get("country") or None,
        "phone": node.get("phone") or None,
    }


def _tracking(node: dict[str, Any], order_id: str) -> list[ExtShipment]:
    out = []
    for meta in node.get("meta_data") or []:
        if meta.get("key") != "_wc_shipment_tracking_items" or not isinstance(meta.get("value"), list):
            continue
        for item in meta["value"]:
            number = item.get("tracking_number")
            if not number:
                continue
            shipped = item.get("date_shipped")
            out.append(
                ExtShipment(
                    external_id=str(item.get("tracking_id") or number),
                    status=ShipmentStatus.in_transit,
                    carrier=item.get("tracking_provider") or item.get("custom_tracking_provider") or None,
                    tracking_number=str(number),
                    tracking_url=item.get("custom_tracking_link") or None,
                    shipped_at=parse_time(int(shipped))
                    if str(shipped or "").isdigit()
                    else parse_time(shipped),
                    order_external_id=order_id,
                )
            )
    return out


def order_from_wc(node: dict[str, Any]) -> ExtOrder:
    try:
        order_id = str(node["id"])
        currency = str(node.get("currency") or "USD")
        status = str(node.get("status") or "pending")
        financial, fulfilment = STATUS.get(status, (FinancialStatus.pending, FulfillmentStatus.unfulfilled))
        lines = []
        subtotal = 0
        for li in node.get("line_items") or []:
            quantity = int(li.get("quantity") or 0)
            line_subtotal = to_minor(li.get("subtotal"), currency)
            subtotal += line_subtotal
            variant = li.get("variation_id") or li.get("product_id")
            lines.append(
                ExtLine(
                    external_id=str(li["id"]),
                    title=str(li.get("name") or "")[:300],
                    quantity=quantity,
                    unit_price_minor=line_subtotal // quantity if quantity else 0,
                    total_minor=to_minor(li.get("total"), currency),
                    sku=li.get("sku") or None,
                    variant_external_id=str(variant) if variant else None,
                )
            )
        refunds = [
            ExtRefund(
                external_id=str(r["id"]),
                amount_minor=abs(to_minor(r.get("total"), currency)),
                currency=currency,
                reason=r.get("reason") or None,
                order_external_id=order_id,
            )
            for r in node.get("refunds") or []
        ]
        refunded = sum(r.amount_minor for r in refunds)
        total = to_minor(node.get("total"), currency)
        if refunds and financial != FinancialStatus.refunded:
            financial = FinancialStatus.refunded if refunded >= total else FinancialStatus.partially_refunded
        billing = node.get("billing") or {}
        customer_id = node.get("customer_id") or 0
        modified = _gmt(node.get("date_modified_gmt"))
        shipping_lines = node.get("shipping_lines") or []
        return ExtOrder(
            external_id=order_id,
            number=str(node.get("number") or order_id)[:64],
            currency=currency,
            financial_status=financial,
            fulfillment_status=fulfilment,
            placed_at=_gmt(node.get("date_created_gmt")) or datetime.now(UTC),
            updated_at=modified,
            subtotal_minor=subtotal,
            total_minor=total,
            shipping_minor=to_minor(node.get("shipping_total"), currency),
            tax_minor=to_minor(node.get("total_tax"), currency),
            refunded_minor=refunded,
            customer=ExtCustomer(
                external_id=str(customer_id),
                email=billing.get("email") or None,
                phone=billing.get("phone") or None,
                name=" ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p) or None,
            )
            if customer_id
            else None,
            email=billing.get("email") or None,
            phone=billing.get("phone") or None,
            cancelled_at=modified if status == "cancelled" else None,
            cancel_reason="cancelled in WooCommerce" if status == "cancelled" else None,
            shipping_method=(shipping_lines[0].get("method_title") or None) if shipping_lines else None,
            payment_method=node.get("payment_method_title") or None,
            shipping_address=_address(node.get("shipping")),
            billing_address=_address(billing),
            note=node.get("customer_note") or None,
            lines=lines,
            shipments=_tracking(node, order_id),
            refunds=refunds,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"WooCommerce order is not in the expected shape: {exc}") from exc


def customer_from_wc(node: dict[str, Any]) -> ExtCustomer:
    try:
        billing = node.get("billing") or {}
        name = " ".join(p for p in (node.get("first_name"), node.get("last_name")) if p) or None
        return ExtCustomer(
            external_id=str(node["id"]),
            email=node.get("email") or billing.get("email") or None,
            phone=billing.get("phone") or None,
            name=name,
            country=billing.get("country") or None,
            updated_at=_gmt(node.get("date_modified_gmt")),
        )
    except (KeyError, TypeError) as exc:
        raise MalformedPayload(f"WooCommerce customer is not in the expected shape: {exc}") from exc


def _attr(attributes: list[dict[str, Any]], *names: str) -> str | None:
    for a in attributes:
        if str(a.get("name") or "").lower() in names:
            value = a.get("option")
            return str(value)[:32] if value else None
    return None


def product_from_wc(node: dict[str, Any], variations: list[dict[str, Any]], currency: str) -> ExtProduct:
    try:
        product_id = str(node["id"])
        rows = variations if node.get("type") == "variable" else [node]
        variants = []
        for v in rows:
            attributes = v.get("attributes") or [] if v is not node else []
            title = " / ".join(str(a.get("option")) for a in attributes if a.get("option")) or "Default"
            variants.append(
                ExtVariant(
                    external_id=str(v["id"]),
                    sku=str(v.get("sku") or "")[:100],
                    title=title[:200],
                    price_minor=to_minor(v.get("price") or v.get("regular_price"), currency),
                    stock=int(v.get("stock_quantity") or 0),
                    size=_attr(attributes, "size", "pa_size", "größe"),
                    color=_attr(attributes, "color", "colour", "pa_color", "farbe"),
                    backorder=v.get("backorders") in ("notify", "yes"),
                )
            )
        categories = node.get("categories") or []
        return ExtProduct(
            external_id=product_id,
            handle=str(node.get("slug") or product_id)[:200],
            title=str(node.get("name") or "")[:300],
            category=str(categories[0].get("name"))[:100] if categories else None,
            description=node.get("short_description") or node.get("description") or None,
            updated_at=_gmt(node.get("date_modified_gmt")),
            variants=variants,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"WooCommerce product is not in the expected shape: {exc}") from exc


class WooCommerceConnector(BaseConnector):
    platform = "woocommerce"
    label = "WooCommerce"
    actions = frozenset(
        {Action.cancel, Action.refund, Action.shipping_address, Action.note, Action.resend_confirmation}
    )

    def __init__(
        self,
        *,
        site_url: str,
        consumer_key: str,
        consumer_secret: str,
        webhook_secret: str | None = None,
        base_url: str | None = None,
        auth_mode: str = "basic",
        currency: str = "USD",
        http: PlatformHTTP | None = None,
        **http_options: Any,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.webhook_secret = webhook_secret or ""
        self.currency = currency
        base = (base_url or self.site_url).rstrip("/")
        require_https(base, self.label)
        auth: tuple[str, str] | None = None
        params: dict[str, str] | None = None
        if auth_mode == "query":
            params = {"consumer_key": consumer_key, "consumer_secret": consumer_secret}
        else:
            auth = (consumer_key, consumer_secret)
        self.http = http or PlatformHTTP(
            base + API, platform=self.label, auth=auth, params=params, **http_options
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- transport

    async def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        response = await self.http.request(method, path, params=params, json=json)
        if response.status_code < 400:
            return response
        body: Any = {}
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = str(body.get("code") or "") if isinstance(body, dict) else ""
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        status = response.status_code
        if status == 401 and (code in AUTH_CODES or "consumer" in message.lower() or not code):
            raise AuthRejected(f"the store rejected the consumer key or secret ({message or 'HTTP 401'})")
        if status in (401, 403) and code.startswith("woocommerce_rest_cannot_"):
            raise MissingScope(
                f"the WooCommerce API key lacks the permission for this ({message}); "
                "give it Read/Write access in WooCommerce → Settings → Advanced → REST API",
                details={"code": code},
            )
        if status == 403:
            raise MissingScope(f"WooCommerce refused access: {message or code or 'HTTP 403'}")
        if status == 404:
            if code in ("rest_no_route", "") and path == "/system_status":
                raise NotFoundOnPlatform(f"there is no WooCommerce REST API at {self.site_url}")
            raise NotFoundOnPlatform(f"WooCommerce does not know that ({message or code or 'HTTP 404'})")
        raise PlatformRefused(
            f"WooCommerce refused: {message or code or f'HTTP {status}'}", details={"code": code}
        )

    async def _list(
        self, path: str, cursor: str | None, params: dict[str, Any] | None = None
    ) -> tuple[list[Any], str | None, int | None]:
        page = int(cursor or 1)
        response = await self.call(
            "GET",
            path,
            params={"per_page": PER_PAGE, "page": page, "orderby": "id", "order": "asc", **(params or {})},
        )
        items = json_body(response, self.label)
        if not isinstance(items, list):
            raise MalformedPayload(f"WooCommerce listing {path} is not a list")
        pages = int(response.headers.get("x-wp-totalpages") or 0)
        total = response.headers.get("x-wp-total")
        more = page < pages if pages else len(items) == PER_PAGE
        return items, (str(page + 1) if more else None), int(total) if total is not None else None

    # -- connect

    async def test(self) -> StoreInfo:
        response = await self.call("GET", "/system_status")
        status = json_body(response, self.label)
        settings = (status.get("settings") or {}) if isinstance(status, dict) else {}
        environment = (status.get("environment") or {}) if isinstance(status, dict) else {}
        self.currency = str(settings.get("currency") or self.currency)
        await self.call("GET", "/orders", params={"per_page": 1})
        site = str(environment.get("site_url") or self.site_url)
        return StoreInfo(name=site.split("://")[-1], external_id=site, currency=self.currency)

    async def count(self, resource: Resource) -> int | None:
        path = {
            Resource.orders: "/orders",
            Resource.products: "/products",
            Resource.customers: "/customers",
        }.get(resource)
        if path is None:
            return 0
        response = await self.call("GET", path, params={"per_page": 1})
        total = response.headers.get("x-wp-total")
        return int(total) if total is not None else None

    # -- listing

    async def list_customers(self, cursor: str | None) -> Page[ExtCustomer]:
        items, nxt, total = await self._list("/customers", cursor, {"role": "all"})
        return Page([customer_from_wc(i) for i in items], nxt, total)

    async def list_products(self, cursor: str | None) -> Page[ExtProduct]:
        items, nxt, total = await self._list("/products", cursor)
        products = []
        for node in items:
            variations: list[dict[str, Any]] = []
            if node.get("type") == "variable":
                vcursor: str | None = "1"
                while vcursor:
                    batch, vcursor, _ = await self._list(f"/products/{node['id']}/variations", vcursor)
                    variations.extend(batch)
            products.append(product_from_wc(node, variations, self.currency))
        return Page(products, nxt, total)

    async def list_orders(
        self, cursor: str | None, *, updated_since: datetime | None = None
    ) -> Page[ExtOrder]:
        params: dict[str, Any] = {}
        if updated_since is not None:
            params = {
                "modified_after": updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "dates_are_gmt": "true",
            }
        items, nxt, total = await self._list("/orders", cursor, params)
        return Page([order_from_wc(i) for i in items], nxt, total)

    async def get_order(self, external_id: str) -> ExtOrder | None:
        try:
            response = await self.call("GET", f"/orders/{int(external_id)}")
        except NotFoundOnPlatform:
            return None
        return order_from_wc(json_body(response, self.label))

    async def get_product(self, external_id: str) -> ExtProduct | None:
        try:
            response = await self.call("GET", f"/products/{int(external_id)}")
        except NotFoundOnPlatform:
            return None
        node = json_body(response, self.label)
        variations: list[dict[str, Any]] = []
        if node.get("type") == "variable":
            vcursor: str | None = "1"
            while vcursor:
                batch, vcursor, _ = await self._list(f"/products/{node['id']}/variations", vcursor)
                variations.extend(batch)
        return product_from_wc(node, variations, self.currency)

    # -- webhooks

    @staticmethod
    def is_ping(body: bytes, headers: Mapping[str, str]) -> bool:
        """The unsigned request WooCommerce sends when a webhook is created: ``webhook_id=N``."""
        if header(headers, "X-WC-Webhook-Signature"):
            return False
        try:
            form = parse_qs(body.decode("ascii"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return False
        return list(form) == ["webhook_id"] and form["webhook_id"][0].isdigit()

    def webhook_key(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        return header(headers, "X-WC-Webhook-Delivery-ID")

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        if not self.webhook_secret:
            return False
        return signature_matches(
            hmac_sha256_base64(self.webhook_secret, body), header(headers, "X-WC-Webhook-Signature")
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookItem]:
        topic = (header(headers, "X-WC-Webhook-Topic") or "").strip().lower()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload("the webhook body is not JSON") from exc
        if not isinstance(payload, dict):
            raise MalformedPayload("the webhook body is not a JSON object")
        resource, _, event = topic.partition(".")
        if resource == "order":
            if event == "deleted":
                return [Deleted(Resource.orders, str(payload.get("id")))]
            if payload.get("status") == "trash":
                return [Deleted(Resource.orders, str(payload.get("id")))]
            return [OrderChanged(order_from_wc(payload))]
        if resource == "customer" and event in ("created", "updated"):
            return [CustomerChanged(customer_from_wc(payload))]
        if resource == "product":
            if event == "deleted":
                return [Deleted(Resource.products, str(payload.get("id")))]
            return [ProductChanged(product_from_wc(payload, [], self.currency))]
        return [Ignored(topic or "unknown")]

    async def register_webhooks(self, callback_url: str) -> WebhookRegistration:
        if not self.webhook_secret:
            raise ConnectorError(
                "a webhook secret is needed to sign WooCommerce webhooks; connect the store again"
            )
        existing: set[str] = set()
        cursor: str | None = "1"
        while cursor is not None:
            items, cursor, _ = await self._list("/webhooks", cursor)
            for hook in items:
                if (
                    isinstance(hook, dict)
                    and hook.get("delivery_url") == callback_url
                    and hook.get("status") == "active"
                ):
                    existing.add(str(hook.get("topic")))
        created: list[str] = []
        failed: dict[str, str] = {}
        for topic in WEBHOOK_TOPICS:
            if topic in existing:
                continue
            try:
                await self.call(
                    "POST",
                    "/webhooks",
                    json={
                        "name": f"storedesk {topic}",
                        "topic": topic,
                        "delivery_url": callback_url,
                        "secret": self.webhook_secret,
                        "status": "active",
                    },
                )
            except PlatformRefused as exc:
                failed[topic] = exc.message
            else:
                created.append(topic)
        return WebhookRegistration(
            callback_url,
            created=tuple(created),
            existing=tuple(t for t in WEBHOOK_TOPICS if t in existing),
            failed=failed,
        )

    # -- actions

    async def _order(self, order: ExtOrder) -> ExtOrder:
        fresh = await self.get_order(order.external_id)
        if fresh is None:
            raise NotFoundOnPlatform(f"order {order.number} no longer exists in WooCommerce")
        return fresh

    async def _create_refund(self, order: ExtOrder, request: RefundRequest) -> ExtRefund:
        body: dict[str, Any] = {
            "amount": from_minor(request.amount_minor, request.currency),
            "reason": request.reason or "",
            "api_refund": True,
            "api_restock": request.restock,
        }
        if request.lines:
            units = {line.external_id: line for line in order.lines}
            body["line_items"] = [
                {
                    "id": int(line_id),
                    "quantity": qty,
                    "refund_total": from_minor(
                        (units[line_id].total_minor * qty // units[line_id].quantity)
                        if line_id in units and units[line_id].quantity
                        else 0,
                        request.currency,
                    ),
                }
                for line_id, qty in request.lines
            ]
        response = await self.call("POST", f"/orders/{int(order.external_id)}/refunds", json=body)
        node = json_body(response, self.label)
        return ExtRefund(
            external_id=str(node["id"]),
            amount_minor=abs(to_minor(node.get("amount"), request.currency)),
            currency=request.currency,
            reason=node.get("reason") or request.reason,
            created_at=_gmt(node.get("date_created_gmt")),
            processed_at=_gmt(node.get("date_created_gmt")),
            shipping_minor=request.shipping_minor,
            lines=list(request.lines),
            order_external_id=order.external_id,
        )

    async def cancel(self, order: ExtOrder, request: CancelRequest) -> ActionOutcome:
        if not request.restock:
            raise NotSupported(
                "WooCommerce always puts the items back in stock when an order is cancelled; cancel with restock"
            )
        refund = None
        if (
            request.refund
            and order.total_minor > order.refunded_minor
            and order.financial_status
            in (
                FinancialStatus.paid,
                FinancialStatus.partially_refunded,
            )
        ):
            refund = await self._create_refund(
                order,
                RefundRequest(
                    lines=(),
                    shipping_minor=0,
                    amount_minor=order.total_minor - order.refunded_minor,
                    currency=order.currency,
                    reason=f"order cancelled ({request.reason.value})",
                    restock=False,
                ),
            )
        await self.call("PUT", f"/orders/{int(order.external_id)}", json={"status": "cancelled"})
        if request.staff_note:
            await self.call(
                "POST",
                f"/orders/{int(order.external_id)}/notes",
                json={"note": request.staff_note, "customer_note": False},
            )
        return ActionOutcome(
            f"WooCommerce cancelled order {order.number}", order=await self._order(order), refund=refund
        )

    async def refund(self, order: ExtOrder, request: RefundRequest) -> ActionOutcome:
        refund = await self._create_refund(order, request)
        return ActionOutcome(
            f"WooCommerce refunded {from_minor(request.amount_minor, request.currency)} {request.currency} "
            f"on order {order.number}",
            order=await self._order(order),
            refund=refund,
        )

    async def update_shipping_address(self, order: ExtOrder, address: Address) -> ActionOutcome:
        first, _, last = (address.get("name") or "").partition(" ")
        shipping = {
            "first_name": first,
            "last_name": last,
            "company": address.get("company") or "",
            "address_1": address.get("address1") or "",
            "address_2": address.get("address2") or "",
            "city": address.get("city") or "",
            "state": address.get("province") or "",
            "postcode": address.get("zip") or "",
            "country": address.get("country_code") or "",
            "phone": address.get("phone") or "",
        }
        await self.call("PUT", f"/orders/{int(order.external_id)}", json={"shipping": shipping})
        return ActionOutcome(
            f"WooCommerce changed the shipping address of order {order.number}",
            order=await self._order(order),
        )

    async def add_note(self, order: ExtOrder, note: str) -> ActionOutcome:
        await self.call(
            "POST", f"/orders/{int(order.external_id)}/notes", json={"note": note, "customer_note": False}
        )
        return ActionOutcome(
            f"WooCommerce added a private note to order {order.number}", order=await self._order(order)
        )

    async def add_tags(self, order: ExtOrder, tags: list[str]) -> ActionOutcome:
        raise NotSupported("WooCommerce orders have no tags; add a note instead")

    async def resend_confirmation(self, order: ExtOrder) -> ActionOutcome:
        response = await self.call("POST", f"/orders/{int(order.external_id)}/actions/send_order_details")
        body = json_body(response, self.label)
        message = body.get("message") if isinstance(body, dict) else None
        return ActionOutcome(message or f"WooCommerce sent the order details of order {order.number} again")
