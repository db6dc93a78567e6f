"""A store whose token the platform no longer accepts is paused, its admins are told, nothing acts on it
any more — and connecting it again with a working token resumes the same store and its mirror."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storedesk.db.session import Database
from tests.commerce.conftest import Served, connect, rows, scalar, shopify_body
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio

REVOKED = "the store rejected the access token (Shopify answered 401)"


async def _state(db: Database, store_id: int) -> tuple[Any, ...]:
    return (await rows(db, "SELECT status, last_error FROM stores WHERE id = :s", s=store_id))[0]


async def _store_events(db: Database) -> list[str]:
    return [t for (t,) in await rows(db, "SELECT type FROM events WHERE type LIKE 'store.%' ORDER BY id")]


async def test_revoked_token_pauses_the_store_and_tells_the_admins(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=3, customers=1, products=1)
    store = await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    assert await _state(db, store["id"]) == ("active", None)
    fakes.shopify.token = "shpat_revoked_by_the_merchant"  # the merchant uninstalled the app

    r = await api.post(f"/api/v1/stores/{store['id']}/reconcile", headers=shop_a.h("admin"))
    assert r.status_code == 202
    await run_jobs()
    assert await _state(db, store["id"]) == ("paused", REVOKED)
    assert await rows(db, "SELECT agent_id, kind, text FROM notifications ORDER BY id") == [
        (
            shop_a.agent_ids["admin"],
            "store_paused",
            f"Nordlys Home is paused: {REVOKED}. Connect it again with new credentials to resume syncing.",
        )
    ]
    assert (await _store_events(db))[-1] == "store.paused"
    body = (await api.get(f"/api/v1/stores/{store['id']}", headers=shop_a.h("viewer"))).json()
    assert (body["status"], body["last_error"]) == ("paused", REVOKED)

    # nothing acts on a paused store: the agent is told, the platform is not called
    order_id = await scalar(db, "SELECT id FROM orders ORDER BY number LIMIT 1")
    calls = len(fakes.shopify.queries)
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/tags", json={"tags": ["vip"], "confirm": True}, headers=shop_a.h()
    )
    assert r.status_code == 409
    assert (
        r.json()["error"]["message"] == "the store Nordlys Home is not connected any more; reconnect it first"
    )
    assert len(fakes.shopify.queries) == calls

    # the merchant installs again: the same store comes back with its mirror, no duplicate orders
    fakes.shopify.token = "shpat_reinstalled"
    again = await connect(api, shop_a, shopify_body(fakes))
    assert (again["id"], again["status"]) == (store["id"], "active")
    assert await _state(db, store["id"]) == ("active", None)
    await run_jobs()
    assert await scalar(db, "SELECT count(*) FROM stores") == 1
    assert await scalar(db, "SELECT count(*) FROM orders") == 3
    assert "store.reconnected" in await _store_events(db)


async def test_an_action_refused_for_the_token_pauses_the_store(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=1, customers=1, products=1)
    store = await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    order_id = await scalar(db, "SELECT id FROM orders")
    fakes.shopify.token = "shpat_revoked"
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/tags", json={"tags": ["vip"], "confirm": True}, headers=shop_a.h()
    )
    assert r.status_code == 409
    assert r.json()["error"]["message"] == f"{REVOKED}; an admin needs to reconnect the store"
    assert await _state(db, store["id"]) == ("paused", REVOKED)
    assert await scalar(db, "SELECT tags FROM orders WHERE id = :o", o=order_id) in ("[]", [])
    types = [
        t
        for (t,) in await rows(
            db,
            "SELECT type FROM events WHERE type IN ('store.paused', 'order.action_refused', 'order.tagged') ORDER BY id",
        )
    ]
    assert types == ["store.paused", "order.action_refused"]
    # only admins are told
    assert [k for (k,) in await rows(db, "SELECT agent_id FROM notifications")] == [shop_a.agent_ids["admin"]]
