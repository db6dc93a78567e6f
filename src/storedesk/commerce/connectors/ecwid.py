"""Ecwid by Lightspeed: the REST API ``https://app.ecwid.com/api/v3/{storeId}/...``.

* Auth: ``Authorization: Bearer secret_…`` (the store's access token).
* Pagination: ``offset`` / ``limit`` (max 100) with ``total`` in the answer. An order backfill freezes its
  set with ``createdTo`` = the moment it started (kept in the cursor), so orders placed meanwhile cannot
  shift the pages; they arrive by webhook.
* Errors: ``{"errorMessage", "errorCode"}`` — 403 ``INVALID_API_TOKEN`` / ``INSUFFICIENT_APP_SCOPE``, 404
  ``STORE_NOT_FOUND`` / ``ORDER_NOT_FOUND``, 429 with ``Retry-After`` (600 requests a minute per token).
* Webhooks carry ids only (``entityId``, ``data.orderId``): the job fetches the order, then applies it.
  ``X-Ecwid-Webhook-Signature`` = base64 HMAC-SHA256 of ``"{eventCreated}.{eventId}"`` with the app's
  ``client_secret``; ``eventId`` is the dedupe key.
* Ecwid's API cannot send money back (refunds happen in the payment provider), has no order tags, no
  RMA and no "resend confirmation": those actions answer in plain words that Ecwid cannot do them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from storedesk.commerce.connectors.common import (
    BaseConnector,
    PlatformHTTP,
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
    OrderRef,
    Page,
    PlatformRefused,
    ProductRef,
    Resource,
    StoreInfo,
    WebhookItem,
    WebhookRegistration,
)
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, ShipmentStatus

LIMIT = 100
DEFAULT_BASE = "https://app.ecwid.com"

FINANCIAL = {
    "AWAITING_PAYMENT": FinancialStatus.pending,
    "INCOMPLETE": FinancialStatus.pending,
    "PAID": FinancialStatus.paid,
    "PARTIALLY_REFUNDED": FinancialStatus.partially_refunded,
    "REFUNDED": FinancialStatus.refunded,
    "CANCELLED": FinancialStatus.voided,
}

FULFILMENT = {
    "SHIPPED": (FulfillmentStatus.fulfilled, ShipmentStatus.in_transit),
    "OUT_FOR_DELIVERY": (FulfillmentStatus.fulfilled, ShipmentStatus.out_for_delivery),
    "DELIVERED": (FulfillmentStatus.fulfilled, ShipmentStatus.delivered),
    "RETURNED": (FulfillmentStatus.fulfilled, ShipmentStatus.returned_to_sender),
    "READY_FOR_PICKUP": (FulfillmentStatus.fulfilled, ShipmentStatus.in_transit),
}


def _person(node: Any) -> Address | None:
    if not isinstance(node, dict) or not (node.get("street") or node.get("city")):
        return None
    return {
        "name": node.get("name") or None,
        "company": node.get("companyName") or None,
        "address1": node.get("street") or None,
        "address2": None,
        "city": node.get("city") or None,
        "province": node.get("stateOrProvinceCode") or None,
        "zip": node.get("postalCode") or None,
        "country_code": node.get("countryCode") or None,
        "phone": node.get("phone") or None,
    }


def order_from_ecwid(node: dict[str, Any], currency: str) -> ExtOrder:
    try:
        order_id = str(node["id"])
        payment = str(node.get("paymentStatus") or "AWAITING_PAYMENT").upper()
        fulfilment_raw = str(node.get("fulfillmentStatus") or "AWAITING_PROCESSING").upper()
        fulfilment, shipment_status = FULFILMENT.get(fulfilment_raw, (FulfillmentStatus.unfulfilled, None))
        lines = []
        for item in node.get("items") or []:
            quantity = int(item.get("quantity") or 0)
            unit = to_minor(item.get("price"), currency)
            options = item.get("selectedOptions") or []
            lines.append(
                ExtLine(
                    external_id=str(item["id"]),
                    title=str(item.get("name") or "")[:300],
                    quantity=quantity,
                    unit_price_minor=unit,
                    total_minor=unit * quantity,
                    sku=item.get("sku") or None,
                    variant_title=" / ".join(str(o.get("value")) for o in options if o.get("value")) or None,
                    variant_external_id=str(item.get("combinationId") or item.get("productId") or "") or None,
                )
            )
        refunds = []
        for i, r in enumerate(node.get("refunds") or []):
            when = parse_time(r.get("date"))
            refunds.append(
                ExtRefund(
                    external_id=f"{order_id}-{int(when.timestamp()) if when else i}-{i}",
                    amount_minor=to_minor(r.get("amount"), currency),
                    currency=currency,
                    reason=r.get("reason") or None,
                    created_at=when,
                    processed_at=when,
                    order_external_id=order_id,
                )
            )
        refunded = to_minor(node.get("refundedAmount"), currency) or sum(r.amount_minor for r in refunds)
        shipments = []
        tracking = node.get("trackingNumber")
        if tracking or shipment_status is not None:
            shipping_option = node.get("shippingOption") or {}
            shipments.append(
                ExtShipment(
                    external_id=f"{order_id}-shipment",
                    status=shipment_status or ShipmentStatus.label_created,
                    carrier=shipping_option.get("shippingCarrierName")
                    or shipping_option.get("shippingMethodName"),
                    tracking_number=str(tracking) if tracking else None,
                    updated_at=parse_time(node.get("updateDate")),
                    order_external_id=order_id,
                )
            )
        updated = parse_time(node.get("updateTimestamp")) or parse_time(node.get("updateDate"))
        shipping_option = node.get("shippingOption") or {}
        customer_id = node.get("customerId")
        email = node.get("email") or None
        person = node.get("billingPerson") or node.get("shippingPerson") or {}
        return ExtOrder(
            external_id=order_id,
            number=str(node.get("id") or node.get("orderNumber"))[:64],
            currency=currency,
            financial_status=FINANCIAL.get(payment, FinancialStatus.pending),
            fulfillment_status=fulfilment,
            placed_at=parse_time(node.get("createTimestamp"))
            or parse_time(node.get("createDate"))
            or datetime.now(UTC),
            updated_at=updated,
            subtotal_minor=to_minor(node.get("subtotal"), currency),
            total_minor=to_minor(node.get("total"), currency),
            shipping_minor=to_minor(shipping_option.get("shippingRate"), currency),
            tax_minor=to_minor(node.get("tax"), currency),
            refunded_minor=refunded,
            customer=ExtCustomer(
                external_id=str(customer_id),
                email=email,
                phone=person.get("phone") or None,
                name=person.get("name"),
            )
            if customer_id
            else None,
            email=email,
            phone=person.get("phone") or None,
            cancelled_at=updated if payment == "CANCELLED" else None,
            cancel_reason="cancelled in Ecwid" if payment == "CANCELLED" else None,
            shipping_method=shipping_option.get("shippingMethodName") or None,
            payment_method=node.get("paymentMethod") or None,
            shipping_address=_person(node.get("shippingPerson")),
            billing_address=_person(node.get("billingPerson")),
            note=node.get("privateAdminNotes") or node.get("orderComments") or None,
            lines=lines,
            shipments=shipments,
            refunds=refunds,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedPayload(f"Ecwid order is not in the expected shape: {exc}") from exc


def product_from_ecwid(node: dict[str, Any], currency: str) -> ExtProduct:
    try:
        product_id = str(node["id"])
        combinations = node.get("combinations") or []
        variants = []
        rows = combinations or [node]
        for c in rows:
            options = c.get("options") or [] if c is not node else []
            size = next(
                (str(o.get("value"))[:32] for o in options if str(o.get("name", "")).lower() == "size"), None
            )
            color = next(
                (
                    str(o.get("value"))[:32]
                    for o in options
                    if str(o.get("name", "")).lower() in ("color", "colour")
                ),
                None,
            )
            unlimited = bool(c.get("unlimited", node.get("unlimited")))
            variants.append(
                ExtVariant(
                    external_id=str(c["id"]) if c is not node else product_id,
                    sku=str(c.get("sku") or "")[:100],
                    title=(" / ".join(str(o.get("value")) for o in options if o.get("value")) or "Default")[
                        :200
                    ],
                    price_minor=to_minor(c.get("price", node.get("price")), currency),
                    stock=int(c.get("quantity") or 0),
                    size=size,
                    color=color,
                    backorder=unlimited,
                )
            )
        slug = node.get("autogeneratedSlug") or node.get("customSlug") or product_id
        return ExtProduct(
            external_id=product_id,
            handle=str(slug)[:200],
            title=str(node.get("name") or "")[:300],
            description=node.get("description") or None,
            updated_at=parse_time(node.get("updateTimestamp")),
            variants=variants,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"Ecwid product is not in the expected shape: {exc}") from exc


def customer_from_ecwid(node: dict[str, Any]) -> ExtCustomer:
    billing = node.get("billingPerson") or {}
    return ExtCustomer(
        external_id=str(node["id"]),
        email=node.get("email") or None,
        phone=billing.get("phone") or None,
        name=billing.get("name") or node.get("name") or None,
        country=billing.get("countryCode") or None,
        updated_at=parse_time(node.get("updated")),
    )


class EcwidConnector(BaseConnector):
    platform = "ecwid"
    label = "Ecwid"

    async def register_webhooks(self, callback_url: str) -> WebhookRegistration:
        raise NotSupported(
            "Ecwid sends webhooks to the address in your Ecwid app's settings (Webhook URL), not one set "
            f"through the API: enter {callback_url} there, with the events order.* and product.*"
        )

    actions = frozenset({Action.cancel, Action.shipping_address, Action.note})

    def __init__(
        self,
        *,
        store_id: str,
        access_token: str,
        client_secret: str | None = None,
        base_url: str | None = None,
        currency: str = "USD",
        http: PlatformHTTP | None = None,
        **http_options: Any,
    ) -> None:
        self.store_id = str(store_id).strip()
        self.client_secret = client_secret or ""
        self.currency = currency
        base = (base_url or DEFAULT_BASE).rstrip("/")
        require_https(base, self.label)
        self.http = http or PlatformHTTP(
            f"{base}/api/v3/{self.store_id}",
            platform=self.label,
            headers={"Authorization": f"Bearer {access_token}"},
            **http_options,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        response = await self.http.request(method, path, params=params, json=json)
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = str(body.get("errorCode") or "") if isinstance(body, dict) else ""
        message = str(body.get("errorMessage") or "") if isinstance(body, dict) else ""
        status = response.status_code
        if code == "INVALID_API_TOKEN" or status == 401:
            raise AuthRejected("the store rejected the access token (Ecwid: invalid API token)")
        if code == "INSUFFICIENT_APP_SCOPE" or status == 403:
            raise MissingScope(f"the Ecwid access token lacks a permission: {message or code or 'HTTP 403'}")
        if status == 404:
            if code == "STORE_NOT_FOUND":
                raise NotFoundOnPlatform(f"Ecwid has no store {self.store_id}")
            raise NotFoundOnPlatform(f"Ecwid does not know that ({message or code or 'HTTP 404'})")
        if status == 402:
            raise PlatformRefused(
                f"Ecwid refused: {message or 'the store is suspended or on a plan without API'}"
            )
        raise PlatformRefused(f"Ecwid refused: {message or code or f'HTTP {status}'}", details={"code": code})

    # -- connect

    async def test(self) -> StoreInfo:
        body = json_body(await self.call("GET", "/profile"), self.label)
        general = body.get("generalInfo") or {}
        settings = body.get("settings") or {}
        formats = body.get("formatsAndUnits") or {}
        self.currency = str(formats.get("currency") or self.currency)
        await self.call("GET", "/orders", params={"limit": 1})
        return StoreInfo(
            name=str(
                settings.get("storeName") or (body.get("account") or {}).get("accountName") or self.store_id
            ),
            external_id=str(general.get("storeId") or self.store_id),
            currency=self.currency,
        )

    async def count(self, resource: Resource) -> int | None:
        path = {
            Resource.orders: "/orders",
            Resource.products: "/products",
            Resource.customers: "/customers",
        }.get(resource)
        if path is None:
            return 0
        body = json_body(await self.call("GET", path, params={"limit": 1}), self.label)
        return int(body["total"]) if isinstance(body, dict) and body.get("total") is not None else None

    async def _search(
        self, path: str, offset: int, params: dict[str, Any] | None = None
    ) -> tuple[list[Any], int | None, int | None]:
        body = json_body(
            await self.call("GET", path, params={"offset": offset, "limit": LIMIT, **(params or {})}),
            self.label,
        )
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise MalformedPayload(f"Ecwid search {path} is not in the expected shape")
        items = body["items"]
        total = int(body.get("total") or 0)
        nxt = offset + len(items)
        return items, (nxt if items and nxt < total else None), total

    # -- listing

    async def list_customers(self, cursor: str | None) -> Page[ExtCustomer]:
        items, nxt, total = await self._search("/customers", int(cursor or 0))
        return Page([customer_from_ecwid(i) for i in items], str(nxt) if nxt is not None else None, total)

    async def list_products(self, cursor: str | None) -> Page[ExtProduct]:
        items, nxt, total = await self._search("/products", int(cursor or 0))
        return Page(
            [product_from_ecwid(i, self.currency) for i in items],
            str(nxt) if nxt is not None else None,
            total,
        )

    async def list_orders(
        self, cursor: str | None, *, updated_since: datetime | None = None
    ) -> Page[ExtOrder]:
        offset, frozen = 0, int(time.time())
        if cursor:
            head, _, tail = cursor.partition(":")
            offset, frozen = int(head), int(tail or frozen)
        params: dict[str, Any] = {"createdTo": frozen}
        if updated_since is not None:
            params["updatedFrom"] = int(updated_since.timestamp())
        items, nxt, total = await self._search("/orders", offset, params)
        return Page(
            [order_from_ecwid(i, self.currency) for i in items],
            f"{nxt}:{frozen}" if nxt is not None else None,
            total,
        )

    async def get_order(self, external_id: str) -> ExtOrder | None:
        try:
            body = json_body(await self.call("GET", f"/orders/{external_id}"), self.label)
        except NotFoundOnPlatform:
            return None
        return order_from_ecwid(body, self.currency)

    async def get_product(self, external_id: str) -> ExtProduct | None:
        try:
            body = json_body(await self.call("GET", f"/products/{external_id}"), self.label)
        except NotFoundOnPlatform:
            return None
        return product_from_ecwid(body, self.currency)

    # -- webhooks

    def webhook_key(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        return str(payload.get("eventId")) if isinstance(payload, dict) and payload.get("eventId") else None

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        if not self.client_secret:
            return False
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(payload, dict) or "eventCreated" not in payload or "eventId" not in payload:
            return False
        if str(payload.get("storeId")) != self.store_id:
            return False
        message = f"{payload['eventCreated']}.{payload['eventId']}".encode()
        return signature_matches(
            hmac_sha256_base64(self.client_secret, message), header(headers, "X-Ecwid-Webhook-Signature")
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookItem]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload("the webhook body is not JSON") from exc
        if not isinstance(payload, dict) or "eventType" not in payload:
            raise MalformedPayload("the webhook body has no eventType")
        event = str(payload["eventType"])
        data = payload.get("data") or {}
        entity = payload.get("entityId")
        if event in ("order.created", "order.updated"):
            order_id = data.get("orderId") or entity
            if order_id is None:
                raise MalformedPayload(f"{event} carries no order id")
            return [OrderRef(str(order_id))]
        if event == "order.deleted":
            return [Deleted(Resource.orders, str(data.get("orderId") or entity))]
        if event in ("product.created", "product.updated"):
            return [ProductRef(str(entity))]
        if event == "product.deleted":
            return [Deleted(Resource.products, str(entity))]
        return [Ignored(event)]

    # -- actions

    async def _order(self, order: ExtOrder) -> ExtOrder:
        fresh = await self.get_order(order.external_id)
        if fresh is None:
            raise NotFoundOnPlatform(f"order {order.number} no longer exists in Ecwid")
        return fresh

    async def cancel(self, order: ExtOrder, request: CancelRequest) -> ActionOutcome:
        if request.refund and order.financial_status in (
            FinancialStatus.paid,
            FinancialStatus.partially_refunded,
        ):
            raise NotSupported(
                "Ecwid's API cannot send money back; refund the payment in your payment provider, "
                "then cancel without refund"
            )
        await self.call(
            "PUT",
            f"/orders/{order.external_id}",
            json={"paymentStatus": "CANCELLED", "fulfillmentStatus": "WILL_NOT_DELIVER"},
        )
        return ActionOutcome(f"Ecwid cancelled order {order.number}", order=await self._order(order))

    async def update_shipping_address(self, order: ExtOrder, address: Address) -> ActionOutcome:
        person = {
            "name": address.get("name") or "",
            "companyName": address.get("company") or "",
            "street": "\n".join(p for p in (address.get("address1"), address.get("address2")) if p),
            "city": address.get("city") or "",
            "stateOrProvinceCode": address.get("province") or "",
            "postalCode": address.get("zip") or "",
            "countryCode": address.get("country_code") or "",
            "phone": address.get("phone") or "",
        }
        await self.call("PUT", f"/orders/{order.external_id}", json={"shippingPerson": person})
        return ActionOutcome(
            f"Ecwid changed the shipping address of order {order.number}", order=await self._order(order)
        )

    async def add_note(self, order: ExtOrder, note: str) -> ActionOutcome:
        current = await self._order(order)
        combined = f"{current.note}\n\n{note}" if current.note else note
        await self.call("PUT", f"/orders/{order.external_id}", json={"privateAdminNotes": combined})
        return ActionOutcome(f"Ecwid added the note to order {order.number}", order=await self._order(order))

    async def add_tags(self, order: ExtOrder, tags: list[str]) -> ActionOutcome:
        raise NotSupported("Ecwid orders have no tags; add a note instead")
