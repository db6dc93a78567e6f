"""Contract tests: each connector over real HTTP against a local server that speaks the platform's
documented API (payload shapes, errors, throttling, pagination). No database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from storedesk.commerce.connectors.common import PlatformHTTP
from storedesk.commerce.connectors.ecwid import EcwidConnector
from storedesk.commerce.connectors.protocol import (
    AuthRejected,
    CancelReason,
    CancelRequest,
    MissingScope,
    NotSupported,
    OrderChanged,
    OrderRef,
    PlatformRefused,
    RateLimited,
    RefundRequest,
    Resource,
    Unreachable,
)
from storedesk.commerce.connectors.shopify import ShopifyConnector
from storedesk.commerce.connectors.woocommerce import WooCommerceConnector
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus
from tests.commerce.conftest import Served
from tests.servers import free_port

pytestmark = pytest.mark.anyio

FAST = {"backoff": 0.02, "max_retries": 3, "max_wait": 5.0}


def shopify(f: Served, **kw: object) -> ShopifyConnector:
    args = {
        "store_domain": f.shopify.domain,
        "access_token": f.shopify.token,
        "api_secret": f.shopify.api_secret,
        "base_url": f.shopify_url,
        **FAST,
    }
    args.update(kw)
    return ShopifyConnector(**args)  # type: ignore[arg-type]


def woo(f: Served, **kw: object) -> WooCommerceConnector:
    args = {
        "site_url": "https://shop.example",
        "consumer_key": f.woo.key,
        "consumer_secret": f.woo.secret,
        "webhook_secret": f.woo.webhook_secret,
        "base_url": f.woo_url,
        **FAST,
    }
    args.update(kw)
    return WooCommerceConnector(**args)  # type: ignore[arg-type]


def ecwid(f: Served, **kw: object) -> EcwidConnector:
    args = {
        "store_id": f.ecwid.store_id,
        "access_token": f.ecwid.token,
        "client_secret": f.ecwid.client_secret,
        "base_url": f.ecwid_url,
        **FAST,
    }
    args.update(kw)
    return EcwidConnector(**args)  # type: ignore[arg-type]


# --- Shopify ------------------------------------------------------------------------------------------------


async def test_shopify_connection_test_and_its_refusals(fakes: Served) -> None:
    c = shopify(fakes)
    info = await c.test()
    assert (info.name, info.external_id, info.currency) == ("Nordlys Home", "nordlys.myshopify.com", "EUR")
    await c.aclose()

    bad = shopify(fakes, access_token="shpat_wrong")
    with pytest.raises(AuthRejected) as caught:
        await bad.test()
    assert caught.value.message == "the store rejected the access token (Shopify answered 401)"
    await bad.aclose()

    fakes.shopify.scopes = ["read_products", "write_orders"]
    c = shopify(fakes)
    with pytest.raises(MissingScope) as caught:
        await c.test()
    assert caught.value.message == "the access token lacks the read_customers scope"
    await c.aclose()

    port = free_port()
    gone = shopify(fakes, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(Unreachable) as caught:
        await gone.test()
    assert caught.value.message == f"cannot reach Shopify at 127.0.0.1:{port}: the connection was refused"
    await gone.aclose()

    with pytest.raises(NotSupported) as caught:
        shopify(fakes, base_url="http://shop.example")
    assert caught.value.message.startswith("Shopify needs an https:// address")


async def test_shopify_pages_resume_from_a_cursor_and_stay_under_the_cost_limit(fakes: Served) -> None:
    fakes.shopify.reset(orders=25, customers=3, products=2)
    fakes.shopify.add_order(99, lines=14)  # more lines than the listing asks for: completed by a detail query
    c = shopify(fakes)
    first = await c.list_orders(None)
    second = await c.list_orders(first.next_cursor)
    third = await c.list_orders(second.next_cursor)
    numbers = [o.number for o in first.items + second.items + third.items]
    assert numbers == [str(1001 + i) for i in range(25)] + ["1100"]
    assert third.next_cursor is None
    assert len(third.items[-1].lines) == 14
    again = await c.list_orders(first.next_cursor)
    assert [o.number for o in again.items] == [o.number for o in second.items]
    assert max(cost for _, cost in fakes.shopify.queries) <= 1000
    assert await c.count(Resource.orders) == 26
    await c.aclose()


async def test_shopify_throttle_waits_for_the_bucket_to_refill(fakes: Served) -> None:
    fakes.shopify.reset(orders=3, maximum=1000, restore_rate=1000)
    fakes.shopify.throttle_next = 1  # the bucket is empty at the first query
    c = shopify(fakes)
    page = await c.list_orders(None)
    assert [o.number for o in page.items] == ["1001", "1002", "1003"]
    stamps = [t for t, _, _ in fakes.shopify.faults.requests]
    assert len(stamps) == 2
    # 832 points needed, 0 available, 1000 points/s: ~0.83 s
    assert 0.8 <= stamps[1] - stamps[0] < 2.0
    assert 0.8 <= c.http.waited < 1.0
    await c.aclose()


async def test_429_with_retry_after_is_honoured_and_a_long_one_handed_back(fakes: Served) -> None:
    fakes.shopify.reset(orders=1)
    fakes.shopify.faults.rate_limit = 1
    fakes.shopify.faults.retry_after = "1"
    c = shopify(fakes)
    await c.list_orders(None)
    stamps = [t for t, _, _ in fakes.shopify.faults.requests]
    assert len(stamps) == 2 and 1.0 <= stamps[1] - stamps[0] < 2.0
    fakes.shopify.faults.rate_limit = 1
    fakes.shopify.faults.retry_after = "30"
    with pytest.raises(RateLimited) as caught:
        await c.list_orders(None)
    assert caught.value.retry_after == 30.0
    await c.aclose()


async def test_shopify_refund_refusal_is_reported_in_plain_words(fakes: Served) -> None:
    fakes.shopify.reset(orders=1)
    c = shopify(fakes)
    order = (await c.list_orders(None)).items[0]
    line = order.lines[0]
    with pytest.raises(PlatformRefused) as caught:
        await c.refund(
            order,
            RefundRequest(
                lines=((line.external_id, line.quantity + 1),),
                shipping_minor=0,
                amount_minor=100,
                currency="EUR",
            ),
        )
    assert caught.value.message == "Shopify refused: Quantity cannot refund more items than were purchased"
    outcome = await c.cancel(order, CancelRequest(restock=True, refund=True, reason=CancelReason.customer))
    assert outcome.order is not None and outcome.order.cancelled_at is not None
    assert outcome.order.financial_status == FinancialStatus.refunded
    await c.aclose()


# --- signatures: no platform publishes (secret, body, signature) vectors; these are computed with Python's
# hmac here, independently of the adapters, and a fixed vector (computed with `openssl dgst -sha256 -hmac`)
# pins the encoding


def test_shopify_webhook_signature(fakes: Served) -> None:
    c = shopify(fakes, api_secret="hush")
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'
    good = base64.b64encode(hmac.new(b"hush", body, hashlib.sha256).digest()).decode()
    assert good == "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8="
    headers = {"x-shopify-hmac-sha256": good, "x-shopify-shop-domain": fakes.shopify.domain}
    assert c.verify_webhook(body, headers) is True
    assert c.verify_webhook(body + b" ", headers) is False
    assert c.verify_webhook(body, {**headers, "x-shopify-hmac-sha256": good[:-2] + "A="}) is False
    assert c.verify_webhook(body, {"x-shopify-shop-domain": fakes.shopify.domain}) is False
    # the same app secret signs every shop's deliveries: another shop's webhook is not this store's
    assert c.verify_webhook(body, {**headers, "x-shopify-shop-domain": "other.myshopify.com"}) is False
    assert shopify(fakes, api_secret="").verify_webhook(body, headers) is False


def test_woocommerce_webhook_signature_and_ping(fakes: Served) -> None:
    c = woo(fakes, webhook_secret="wc-secret")
    body = b'{"id":727,"status":"processing"}'
    good = base64.b64encode(hmac.new(b"wc-secret", body, hashlib.sha256).digest()).decode()
    assert good == "CJGy2l17vmafo5cc0gtESTEst3ie65pcrP8ExTVLjmA="
    assert c.verify_webhook(body, {"x-wc-webhook-signature": good}) is True
    assert c.verify_webhook(body, {"x-wc-webhook-signature": "nope"}) is False
    assert WooCommerceConnector.is_ping(b"webhook_id=15", {}) is True
    assert WooCommerceConnector.is_ping(b"webhook_id=15", {"x-wc-webhook-signature": "x"}) is False
    assert WooCommerceConnector.is_ping(b'{"webhook_id": 15}', {}) is False


def test_ecwid_webhook_signature_covers_event_created_and_id(fakes: Served) -> None:
    c = ecwid(fakes, client_secret="abcde123456789")
    body = b'{"eventId":"80aece08-40e8-4145-8764-6c2f0d38678","eventCreated":1234567,"storeId":1003,"entityId":103,"eventType":"order.updated","data":{"orderId":"XJ12H"}}'
    good = base64.b64encode(
        hmac.new(b"abcde123456789", b"1234567.80aece08-40e8-4145-8764-6c2f0d38678", hashlib.sha256).digest()
    ).decode()
    assert good == "lidx/4J5L2Pp4auvwGBp6DwPkpPmyVLI3oLB440X358="
    assert c.verify_webhook(body, {"x-ecwid-webhook-signature": good}) is True
    assert (
        c.verify_webhook(body.replace(b"1234567", b"1234568"), {"x-ecwid-webhook-signature": good}) is False
    )
    assert (
        c.verify_webhook(
            body.replace(b'"storeId":1003', b'"storeId":1004'), {"x-ecwid-webhook-signature": good}
        )
        is False
    )
    assert c.parse_webhook(body, {}) == [OrderRef("XJ12H")]


# --- WooCommerce --------------------------------------------------------------------------------------------


async def test_woocommerce_connection_errors_and_pagination(fakes: Served) -> None:
    fakes.woo.reset(orders=230, customers=2, products=1)
    c = woo(fakes)
    info = await c.test()
    assert (info.external_id, info.currency) == ("https://shop.example", "EUR")
    pages, cursor = [], None
    while True:
        page = await c.list_orders(cursor)
        pages.append(len(page.items))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [100, 100, 30]
    assert page.total == 230
    assert await c.get_order("999999") is None
    await c.aclose()

    bad = woo(fakes, consumer_key="ck_wrong" + "x" * 20)
    with pytest.raises(AuthRejected) as caught:
        await bad.test()
    assert caught.value.message == "the store rejected the consumer key or secret (Consumer key is invalid.)"
    await bad.aclose()

    query = woo(fakes, auth_mode="query")
    assert (await query.test()).currency == "EUR"
    await query.aclose()

    fakes.woo.permissions = "read"
    ro = woo(fakes)
    order = (await ro.list_orders(None)).items[0]
    with pytest.raises(MissingScope) as caught:
        await ro.add_note(order, "hello")
    assert caught.value.message.startswith("the WooCommerce API key lacks the permission for this")
    await ro.aclose()


async def test_woocommerce_order_mapping(fakes: Served) -> None:
    fakes.woo.reset(orders=1, customers=1, products=1)
    oid = next(iter(fakes.woo.orders))
    fakes.woo.set_status(oid, "completed")
    fakes.woo.add_tracking(oid, "JJD000390007")
    c = woo(fakes)
    order = (await c.list_orders(None)).items[0]
    assert (order.financial_status, order.fulfillment_status) == (
        FinancialStatus.paid,
        FulfillmentStatus.fulfilled,
    )
    assert [(s.carrier, s.tracking_number) for s in order.shipments] == [("DHL", "JJD000390007")]
    assert order.total_minor == order.subtotal_minor + 490
    items = c.parse_webhook(*fakes.woo.webhook("order.updated", fakes.woo.orders[oid]))
    assert isinstance(items[0], OrderChanged) and items[0].order.number == str(oid)
    await c.aclose()


# --- Ecwid --------------------------------------------------------------------------------------------------


async def test_ecwid_connection_errors_pagination_and_rate_limit(fakes: Served) -> None:
    fakes.ecwid.reset(orders=150, customers=2)
    c = ecwid(fakes)
    info = await c.test()
    assert (info.name, info.external_id, info.currency) == ("Ecwid Demo Store", "1003", "EUR")
    first = await c.list_orders(None)
    fakes.ecwid.clock = int(time.time()) + 5
    fakes.ecwid.add_order(500)  # placed during the backfill: the frozen set is not shifted by it
    fakes.ecwid.faults.rate_limit = 1
    second = await c.list_orders(first.next_cursor)
    ids = [o.external_id for o in first.items + second.items]
    assert len(ids) == 150 and len(set(ids)) == 150 and "E10500" not in ids
    assert second.next_cursor is None
    await c.aclose()

    bad = ecwid(fakes, access_token="secret_wrong")
    with pytest.raises(AuthRejected) as caught:
        await bad.test()
    assert caught.value.message == "the store rejected the access token (Ecwid: invalid API token)"
    await bad.aclose()

    fakes.ecwid.scopes.discard("read_orders")
    c = ecwid(fakes)
    with pytest.raises(MissingScope) as caught:
        await c.test()
    assert (
        caught.value.message
        == "the Ecwid access token lacks a permission: Access scope read_orders is required"
    )
    await c.aclose()


async def test_ecwid_refuses_what_its_api_cannot_do(fakes: Served) -> None:
    fakes.ecwid.reset(orders=1)
    c = ecwid(fakes)
    order = (await c.list_orders(None)).items[0]
    with pytest.raises(NotSupported) as caught:
        await c.cancel(order, CancelRequest(restock=True, refund=True, reason=CancelReason.customer))
    assert caught.value.message.startswith("Ecwid's API cannot send money back")
    with pytest.raises(NotSupported) as caught:
        await c.add_tags(order, ["vip"])
    assert caught.value.message == "Ecwid orders have no tags; add a note instead"
    outcome = await c.cancel(order, CancelRequest(restock=True, refund=False, reason=CancelReason.customer))
    assert outcome.order is not None and outcome.order.financial_status == FinancialStatus.voided
    await c.aclose()


def test_http_client_is_created_lazily() -> None:
    http = PlatformHTTP("https://example.invalid", platform="X")
    assert http._client is None
    start = time.monotonic()
    assert http.host == "example.invalid"
    assert time.monotonic() - start < 0.05
