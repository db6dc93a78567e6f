"""Platform webhooks: verified on raw bytes, stored once, applied in a job in any order; refused when the
signature is wrong (nothing stored); malformed bodies kept for inspection; privacy requests honoured;
reconciliation catches what a webhook missed."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from storedesk.commerce import sync
from storedesk.db.session import Database
from tests.commerce.conftest import Served, connect, ecwid_body, rows, scalar, shopify_body, woo_body
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio

# logic that does not depend on the database: run on SQLite only to keep the suite fast
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def _post(
    api: httpx.AsyncClient, platform: str, store_id: int, delivery: tuple[bytes, dict[str, str]]
) -> httpx.Response:
    body, headers = delivery
    return await api.post(f"/webhooks/{platform}/{store_id}", content=body, headers=headers)


def _json(value: Any) -> Any:
    return value if isinstance(value, dict | list) else json.loads(value)


async def test_shopify_webhooks_apply_once_in_any_order(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=1, customers=1, products=1)
    store = await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    oid = next(iter(fakes.shopify.orders))
    # v1: paid and tagged; v2 (later): fulfilled
    fakes.shopify.orders[oid]["tags"] = ["v1"]
    fakes.shopify.orders[oid]["updated_at"] = fakes.shopify.tick()
    v1 = fakes.shopify.webhook("orders/updated", fakes.shopify.rest_order(oid), event_id="ev-1")
    fakes.shopify.fulfil(oid, status="DELIVERED")
    fakes.shopify.orders[oid]["tags"] = ["v2"]
    v2 = fakes.shopify.webhook("orders/updated", fakes.shopify.rest_order(oid), event_id="ev-2")

    r = await _post(api, "shopify", store["id"], v2)
    assert (r.status_code, r.json()) == (200, {"status": "accepted"})
    r = await _post(api, "shopify", store["id"], v1)
    assert (r.status_code, r.json()) == (200, {"status": "accepted"})
    r = await _post(api, "shopify", store["id"], v2)  # Shopify retries: the same event id
    assert (r.status_code, r.json()) == (200, {"status": "duplicate"})
    assert await scalar(db, "SELECT count(*) FROM inbound_events WHERE source = 'shopify'") == 2
    assert await run_jobs() == 2
    order = await rows(db, "SELECT tags, fulfillment_status FROM orders WHERE external_id = :e", e=str(oid))
    assert [(_json(t), f) for t, f in order] == [(["v2"], "fulfilled")]  # the older update did not win
    assert await rows(db, "SELECT status, tracking_number FROM shipments") == [
        ("delivered", fakes.shopify.orders[oid]["fulfillments"][0]["number"])
    ]
    statuses = await rows(db, "SELECT dedupe_key, status FROM inbound_events ORDER BY dedupe_key")
    assert statuses == [(f"{store['id']}:ev-1", "processed"), (f"{store['id']}:ev-2", "processed")]
    synced = await rows(db, "SELECT data FROM events WHERE type = 'order.synced' ORDER BY id")
    # applied in arrival order on SQLite (v1 is then older than the mirror and skipped); PostgreSQL workers
    # may apply v1 first, which was then newer than the mirror — either way the last word is v2's
    changes = [(_json(d)["change"], _json(d)["fulfillment_status"]) for (d,) in synced]
    assert changes in ([("updated", "fulfilled")], [("updated", "unfulfilled"), ("updated", "fulfilled")])


@SQLITE_ONLY
async def test_a_wrong_signature_is_refused_and_nothing_is_stored(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.woo.reset(orders=1)
    x = await connect(api, shop_a, woo_body(fakes))
    y_body = woo_body(fakes)
    y_body["credentials"]["webhook_secret"] = "the-secret-of-store-y"
    y = await connect(api, shop_b, y_body)
    oid = next(iter(fakes.woo.orders))
    signed_by_y = fakes.woo.webhook("order.updated", fakes.woo.orders[oid], secret="the-secret-of-store-y")
    jobs = await scalar(db, "SELECT count(*) FROM jobs")
    r = await _post(api, "woocommerce", x["id"], signed_by_y)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")
    body, headers = fakes.woo.webhook("order.updated", fakes.woo.orders[oid])
    r = await _post(api, "woocommerce", x["id"], (body + b" ", headers))  # tampered after signing
    assert r.status_code == 401
    r = await _post(
        api, "woocommerce", x["id"], (body, {k: v for k, v in headers.items() if "Signature" not in k})
    )
    assert r.status_code == 401
    r = await _post(api, "shopify", x["id"], (body, headers))  # a WooCommerce store is not a Shopify store
    assert r.status_code == 404
    r = await _post(api, "woocommerce", 999999, (body, headers))
    assert r.status_code == 404
    assert await scalar(db, "SELECT count(*) FROM inbound_events") == 0
    assert await scalar(db, "SELECT count(*) FROM jobs") == jobs
    # Y's own delivery is fine
    r = await _post(api, "woocommerce", y["id"], signed_by_y)
    assert r.status_code == 200
    # the creation ping is unsigned and answered 200; nothing to store
    r = await api.post(
        f"/webhooks/woocommerce/{x['id']}",
        content=b"webhook_id=42",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (r.status_code, r.json()) == (200, {"status": "ping"})
    assert await scalar(db, "SELECT count(*) FROM inbound_events") == 1


@SQLITE_ONLY
async def test_shopify_domain_must_match_even_with_the_shared_app_secret(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served
) -> None:
    fakes.shopify.reset(orders=1)
    store = await connect(api, shop_a, shopify_body(fakes, backfill=False))
    oid = next(iter(fakes.shopify.orders))
    other_shop = fakes.shopify.webhook(
        "orders/updated", fakes.shopify.rest_order(oid), domain="intruder.myshopify.com"
    )
    r = await _post(api, "shopify", store["id"], other_shop)
    assert r.status_code == 401
    assert await scalar(db, "SELECT count(*) FROM inbound_events") == 0


async def test_malformed_deliveries_are_kept_as_failed_and_answered(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    store = await connect(api, shop_a, shopify_body(fakes, backfill=False))
    secret = fakes.shopify.api_secret
    from tests.commerce.fakes.common import b64_hmac

    headers = {
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Shop-Domain": fakes.shopify.domain,
        "X-Shopify-Event-Id": "broken-1",
    }
    not_json = b"{this is not json"
    r = await api.post(
        f"/webhooks/shopify/{store['id']}",
        content=not_json,
        headers={**headers, "X-Shopify-Hmac-Sha256": b64_hmac(secret, not_json)},
    )
    assert (r.status_code, r.json()) == (200, {"status": "malformed"})
    wrong_shape = b'{"name": "#1001", "line_items": "many"}'
    headers["X-Shopify-Event-Id"] = "broken-2"
    r = await api.post(
        f"/webhooks/shopify/{store['id']}",
        content=wrong_shape,
        headers={**headers, "X-Shopify-Hmac-Sha256": b64_hmac(secret, wrong_shape)},
    )
    assert (r.status_code, r.json()) == (200, {"status": "accepted"})
    await run_jobs()
    assert await rows(db, "SELECT dedupe_key, status, error FROM inbound_events ORDER BY id") == [
        (f"{store['id']}:broken-1", "failed", "the body is not JSON"),
        (f"{store['id']}:broken-2", "failed", "Shopify order is not in the expected shape: 'id'"),
    ]
    assert await scalar(db, "SELECT count(*) FROM orders") == 0
    assert await scalar(db, "SELECT count(*) FROM jobs WHERE status = 'dead'") == 0


@SQLITE_ONLY
async def test_ecwid_webhooks_fetch_the_order_and_refunds_arrive_from_shopify(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.ecwid.reset(orders=1)
    store = await connect(api, shop_a, ecwid_body(fakes, backfill=False))
    order_id = next(iter(fakes.ecwid.orders))
    fakes.ecwid.touch(order_id, fulfillmentStatus="SHIPPED", trackingNumber="JJD0099")
    r = await _post(api, "ecwid", store["id"], fakes.ecwid.webhook("order.updated", order_id))
    assert r.status_code == 200
    await run_jobs()
    assert await rows(db, "SELECT number, fulfillment_status FROM orders") == [(order_id, "fulfilled")]
    assert await rows(db, "SELECT tracking_number, status FROM shipments") == [("JJD0099", "in_transit")]
    # a delivery for another Ecwid store id signed with this store's secret is not this store's
    r = await _post(
        api, "ecwid", store["id"], fakes.ecwid.webhook("order.updated", order_id, store_id="2222")
    )
    assert r.status_code == 401


async def test_refund_and_fulfilment_webhooks_update_an_order(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=1)
    store = await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    oid = next(iter(fakes.shopify.orders))
    o = fakes.shopify.orders[oid]
    line = o["lines"][0]
    refund = {
        "id": 777,
        "created_at": fakes.shopify.tick(),
        "note": "damaged",
        "amount": line["price"],
        "lines": [(line["id"], 1)],
    }
    o["refunds"].append(refund)
    f = fakes.shopify.fulfil(oid)
    r = await _post(
        api,
        "shopify",
        store["id"],
        fakes.shopify.webhook("refunds/create", fakes.shopify.rest_refund(oid, refund)),
    )
    assert r.status_code == 200
    r = await _post(
        api,
        "shopify",
        store["id"],
        fakes.shopify.webhook("fulfillments/create", fakes.shopify.rest_fulfillment(oid, f)),
    )
    assert r.status_code == 200
    await run_jobs()
    assert await rows(db, "SELECT refunded_minor, financial_status FROM orders") == [
        (line["price"], "partially_refunded")
    ]
    assert await rows(db, "SELECT refunded_quantity FROM order_lines ORDER BY id") == [(1,), (0,)]
    refunds = await rows(db, "SELECT external_id, amount_minor, reason FROM refunds")
    assert refunds == [("777", line["price"], "damaged")]
    assert await rows(db, "SELECT external_id, carrier FROM shipments") == [(str(f["id"]), "DHL")]


@SQLITE_ONLY
async def test_privacy_webhooks(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=2, customers=2, products=1)
    store = await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    victim = next(iter(fakes.shopify.customers.values()))
    their_orders = [o["id"] for o in fakes.shopify.orders.values() if o["customer_id"] == victim["id"]]
    shop = {"shop_id": 954889, "shop_domain": fakes.shopify.domain}
    customer = {"id": victim["id"], "email": victim["email"], "phone": victim["phone"]}
    deliveries = [
        (
            "customers/data_request",
            {**shop, "orders_requested": their_orders, "customer": customer, "data_request": {"id": 9999}},
        ),
        ("customers/redact", {**shop, "customer": customer, "orders_to_redact": their_orders}),
    ]
    for topic, payload in deliveries:
        r = await _post(api, "shopify", store["id"], fakes.shopify.webhook(topic, payload))
        assert r.status_code == 200
    await run_jobs()
    request = await rows(db, "SELECT data FROM events WHERE type = 'commerce.privacy.data_requested'")
    data = _json(request[0][0])
    assert (data["data_request_id"], data["orders_requested"]) == ("9999", [str(i) for i in their_orders])
    redacted = await rows(
        db,
        "SELECT email, phone, shipping_address FROM orders WHERE external_id IN :ids".replace(
            ":ids", "(" + ",".join(f"'{i}'" for i in their_orders) + ")"
        ),
    )
    assert redacted == [(None, None, None)] * len(their_orders)
    assert await scalar(db, "SELECT count(*) FROM customers WHERE email = :e", e=victim["email"]) == 0
    assert (
        await scalar(db, "SELECT count(*) FROM customer_identities WHERE value = :e", e=victim["email"]) == 0
    )
    others = await scalar(db, "SELECT count(*) FROM orders WHERE email IS NOT NULL")
    assert others == 2 - len(their_orders)

    r = await _post(api, "shopify", store["id"], fakes.shopify.webhook("shop/redact", shop))
    assert r.status_code == 200
    await run_jobs()
    assert await scalar(db, "SELECT count(*) FROM orders") == 0
    assert await scalar(db, "SELECT count(*) FROM products") == 0
    assert await rows(db, "SELECT status, credentials_encrypted FROM stores") == [("redacted", None)]
    # a redacted store takes no more deliveries
    r = await _post(api, "shopify", store["id"], fakes.shopify.webhook("shop/redact", shop))
    assert r.status_code == 404


async def test_reconciliation_catches_a_missed_webhook(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=3)
    store = await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    oid = list(fakes.shopify.orders)[1]
    fakes.shopify.clock += 86400 * 400  # much later: well past the last reconciliation
    fakes.shopify.orders[oid]["note"] = "changed while our webhook endpoint was down"
    fakes.shopify.orders[oid]["updated_at"] = fakes.shopify.tick()
    result = await sync.reconcile(db, store_id=store["id"])
    assert (result.status, result.orders, result.changed) == ("done", 1, 1)
    assert await rows(db, "SELECT note FROM orders WHERE external_id = :e", e=str(oid)) == [
        ("changed while our webhook endpoint was down",)
    ]
    again = await sync.reconcile(db, store_id=store["id"])
    assert (again.status, again.changed) == ("done", 0)
    sources = [
        _json(d)["source"] for (d,) in await rows(db, "SELECT data FROM events WHERE type = 'order.synced'")
    ]
    assert sources == ["reconciliation"]
    assert (
        await scalar(db, "SELECT count(*) FROM jobs WHERE name = 'commerce.reconcile' AND status = 'queued'")
        == 1
    )


@SQLITE_ONLY
async def test_without_a_webhook_secret_deliveries_are_refused(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served
) -> None:
    fakes.shopify.reset(orders=1)
    body = shopify_body(fakes, backfill=False)
    del body["credentials"]["api_secret"]
    store = await connect(api, shop_a, body)
    assert store["warnings"] == [
        "no api_secret: shopify webhooks are refused until the store is connected again with it "
        "(the reconciliation still catches changes every 15 minutes)"
    ]
    oid = next(iter(fakes.shopify.orders))
    r = await _post(
        api, "shopify", store["id"], fakes.shopify.webhook("orders/updated", fakes.shopify.rest_order(oid))
    )
    assert r.status_code == 401
    assert await scalar(db, "SELECT count(*) FROM inbound_events") == 0
