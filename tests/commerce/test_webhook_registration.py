"""Connecting a store subscribes the platform's webhooks to the store's address (Shopify GraphQL
``webhookSubscriptionCreate``, WooCommerce ``POST /webhooks``); Ecwid says where to enter it by hand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storedesk.api.app import create_app
from storedesk.commerce.connectors import shopify as shopify_connector
from storedesk.commerce.connectors import woocommerce as woo_connector
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.commerce.conftest import Served, connect, ecwid_body, rows, shopify_body, woo_body
from tests.commerce.test_import_and_cli import _cli
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio

PUBLIC = "https://desk.example.test"


@pytest.fixture
async def public_api(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app as deployed behind a public https address (STOREDESK_BASE_URL)."""
    app = create_app(settings.model_copy(update={"base_url": PUBLIC}), db=db, run_jobs=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            yield c


async def _store(api: httpx.AsyncClient, shop: ShopWorld, store_id: int) -> dict[str, Any]:
    r = await api.get(f"/api/v1/stores/{store_id}", headers=shop.h("viewer"))
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


async def _events(db: Database, store_id: int) -> list[str]:
    found = await rows(db, "SELECT type, data FROM events WHERE type LIKE 'store.webhooks%' ORDER BY id")
    return [
        t
        for t, data in found
        if (json.loads(data) if isinstance(data, str) else data)["store_id"] == store_id
    ]


async def test_shopify_subscriptions_are_created_once(
    public_api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    store = await connect(public_api, shop_a, shopify_body(fakes, backfill=False))
    assert store["webhooks"] is None  # queued, not run yet
    await run_jobs()
    callback = f"{PUBLIC}/webhooks/shopify/{store['id']}"
    hooks = (await _store(public_api, shop_a, store["id"]))["webhooks"]
    assert hooks["status"] == "registered"
    assert hooks["callback_url"] == callback
    assert hooks["created"] == list(shopify_connector.WEBHOOK_TOPICS)
    assert (hooks["existing"], hooks["failed"], hooks["message"]) == ([], {}, None)
    assert sorted(
        (w["topic"], w["callbackUrl"], w["format"]) for w in fakes.shopify.webhooks.values()
    ) == sorted((t, callback, "JSON") for t in shopify_connector.WEBHOOK_TOPICS)
    # again, by hand: nothing new on the platform, everything reported as already there
    r = await public_api.post(f"/api/v1/stores/{store['id']}/webhooks", headers=shop_a.h("admin"))
    assert r.status_code == 200, r.text
    again = r.json()
    assert (again["status"], again["created"], again["existing"]) == (
        "registered",
        [],
        list(shopify_connector.WEBHOOK_TOPICS),
    )
    assert len(fakes.shopify.webhooks) == len(shopify_connector.WEBHOOK_TOPICS)
    assert await _events(db, store["id"]) == ["store.webhooks_registered", "store.webhooks_registered"]


async def test_shopify_refusals_are_explained(
    public_api: httpx.AsyncClient,
    api: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    shop_a: ShopWorld,
    fakes: Served,
    run_jobs: Any,
) -> None:
    # a token without read_inventory: every topic but inventory levels is subscribed
    fakes.shopify.scopes = [s for s in fakes.shopify.scopes if s != "read_inventory"]
    store = await connect(public_api, shop_a, shopify_body(fakes, backfill=False))
    await run_jobs()
    hooks = (await _store(public_api, shop_a, store["id"]))["webhooks"]
    assert hooks["status"] == "partial"
    assert hooks["created"] == [t for t in shopify_connector.WEBHOOK_TOPICS if t != "INVENTORY_LEVELS_UPDATE"]
    assert hooks["failed"] == {
        "INVENTORY_LEVELS_UPDATE": "You do not have permission to create or update webhooks with "
        "inventory/levels_update topic. This topic requires the `read_inventory` access scope."
    }
    # the default base URL is this machine's loopback: no platform is asked, the admin is told why
    fakes.shopify.webhooks.clear()
    r = await api.post(f"/api/v1/stores/{store['id']}/webhooks", headers=shop_a.h("admin"))
    assert r.status_code == 200
    state = r.json()
    assert (state["status"], state["callback_url"]) == (
        "skipped",
        f"http://127.0.0.1:8000/webhooks/shopify/{store['id']}",
    )
    assert state["message"] == (
        "STOREDESK_BASE_URL (http://127.0.0.1:8000) is this machine's own address, which the platform "
        "cannot reach; set the public https address and subscribe again"
    )
    assert fakes.shopify.webhooks == {}
    # a public address on plain http: Shopify refuses every topic, nothing is subscribed
    app = create_app(
        settings.model_copy(update={"base_url": "http://desk.example.test"}), db=db, run_jobs=False
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as plain:
            r = await plain.post(f"/api/v1/stores/{store['id']}/webhooks", headers=shop_a.h("admin"))
    state = r.json()
    assert state["status"] == "failed"
    assert set(state["failed"].values()) == {"Address protocol http:// is not supported"}
    assert fakes.shopify.webhooks == {}
    assert (await _store(api, shop_a, store["id"]))["webhooks"]["status"] == "failed"
    assert await _events(db, store["id"]) == ["store.webhooks_registered", "store.webhooks_failed"]


async def test_woocommerce_webhooks_carry_the_store_secret(
    public_api: httpx.AsyncClient, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    body = woo_body(fakes, backfill=False)
    del body["credentials"]["webhook_secret"]  # storedesk generates one
    store = await connect(public_api, shop_a, body)
    secret = store["generated"]["webhook_secret"]
    await run_jobs()
    hooks = (await _store(public_api, shop_a, store["id"]))["webhooks"]
    assert (hooks["status"], hooks["created"]) == ("registered", list(woo_connector.WEBHOOK_TOPICS))
    callback = f"{PUBLIC}/webhooks/woocommerce/{store['id']}"
    assert sorted(
        (w["topic"], w["delivery_url"], w["status"], w["_secret"]) for w in fakes.woo.webhooks.values()
    ) == sorted((t, callback, "active", secret) for t in woo_connector.WEBHOOK_TOPICS)


async def test_ecwid_is_told_where_to_enter_the_address(
    public_api: httpx.AsyncClient, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    store = await connect(public_api, shop_a, ecwid_body(fakes, backfill=False))
    await run_jobs()
    hooks = (await _store(public_api, shop_a, store["id"]))["webhooks"]
    callback = f"{PUBLIC}/webhooks/ecwid/{store['id']}"
    assert hooks["status"] == "manual"
    assert hooks["message"] == (
        "Ecwid sends webhooks to the address in your Ecwid app's settings (Webhook URL), not one set "
        f"through the API: enter {callback} there, with the events order.* and product.*"
    )


async def test_only_admins_of_the_shop_register(
    public_api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld, fakes: Served
) -> None:
    r = await public_api.post(
        "/api/v1/stores", json=shopify_body(fakes, backfill=False), headers=shop_a.h("admin")
    )
    store_id = r.json()["id"]
    for who, shop, status in (("agent", shop_a, 403), ("viewer", shop_a, 403), ("admin", shop_b, 404)):
        r = await public_api.post(f"/api/v1/stores/{store_id}/webhooks", headers=shop.h(who))
        assert r.status_code == status, (who, r.text)
        assert r.json()["error"]["code"] in ("forbidden", "not_found")
    assert fakes.shopify.webhooks == {}
    assert await _events(db, store_id) == []


async def test_cli_registers_and_reports(
    db: Database, db_url: str, shop_a: ShopWorld, fakes: Served, tmp_path: Path
) -> None:
    result = _cli(
        db_url,
        "connect", "woocommerce", "--shop", "shop-a", "--site-url", "https://shop.example",
        "--consumer-key", fakes.woo.key, "--consumer-secret", fakes.woo.secret, "--base-url", fakes.woo_url,
        "--no-backfill",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    store_id = (await rows(db, "SELECT id FROM stores"))[0][0]
    assert f"  webhook subscription queued; run it here with: storedesk register-webhooks {store_id}" in (
        result.stdout.splitlines()
    )
    result = _cli(db_url, "register-webhooks", str(store_id))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"webhooks of store {store_id}: skipped → http://127.0.0.1:8000/webhooks/woocommerce/{store_id}"
    )
    # the CLI runs with the default base URL (loopback): nothing is asked of WooCommerce, and it says why
    assert lines[1:] == [
        "  STOREDESK_BASE_URL (http://127.0.0.1:8000) is this machine's own address, which the platform "
        "cannot reach; set the public https address and subscribe again"
    ]
    assert fakes.woo.webhooks == {}
    result = _cli(db_url, "register-webhooks", "999")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: store 999 not found"
