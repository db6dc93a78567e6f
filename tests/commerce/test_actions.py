"""Order actions from the helpdesk: permission, confirmation with a preview, the platform call, the mirror
updated from the platform's answer, the audit event — and refusals in plain words, with nothing changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update

from storedesk.commerce.models import Order, OrderLine, Store
from storedesk.db.models import Base
from storedesk.db.session import Database
from tests.commerce.conftest import Served, connect, ecwid_body, rows, scalar, shopify_body, woo_body
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio

# logic that does not depend on the database: run on SQLite only to keep the suite fast
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PLACED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _json(value: Any) -> Any:
    return value if isinstance(value, dict | list) else json.loads(value)


async def demo_order(db: Database, shop: ShopWorld, *, shipped: bool = False) -> tuple[int, list[int]]:
    """A demo-store order of two lines (2 × 10.00 and 1 × 25.00) plus 4.90 shipping, paid."""
    async with db.transaction() as s:
        store = Store(shop_id=shop.id, platform="demo", name="Demo store", status="active", sync_state={})
        s.add(store)
        await s.flush()
        order = Order(
            shop_id=shop.id,
            store_id=store.id,
            external_id="5300000000011",
            number="1001",
            customer_id=shop.customer_id,
            email=f"buyer@{shop.slug}.example",
            currency="EUR",
            financial_status="paid",
            fulfillment_status="fulfilled" if shipped else "unfulfilled",
            subtotal_minor=4500,
            shipping_minor=490,
            total_minor=4990,
            placed_at=PLACED,
            platform_updated_at=PLACED,
            shipping_address={
                "name": "Ada Lovelace",
                "address1": "Hauptstraße 1",
                "city": "Berlin",
                "zip": "10115",
                "country_code": "DE",
            },
            tags=[],
        )
        s.add(order)
        await s.flush()
        lines = [
            OrderLine(
                shop_id=shop.id,
                order_id=order.id,
                external_id="L1",
                sku="MUG",
                title="Mug",
                quantity=2,
                unit_price_minor=1000,
                total_minor=2000,
            ),
            OrderLine(
                shop_id=shop.id,
                order_id=order.id,
                external_id="L2",
                sku="VASE",
                title="Vase",
                quantity=1,
                unit_price_minor=2500,
                total_minor=2500,
            ),
        ]
        s.add_all(lines)
        await s.flush()
        return order.id, [line.id for line in lines]


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("auth_tokens",):
                continue
            out[table.name] = [
                tuple(r) for r in (await conn.execute(text(f"SELECT * FROM {table.name} ORDER BY 1"))).all()
            ]
    return out


async def test_cancel_previews_then_cancels_refunds_and_audits(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    order_id, _ = await demo_order(db, shop_a)
    before = await snapshot(db)
    r = await api.post(f"/api/v1/orders/{order_id}/actions/cancel", json={}, headers=shop_a.h())
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "confirmation_required"
    assert error["message"] == "confirm to cancel order 1001: refund 49.90 EUR, put 3 item(s) back in stock"
    assert error["details"]["preview"] == {
        "action": "cancel",
        "order_id": order_id,
        "order_number": "1001",
        "store": {"id": error["details"]["preview"]["store"]["id"], "name": "Demo store", "platform": "demo"},
        "summary": "Cancel order 1001: refund 49.90 EUR, put 3 item(s) back in stock",
        "effects": ["cancel order 1001 in Demo store", "refund 49.90 EUR", "put 3 item(s) back in stock"],
        "refund_minor": 4990,
        "currency": "EUR",
        "restock": True,
    }
    assert await snapshot(db) == before  # a preview changes nothing

    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/cancel",
        json={"confirm": True, "reason": "customer"},
        headers=shop_a.h(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["action"], body["status"], body["message"]) == (
        "cancel",
        "done",
        "The demo store cancelled order 1001",
    )
    order = body["order"]
    assert (order["financial_status"], order["refunded_minor"], order["cancel_reason"]) == (
        "refunded",
        4990,
        "customer",
    )
    assert order["cancelled_at"] is not None
    assert [(x["amount_minor"], x["status"]) for x in order["refunds"]] == [(4990, "processed")]
    assert body["refund_id"] == order["refunds"][0]["id"]
    assert [line["refunded_quantity"] for line in order["lines"]] == [2, 1]
    events = await rows(
        db, "SELECT type, actor_type, actor_id, order_id, data FROM events WHERE type LIKE 'order.%'"
    )
    assert len(events) == 1
    kind, actor_type, actor_id, event_order, data = events[0]
    assert (kind, actor_type, actor_id, event_order) == (
        "order.cancelled",
        "agent",
        shop_a.agent_ids["agent"],
        order_id,
    )
    data = _json(data)
    assert data["before"]["financial_status"] == "paid" and data["before"]["cancelled_at"] is None
    assert data["after"]["financial_status"] == "refunded" and data["after"]["refunded_minor"] == 4990
    assert data["params"] == {
        "restock": True,
        "refund": True,
        "reason": "customer",
        "notify": False,
        "refund_minor": 4990,
    }
    assert await scalar(db, "SELECT action_pending FROM orders") is None

    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/cancel", json={"confirm": True}, headers=shop_a.h()
    )
    assert (r.status_code, r.json()["error"]["message"]) == (409, "order 1001 is already cancelled")


@SQLITE_ONLY
async def test_refunds_are_capped_at_what_is_left(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    order_id, (mug, _) = await demo_order(db, shop_a)
    url = f"/api/v1/orders/{order_id}/actions/refund"
    r = await api.post(
        url, json={"lines": [{"line_id": mug, "quantity": 1}], "shipping_minor": 490}, headers=shop_a.h()
    )
    preview = r.json()["error"]["details"]["preview"]
    assert (preview["amount_minor"], preview["refundable_minor"], preview["effects"]) == (
        1490,
        4990,
        [
            "send 14.90 EUR back to the customer",
            "refund 1 × Mug and restock",
            "refund 4.90 EUR of shipping",
            "35.00 EUR stays refundable",
        ],
    )
    r = await api.post(
        url,
        json={"lines": [{"line_id": mug, "quantity": 1}], "shipping_minor": 490, "confirm": True},
        headers=shop_a.h(),
    )
    assert r.status_code == 200
    assert (r.json()["order"]["refunded_minor"], r.json()["order"]["financial_status"]) == (
        1490,
        "partially_refunded",
    )

    refusals = [
        (
            {"amount_minor": 3501},
            422,
            "the refund (35.01 EUR) would exceed what is left to refund (35.00 EUR: paid 49.90 EUR, refunded 14.90 EUR)",
        ),
        (
            {"lines": [{"line_id": mug, "quantity": 2}]},
            422,
            f"line {mug} (Mug) has 1 left to refund; asked for 2",
        ),
        ({"shipping_minor": 1}, 422, "shipping can be refunded up to 0.00 EUR"),
        ({"lines": [{"line_id": 999999, "quantity": 1}]}, 422, "line 999999 is not part of order 1001"),
        ({}, 422, "say what to refund: lines, shipping or an amount"),
    ]
    for payload, status, message in refusals:
        r = await api.post(url, json={**payload, "confirm": True}, headers=shop_a.h())
        assert (r.status_code, r.json()["error"]["message"]) == (status, message), payload
    r = await api.post(
        url, json={"amount_minor": 3500, "confirm": True, "reason": "goodwill"}, headers=shop_a.h()
    )
    assert r.status_code == 200 and r.json()["order"]["financial_status"] == "refunded"
    r = await api.post(url, json={"amount_minor": 1, "confirm": True}, headers=shop_a.h())
    assert (r.status_code, r.json()["error"]["message"]) == (409, "order 1001 is already refunded in full")
    assert await scalar(db, "SELECT sum(amount_minor) FROM refunds") == 4990
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'order.refunded'") == 2


@SQLITE_ONLY
async def test_viewers_and_other_shops_change_nothing(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    order_id, (mug, _) = await demo_order(db, shop_a)
    before = await snapshot(db)
    attempts = [
        ("cancel", {"confirm": True}),
        ("refund", {"amount_minor": 100, "confirm": True}),
        (
            "shipping-address",
            {
                "address": {"name": "X", "address1": "Y 1", "city": "Z", "zip": "1", "country_code": "DE"},
                "confirm": True,
            },
        ),
        ("note", {"note": "hi", "confirm": True}),
        ("tags", {"tags": ["vip"], "confirm": True}),
        ("returns", {"lines": [{"line_id": mug, "quantity": 1}], "confirm": True}),
        ("resend-confirmation", {"confirm": True}),
    ]
    for action, payload in attempts:
        r = await api.post(
            f"/api/v1/orders/{order_id}/actions/{action}", json=payload, headers=shop_a.h("viewer")
        )
        assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden"), action
        r = await api.post(
            f"/api/v1/orders/{order_id}/actions/{action}", json=payload, headers=shop_b.h("admin")
        )
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), action
    r = await api.get(f"/api/v1/orders/{order_id}/actions", headers=shop_b.h("admin"))
    assert r.status_code == 404
    assert await snapshot(db) == before


@SQLITE_ONLY
async def test_address_note_tags_return_and_resend_on_the_demo_store(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    order_id, (mug, _) = await demo_order(db, shop_a)
    r = await api.get(f"/api/v1/orders/{order_id}/actions", headers=shop_a.h("viewer"))
    assert r.json()["available"] == {
        "cancel": True,
        "refund": True,
        "shipping_address": True,
        "note": True,
        "tags": True,
        "create_return": False,
        "resend_confirmation": True,
    }
    assert r.json()["reasons"] == {"create_return": "not shipped yet"}
    new = {
        "name": "Grace Hopper",
        "address1": "Unter den Linden 5",
        "city": "Berlin",
        "zip": "10117",
        "country_code": "de",
    }
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/shipping-address", json={"address": new}, headers=shop_a.h()
    )
    assert r.json()["error"]["details"]["preview"]["summary"] == (
        "Ship order 1001 to Grace Hopper, Unter den Linden 5, 10117, Berlin, DE instead of "
        "Ada Lovelace, Hauptstraße 1, 10115, Berlin, DE"
    )
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/shipping-address",
        json={"address": new, "confirm": True},
        headers=shop_a.h(),
    )
    assert r.json()["order"]["shipping_address"]["name"] == "Grace Hopper"
    assert r.json()["order"]["shipping_address"]["country_code"] == "DE"
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/note",
        json={"note": "Customer called", "confirm": True},
        headers=shop_a.h(),
    )
    assert r.json()["order"]["note"] == "Customer called"
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/tags",
        json={"tags": ["vip", "called"], "confirm": True},
        headers=shop_a.h(),
    )
    assert r.json()["order"]["tags"] == ["vip", "called"]
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/tags", json={"tags": ["vip"], "confirm": True}, headers=shop_a.h()
    )
    assert (r.status_code, r.json()["error"]["message"]) == (409, "order 1001 already has these tags")
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/resend-confirmation", json={"confirm": True}, headers=shop_a.h()
    )
    assert r.json()["message"] == (
        "The demo store would send the confirmation of order 1001 to buyer@shop-a.example again "
        "(demo: no email leaves storedesk)"
    )
    async with db.transaction() as s:
        await s.execute(text("UPDATE orders SET fulfillment_status = 'fulfilled'"))
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/shipping-address",
        json={"address": new, "confirm": True},
        headers=shop_a.h(),
    )
    assert (r.status_code, r.json()["error"]["message"]) == (
        409,
        "order 1001 has shipped; the address can no longer be changed",
    )
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/returns",
        json={"lines": [{"line_id": mug, "quantity": 2, "reason": "defective"}], "confirm": True},
        headers=shop_a.h(),
    )
    assert r.status_code == 200, r.text
    assert [(x["number"], x["status"]) for x in r.json()["order"]["returns"]] == [("1001-R1", "approved")]
    assert await rows(db, "SELECT quantity, reason FROM return_lines") == [(2, "defective")]
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/returns",
        json={"lines": [{"line_id": mug, "quantity": 1}], "confirm": True},
        headers=shop_a.h(),
    )
    assert (r.status_code, r.json()["error"]["message"]) == (
        422,
        f"line {mug} (Mug) has 0 that can still come back; asked for 1",
    )
    types = [t for (t,) in await rows(db, "SELECT type FROM events WHERE type LIKE 'order.%' ORDER BY id")]
    assert types == [
        "order.shipping_address_changed",
        "order.note_added",
        "order.tagged",
        "order.confirmation_resent",
        "order.return_created",
    ]


@SQLITE_ONLY
async def test_one_action_at_a_time(api: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    order_id, _ = await demo_order(db, shop_a)
    async with db.transaction() as s:
        await s.execute(update(Order).values(action_pending="refund", action_started_at=datetime.now(UTC)))
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/note", json={"note": "x", "confirm": True}, headers=shop_a.h()
    )
    assert (r.status_code, r.json()["error"]["message"]) == (
        409,
        "another action on order 1001 is in progress; try again in a moment",
    )


async def test_actions_go_through_shopify_and_refusals_are_explained(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=2, customers=1, products=1)
    first, second = list(fakes.shopify.orders)
    fakes.shopify.fulfil(second)
    await connect(api, shop_a, shopify_body(fakes))
    await run_jobs()
    ids = {e: i for e, i in await rows(db, "SELECT external_id, id FROM orders")}
    o1, o2 = ids[str(first)], ids[str(second)]
    h = shop_a.h()

    r = await api.post(
        f"/api/v1/orders/{o1}/actions/tags", json={"tags": ["vip"], "confirm": True}, headers=h
    )
    assert (r.status_code, r.json()["message"]) == (200, "Shopify tagged order 1001")
    assert fakes.shopify.orders[first]["tags"] == ["vip"] and r.json()["order"]["tags"] == ["vip"]
    r = await api.post(
        f"/api/v1/orders/{o1}/actions/note", json={"note": "Gift wrap", "confirm": True}, headers=h
    )
    assert fakes.shopify.orders[first]["note"] == "Gift wrap" == r.json()["order"]["note"]
    line = fakes.shopify.orders[first]["lines"][1]
    line_id = await scalar(db, "SELECT id FROM order_lines WHERE external_id = :e", e=str(line["id"]))
    r = await api.post(
        f"/api/v1/orders/{o1}/actions/refund",
        json={"lines": [{"line_id": line_id, "quantity": 1}], "confirm": True},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert fakes.shopify.orders[first]["refunded"] == line["price"]
    assert (r.json()["order"]["refunded_minor"], r.json()["order"]["financial_status"]) == (
        line["price"],
        "partially_refunded",
    )
    r = await api.post(f"/api/v1/orders/{o1}/actions/resend-confirmation", json={"confirm": True}, headers=h)
    assert r.json()[
        "message"
    ] == "Shopify sent the order email for order 1001 again" and fakes.shopify.invoices == [first]

    # the platform knows better than the mirror (fulfilled meanwhile, no webhook yet): it refuses
    fakes.shopify.fulfil(first)
    new = {
        "name": "Grace Hopper",
        "address1": "Unter den Linden 5",
        "city": "Berlin",
        "zip": "10117",
        "country_code": "DE",
    }
    r = await api.post(
        f"/api/v1/orders/{o1}/actions/shipping-address", json={"address": new, "confirm": True}, headers=h
    )
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "store_refused",
        "message": "Shopify refused: Shipping address cannot be changed after fulfillment",
        "details": {
            "platform_error": "store_refused",
            "details": {
                "errors": [
                    {
                        "field": ["shippingAddress"],
                        "message": "Shipping address cannot be changed after fulfillment",
                    }
                ]
            },
        },
    }
    refused = await rows(db, "SELECT actor_id, data FROM events WHERE type = 'order.action_refused'")
    assert [(a, _json(d)["action"], _json(d)["message"]) for a, d in refused] == [
        (
            shop_a.agent_ids["agent"],
            "shipping_address",
            "Shopify refused: Shipping address cannot be changed after fulfillment",
        )
    ]
    assert (
        _json(await scalar(db, "SELECT shipping_address FROM orders WHERE id = :i", i=o1))["address1"]
        != new["address1"]
    )
    assert await scalar(db, "SELECT action_pending FROM orders WHERE id = :i", i=o1) is None

    # a return of a shipped order, then cancellation of an unshipped one is refused by our own rules
    line2 = await scalar(db, "SELECT id FROM order_lines WHERE order_id = :o ORDER BY id LIMIT 1", o=o2)
    r = await api.post(
        f"/api/v1/orders/{o2}/actions/returns",
        json={"lines": [{"line_id": line2, "quantity": 1, "reason": "size_too_small"}], "confirm": True},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert [(x["number"], x["status"]) for x in r.json()["order"]["returns"]] == [("1002-R1", "approved")]
    assert fakes.shopify.orders[second]["returns"][0]["lines"][0]["reason"] == "SIZE_TOO_SMALL"
    r = await api.post(f"/api/v1/orders/{o2}/actions/cancel", json={"confirm": True}, headers=h)
    assert (r.status_code, r.json()["error"]["message"]) == (
        409,
        "order 1002 has shipped; create a return instead of cancelling",
    )


@SQLITE_ONLY
async def test_platforms_that_cannot_do_an_action_say_so(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.woo.reset(orders=1)
    fakes.ecwid.reset(orders=1)
    await connect(api, shop_a, woo_body(fakes))
    await connect(api, shop_a, ecwid_body(fakes))
    await run_jobs()
    woo_order = await scalar(
        db, "SELECT o.id FROM orders o JOIN stores s ON s.id = o.store_id WHERE s.platform = 'woocommerce'"
    )
    ecwid_order = await scalar(
        db, "SELECT o.id FROM orders o JOIN stores s ON s.id = o.store_id WHERE s.platform = 'ecwid'"
    )
    requests = len(fakes.woo.faults.requests)
    r = await api.post(
        f"/api/v1/orders/{woo_order}/actions/tags",
        json={"tags": ["vip"], "confirm": True},
        headers=shop_a.h(),
    )
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) == (
        422,
        "store_not_supported",
        "WooCommerce cannot tag orders through its API; do it in the store's admin",
    )
    assert len(fakes.woo.faults.requests) == requests  # refused before any call
    r = await api.post(
        f"/api/v1/orders/{woo_order}/actions/refund",
        json={"amount_minor": 500, "reason": "late", "confirm": True},
        headers=shop_a.h(),
    )
    assert (r.status_code, r.json()["message"]) == (
        200,
        f"WooCommerce refunded 5.00 EUR on order {next(iter(fakes.woo.orders))}",
    )
    assert r.json()["order"]["refunded_minor"] == 500
    r = await api.post(
        f"/api/v1/orders/{ecwid_order}/actions/cancel",
        json={"confirm": True, "refund": True},
        headers=shop_a.h(),
    )
    assert (r.status_code, r.json()["error"]["message"]) == (
        422,
        "Ecwid's API cannot send money back; refund the payment in your payment provider, then cancel without refund",
    )
    r = await api.post(
        f"/api/v1/orders/{ecwid_order}/actions/cancel",
        json={"confirm": True, "refund": False},
        headers=shop_a.h(),
    )
    assert (r.status_code, r.json()["order"]["financial_status"]) == (200, "voided")
