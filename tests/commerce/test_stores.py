"""Connecting stores through the API, the backfill job, progress, multi-store numbering, tenant isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storedesk.db.session import Database
from storedesk.kit.crypto import SecretBox
from tests.commerce.conftest import Served, connect, ecwid_body, rows, scalar, shopify_body, woo_body
from tests.conftest import TEST_SECRET, ShopWorld

pytestmark = pytest.mark.anyio

# logic that does not depend on the database: run on SQLite only to keep the suite fast
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def test_connect_shopify_backfills_everything_exactly(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=23, customers=4, products=3)
    first = next(iter(fakes.shopify.orders))
    fakes.shopify.fulfil(first)
    store = await connect(api, shop_a, shopify_body(fakes))
    assert (store["platform"], store["name"], store["external_id"], store["status"]) == (
        "shopify",
        "Nordlys Home",
        "nordlys.myshopify.com",
        "active",
    )
    assert store["webhook_path"] == f"/webhooks/shopify/{store['id']}"
    assert store["backfill"]["status"] == "queued"
    # credentials are encrypted at rest, and decrypt with the configured key
    token = await scalar(db, "SELECT credentials_encrypted FROM stores WHERE id = :id", id=store["id"])
    assert fakes.shopify.token not in token
    assert SecretBox([TEST_SECRET]).decrypt_json(token)["access_token"] == fakes.shopify.token

    await run_jobs()
    r = await api.get(f"/api/v1/stores/{store['id']}", headers=shop_a.h("viewer"))
    body = r.json()
    assert body["backfill"]["status"] == "done"
    assert body["backfill"]["percent"] == 100.0
    assert body["counts"] == {"orders": 23, "products": 3, "variants": 12, "customers": 4}
    assert {k: (v["done"], v["total"], v["complete"]) for k, v in body["backfill"]["resources"].items()} == {
        "customers": (4, 4, True),
        "products": (3, 3, True),
        "orders": (23, 23, True),
        "fulfillments": (0, 0, True),
        "refunds": (0, 0, True),
    }
    numbers = [
        r[0]
        for r in await rows(
            db, "SELECT number FROM orders WHERE store_id = :s ORDER BY number", s=store["id"]
        )
    ]
    assert numbers == [str(1001 + i) for i in range(23)]
    assert await scalar(db, "SELECT count(*) FROM order_lines") == 46
    # every order is linked to the storedesk customer of its platform customer
    assert await scalar(db, "SELECT count(*) FROM orders WHERE customer_id IS NULL") == 0
    linked = await rows(
        db,
        "SELECT c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.external_id = :e",
        e=str(first),
    )
    assert linked == [(fakes.shopify.orders[first]["email"],)]
    shipment = await rows(db, "SELECT carrier, tracking_number, status FROM shipments")
    assert shipment == [("DHL", fakes.shopify.orders[first]["fulfillments"][0]["number"], "in_transit")]
    # lines point at the mirrored variants
    assert await scalar(db, "SELECT count(*) FROM order_lines WHERE variant_id IS NULL") == 0


async def test_customers_are_linked_to_existing_storedesk_customers(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(customers=1)
    fakes.shopify.customers[next(iter(fakes.shopify.customers))]["email"] = "buyer@shop-a.example"
    fakes.shopify.add_order(0)
    await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    assert await rows(db, "SELECT customer_id FROM orders") == [(shop_a.customer_id,)]
    idents = await rows(
        db, "SELECT kind FROM customer_identities WHERE customer_id = :c ORDER BY kind", c=shop_a.customer_id
    )
    assert idents == [("email",), ("phone",), ("store_customer",)]
    assert await scalar(db, "SELECT count(*) FROM customers WHERE shop_id = :s", s=shop_a.id) == 1


@SQLITE_ONLY
async def test_two_stores_may_share_order_numbers(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=2)
    fakes.woo.reset(orders=2)
    for order in list(fakes.woo.orders.values()):
        order["number"] = str(1001 + list(fakes.woo.orders).index(order["id"]))
    s1 = await connect(api, shop_a, shopify_body(fakes))
    s2 = await connect(api, shop_a, woo_body(fakes, name="Woo shop"))
    await run_jobs()
    r = await api.get("/api/v1/orders", params={"number": "1001"}, headers=shop_a.h())
    assert sorted((o["store_id"], o["store_name"]) for o in r.json()["items"]) == sorted(
        [(s1["id"], "Nordlys Home"), (s2["id"], "Woo shop")]
    )


@SQLITE_ONLY
async def test_connection_failures_explain_what_is_wrong(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served
) -> None:
    async def attempt(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = await api.post("/api/v1/stores", json=body, headers=shop_a.h("admin"))
        return r.status_code, r.json()["error"]

    bad = shopify_body(fakes)
    bad["credentials"]["access_token"] = "shpat_wrong_token"
    assert await attempt(bad) == (
        422,
        {
            "code": "store_auth_rejected",
            "message": "the store rejected the access token (Shopify answered 401)",
            "details": {"platform_error": "store_auth_rejected"},
        },
    )
    fakes.shopify.scopes = ["read_orders", "read_products"]
    status, error = await attempt(shopify_body(fakes))
    assert (status, error["code"], error["message"]) == (
        422,
        "store_missing_scope",
        "the access token lacks the read_customers scope",
    )
    status, error = await attempt(woo_body(fakes, base_url="http://127.0.0.1:1"))
    assert (status, error["code"], error["message"]) == (
        422,
        "store_unreachable",
        "cannot reach WooCommerce at 127.0.0.1:1: the connection was refused",
    )
    status, error = await attempt(ecwid_body(fakes, base_url="http://ecwid.example"))
    assert (status, error["code"]) == (422, "store_not_supported")
    assert error["message"].startswith("Ecwid needs an https:// address")
    status, error = await attempt({"platform": "shopify", "credentials": {"store_domain": "x.myshopify.com"}})
    assert (status, error["code"]) == (422, "validation_failed")
    assert await scalar(db, "SELECT count(*) FROM stores") == 0
    assert await scalar(db, "SELECT count(*) FROM jobs") == 0


@SQLITE_ONLY
async def test_only_admins_connect_and_other_shops_see_nothing(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    for role in ("agent", "viewer"):
        r = await api.post("/api/v1/stores", json=woo_body(fakes), headers=shop_a.h(role))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    assert await scalar(db, "SELECT count(*) FROM stores") == 0
    assert fakes.woo.faults.requests == []

    store = await connect(api, shop_a, woo_body(fakes))
    for method, path in (
        ("GET", f"/api/v1/stores/{store['id']}"),
        ("DELETE", f"/api/v1/stores/{store['id']}"),
        ("POST", f"/api/v1/stores/{store['id']}/backfill"),
    ):
        r = await api.request(method, path, headers=shop_b.h("admin"), json={} if method == "POST" else None)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), path
    r = await api.get("/api/v1/stores", headers=shop_b.h("admin"))
    assert r.json() == []
    assert await scalar(db, "SELECT status FROM stores") == "active"
    # the same store cannot be connected twice to one shop
    r = await api.post("/api/v1/stores", json=woo_body(fakes), headers=shop_a.h("admin"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")


@SQLITE_ONLY
async def test_woocommerce_webhook_secret_is_generated_and_shown_once(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served
) -> None:
    body = woo_body(fakes)
    del body["credentials"]["webhook_secret"]
    store = await connect(api, shop_a, body)
    generated = store["generated"]["webhook_secret"]
    assert len(generated) >= 40
    r = await api.get(f"/api/v1/stores/{store['id']}", headers=shop_a.h("admin"))
    assert "generated" not in r.json() and generated not in r.text
    stored = SecretBox([TEST_SECRET]).decrypt_json(
        await scalar(db, "SELECT credentials_encrypted FROM stores WHERE id = :id", id=store["id"])
    )
    assert stored["webhook_secret"] == generated


@SQLITE_ONLY
async def test_disconnect_forgets_credentials_and_keeps_orders(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.ecwid.reset(orders=3)
    store = await connect(api, shop_a, ecwid_body(fakes))
    await run_jobs()
    r = await api.delete(f"/api/v1/stores/{store['id']}", headers=shop_a.h("admin"))
    assert (r.status_code, r.json()["status"]) == (200, "disconnected")
    assert await rows(db, "SELECT credentials_encrypted, status FROM stores") == [(None, "disconnected")]
    assert await scalar(db, "SELECT count(*) FROM orders") == 3
    types = [t for (t,) in await rows(db, "SELECT type FROM events WHERE type LIKE 'store.%' ORDER BY id")]
    # served at the loopback base URL: the webhook subscription is skipped without an event
    assert types == ["store.connected", "store.disconnected"]
