"""A local WooCommerce REST API v3 (``/wp-json/wc/v3``): key/secret over HTTP Basic or query parameters,
``per_page``/``page`` pagination with ``X-WP-Total`` / ``X-WP-TotalPages``, WooCommerce's error bodies
(``{"code", "message", "data": {"status"}}``), order refunds, notes and the send-order-details action,
and signed webhook deliveries (``X-WC-Webhook-*``)."""

from __future__ import annotations

import base64
import itertools
import math
import threading
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.commerce.fakes.common import BASE_TS, COLORS, SIZES, Faults, b64_hmac, iso, money, person

PREFIX = "/wp-json/wc/v3"
WEBHOOK_RESOURCES = ("coupon", "customer", "order", "product")
WEBHOOK_EVENTS = ("created", "updated", "deleted", "restored")


def _gmt(ts: float) -> str:
    return iso(ts).rstrip("Z")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": {"status": status}}, status_code=status)


class WooFake:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults = Faults()
        self.reset()

    def reset(self, *, orders: int = 0, customers: int = 0, products: int = 0) -> None:
        with self.lock:
            self.faults.reset()
            self.key = "ck_" + "a" * 40
            self.secret = "cs_" + "b" * 40
            self.permissions = "read_write"
            self.webhook_secret = "woo-webhook-secret"
            self.ids = itertools.count(100)
            self.clock = BASE_TS
            self.customers: dict[int, dict[str, Any]] = {}
            self.products: dict[int, dict[str, Any]] = {}
            self.orders: dict[int, dict[str, Any]] = {}
            self.notes: list[tuple[int, str]] = []
            self.sent: list[int] = []
            self.webhooks: dict[int, dict[str, Any]] = {}
            self.refund_requests: list[tuple[int, dict[str, Any]]] = []  # (order id, request body)
            for i in range(products):
                self.add_product(i)
            for i in range(customers):
                self.add_customer(i)
            for i in range(orders):
                self.add_order(i)

    def tick(self) -> str:
        self.clock += 60
        return _gmt(self.clock)

    def add_customer(self, i: int) -> dict[str, Any]:
        first, last, email = person(i)
        cid = next(self.ids)
        rec = {
            "id": cid,
            "email": email,
            "first_name": first,
            "last_name": last,
            "role": "customer",
            "date_created_gmt": self.tick(),
            "date_modified_gmt": _gmt(self.clock),
            "billing": {
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": f"+4915199{i:05d}",
                "country": "DE",
            },
            "shipping": {},
        }
        self.customers[cid] = rec
        return rec

    def add_product(self, i: int) -> dict[str, Any]:
        pid = next(self.ids)
        variations = []
        for c in COLORS:
            for s in SIZES[:2]:
                variations.append(
                    {
                        "id": next(self.ids),
                        "sku": f"W{i}-{c[0]}{s}",
                        "price": money(1900 + i * 100),
                        "regular_price": money(1900 + i * 100),
                        "stock_quantity": 5 + i,
                        "backorders": "no",
                        "attributes": [
                            {"id": 1, "name": "Color", "option": c},
                            {"id": 2, "name": "Size", "option": s},
                        ],
                    }
                )
        rec = {
            "id": pid,
            "name": f"Woo product {i}",
            "slug": f"woo-product-{i}",
            "type": "variable",
            "short_description": f"About {i}",
            "date_modified_gmt": self.tick(),
            "categories": [{"id": 1, "name": "Home", "slug": "home"}],
            "_variations": variations,
        }
        self.products[pid] = rec
        return rec

    def add_order(self, i: int, *, status: str = "processing", lines: int = 2) -> dict[str, Any]:
        oid = next(self.ids)
        customer = list(self.customers.values())[i % len(self.customers)] if self.customers else None
        first, last, email = (
            (customer["first_name"], customer["last_name"], customer["email"]) if customer else person(i)
        )
        variations = [(p["id"], v) for p in self.products.values() for v in p["_variations"]]
        items = []
        for n in range(lines):
            pid, v = variations[(i + n) % len(variations)] if variations else (0, None)
            price = round(float(v["price"]) * 100) if v else 1500
            qty = 1 + n
            items.append(
                {
                    "id": next(self.ids),
                    "name": f"Woo item {n}",
                    "product_id": pid,
                    "variation_id": v["id"] if v else 0,
                    "quantity": qty,
                    "subtotal": money(price * qty),
                    "total": money(price * qty),
                    "sku": v["sku"] if v else "",
                    "price": price / 100,
                }
            )
        subtotal = sum(round(float(li["total"]) * 100) for li in items)
        created = self.tick()
        rec = {
            "id": oid,
            "number": str(oid),
            "status": status,
            "currency": "EUR",
            "date_created_gmt": created,
            "date_modified_gmt": created,
            "discount_total": "0.00",
            "shipping_total": "4.90",
            "total_tax": "0.00",
            "total": money(subtotal + 490),
            "customer_id": customer["id"] if customer else 0,
            "customer_note": "",
            "billing": {
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": "",
                "address_1": "Hauptstraße 1",
                "city": "Berlin",
                "postcode": "10115",
                "country": "DE",
            },
            "shipping": {
                "first_name": first,
                "last_name": last,
                "company": "",
                "address_1": f"Hauptstraße {i + 1}",
                "address_2": "",
                "city": "Berlin",
                "state": "",
                "postcode": "10115",
                "country": "DE",
                "phone": "",
            },
            "payment_method_title": "Direct bank transfer",
            "line_items": items,
            "shipping_lines": [{"id": next(self.ids), "method_title": "Flat rate", "total": "4.90"}],
            "refunds": [],
            "meta_data": [],
        }
        self.orders[oid] = rec
        return rec

    def set_status(self, oid: int, status: str) -> None:
        self.orders[oid]["status"] = status
        self.orders[oid]["date_modified_gmt"] = self.tick()

    def add_tracking(self, oid: int, number: str, provider: str = "DHL") -> None:
        self.orders[oid]["meta_data"].append(
            {
                "id": next(self.ids),
                "key": "_wc_shipment_tracking_items",
                "value": [
                    {
                        "tracking_provider": provider,
                        "tracking_number": number,
                        "date_shipped": str(int(self.clock)),
                        "tracking_id": f"t{number}",
                    }
                ],
            }
        )
        self.orders[oid]["date_modified_gmt"] = self.tick()

    def public_product(self, p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if not k.startswith("_")}

    def webhook(
        self,
        topic: str,
        payload: dict[str, Any],
        *,
        secret: str | None = None,
        delivery_id: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(payload)
        resource, _, event = topic.partition(".")
        return body, {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": "https://shop.example/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": b64_hmac(secret or self.webhook_secret, body),
            "X-WC-Webhook-ID": "7",
            "X-WC-Webhook-Delivery-ID": delivery_id or str(next(self.ids)),
        }

    # -- HTTP

    def _auth(self, request: Request) -> Response | None:
        key = secret = None
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                pass
        else:
            key, secret = (
                request.query_params.get("consumer_key"),
                request.query_params.get("consumer_secret"),
            )
        if key is None:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is missing.")
        if key != self.key:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if secret != self.secret:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        if request.method != "GET" and self.permissions == "read":
            return _error(
                401, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
            )
        return None

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            per_page = int(request.query_params.get("per_page", 10))
            page = int(request.query_params.get("page", 1))
        except ValueError:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        if per_page > 100:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        if request.query_params.get("orderby", "date") == "id":
            items = sorted(items, key=lambda x: x["id"], reverse=request.query_params.get("order") != "asc")
        total = len(items)
        pages = math.ceil(total / per_page) if total else 0
        chunk = items[(page - 1) * per_page : page * per_page]
        return Response(
            orjson.dumps(chunk),
            media_type="application/json",
            headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)},
        )

    async def handle(self, request: Request) -> Response:
        self.faults.log(request)
        fault = self.faults.inject()
        if fault is not None:
            return fault
        denied = self._auth(request)
        if denied is not None:
            return denied
        path = request.url.path.removeprefix(PREFIX)
        parts = [p for p in path.split("/") if p]
        with self.lock:
            if parts == ["system_status"]:
                return JSONResponse(
                    {
                        "environment": {"site_url": "https://shop.example", "version": "9.8.0"},
                        "settings": {"currency": "EUR"},
                    }
                )
            counting = request.query_params.get("per_page") == "1"  # a count, not a page
            if parts == ["webhooks"] and request.method == "GET":
                return self._page(request, list(self.webhooks.values()))
            if parts == ["webhooks"] and request.method == "POST":
                return self._create_webhook(orjson.loads(await request.body()))
            if parts == ["customers"]:
                if not counting:
                    if (failed := self.faults.count_data_request()) is not None:
                        return failed
                return self._page(request, list(self.customers.values()))
            if parts == ["products"]:
                if not counting:
                    if (failed := self.faults.count_data_request()) is not None:
                        return failed
                return self._page(request, [self.public_product(p) for p in self.products.values()])
            if len(parts) == 3 and parts[0] == "products" and parts[2] == "variations":
                p = self.products.get(int(parts[1]))
                if p is None:
                    return _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                return self._page(request, p["_variations"])
            if len(parts) == 2 and parts[0] == "products":
                p = self.products.get(int(parts[1]))
                return (
                    JSONResponse(self.public_product(p))
                    if p
                    else _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                )
            if parts == ["orders"]:
                if not counting:
                    if (failed := self.faults.count_data_request()) is not None:
                        return failed
                items = list(self.orders.values())
                after = request.query_params.get("modified_after")
                if after:
                    items = [o for o in items if o["date_modified_gmt"] > after]
                return self._page(request, items)
            if len(parts) >= 2 and parts[0] == "orders":
                o = self.orders.get(int(parts[1]))
                if o is None:
                    return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
                if len(parts) == 2 and request.method == "GET":
                    return JSONResponse(o)
                if len(parts) == 2 and request.method == "PUT":
                    return self._update(o, orjson.loads(await request.body()))
                if parts[2:] == ["refunds"] and request.method == "POST":
                    body = orjson.loads(await request.body())
                    self.refund_requests.append((o["id"], body))
                    return self._refund(o, body)
                if parts[2:] == ["notes"] and request.method == "POST":
                    body = orjson.loads(await request.body())
                    if not body.get("note"):
                        return _error(
                            400, "woocommerce_rest_invalid_order_note", "Order note content is required."
                        )
                    self.notes.append((o["id"], body["note"]))
                    return JSONResponse(
                        {
                            "id": next(self.ids),
                            "note": body["note"],
                            "customer_note": bool(body.get("customer_note")),
                        },
                        status_code=201,
                    )
                if parts[2:] == ["actions", "send_order_details"] and request.method == "POST":
                    email = o["billing"].get("email")
                    if not email:
                        return _error(
                            400, "woocommerce_rest_missing_email", "Order does not have an email address."
                        )
                    self.sent.append(o["id"])
                    return JSONResponse({"message": f"Order details sent to {email}, via REST API."})
            return _error(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _create_webhook(self, body: dict[str, Any]) -> Response:
        # as WooCommerce's REST webhooks controller: a known topic and an http(s) delivery URL
        topic = str(body.get("topic") or "")
        resource, _, event = topic.partition(".")
        if resource not in WEBHOOK_RESOURCES or event not in WEBHOOK_EVENTS:
            return _error(
                400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid."
            )
        url = str(body.get("delivery_url") or "")
        if not url.startswith(("http://", "https://")):
            return _error(
                400,
                "woocommerce_rest_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            )
        hook = {
            "id": next(self.ids),
            "name": str(body.get("name") or f"Webhook created on {_gmt(self.clock)}"),
            "status": str(body.get("status") or "active"),
            "topic": topic,
            "resource": resource,
            "event": event,
            "hooks": [f"woocommerce_{resource}_{event}"],
            "delivery_url": url,
            "date_created": _gmt(self.clock),
            "date_created_gmt": _gmt(self.clock),
            "_secret": body.get("secret"),
        }
        self.webhooks[hook["id"]] = hook
        return JSONResponse({k: v for k, v in hook.items() if not k.startswith("_")}, status_code=201)

    def _update(self, o: dict[str, Any], body: dict[str, Any]) -> Response:
        if "status" in body:
            if body["status"] not in (
                "pending",
                "processing",
                "on-hold",
                "completed",
                "cancelled",
                "refunded",
                "failed",
            ):
                return _error(400, "rest_invalid_param", "Invalid parameter(s): status")
            o["status"] = body["status"]
        if "shipping" in body:
            if o["status"] == "completed":
                return _error(400, "woocommerce_rest_cannot_edit", "Completed orders cannot be edited.")
            o["shipping"].update(body["shipping"])
        o["date_modified_gmt"] = self.tick()
        return JSONResponse(o)

    def _refund(self, o: dict[str, Any], body: dict[str, Any]) -> Response:
        amount = round(float(body.get("amount") or 0) * 100)
        refunded = sum(-round(float(r["total"]) * 100) for r in o["refunds"])
        total = round(float(o["total"]) * 100)
        if amount <= 0:
            return _error(
                400, "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero."
            )
        if amount > total - refunded:
            return _error(400, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        rid = next(self.ids)
        created = self.tick()
        o["refunds"].append({"id": rid, "reason": body.get("reason") or "", "total": "-" + money(amount)})
        o["date_modified_gmt"] = created
        if refunded + amount >= total:
            o["status"] = "refunded"
        return JSONResponse(
            {
                "id": rid,
                "date_created_gmt": created,
                "amount": money(amount),
                "reason": body.get("reason") or "",
                "refunded_payment": bool(body.get("api_refund", True)),
                "line_items": [
                    {"id": next(self.ids), "quantity": -int(li["quantity"])}
                    for li in body.get("line_items") or []
                ],
            },
            status_code=201,
        )

    def app(self) -> Starlette:
        return Starlette(routes=[Route(PREFIX + "/{path:path}", self.handle, methods=["GET", "POST", "PUT"])])
