"""An agent of shop A can never read or change shop B's data: every resource answers 404 and nothing
changes (row counts and the target rows are compared before and after)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from storedesk.agents.models import Role, TokenKind
from storedesk.agents.security import AuthContext
from storedesk.agents.service import create_team
from storedesk.commerce.models import Order, OrderLine, Product, Shipment, TrackingEvent, Variant
from storedesk.db.models import Base
from storedesk.db.session import Database
from storedesk.jobs.registry import enqueue
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio


async def snapshot(db: Database) -> dict[str, list[tuple]]:
    out = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("auth_tokens",):  # last_used_at may legitimately move
                continue
            rows = (await conn.execute(text(f"SELECT * FROM {table.name} ORDER BY 1"))).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


async def build_b(db: Database, client: httpx.AsyncClient, b: ShopWorld) -> dict[str, int]:
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    async with db.transaction() as s:
        product = Product(shop_id=b.id, handle="vase", title="Vase")
        s.add(product)
        await s.flush()
        variant = Variant(
            shop_id=b.id, product_id=product.id, sku="V-1", title="Blue", price_minor=1000, stock=3
        )
        s.add(variant)
        order = Order(
            shop_id=b.id,
            number="5001",
            customer_id=b.customer_id,
            currency="EUR",
            financial_status="paid",
            fulfillment_status="fulfilled",
            subtotal_minor=1000,
            total_minor=1000,
            placed_at=now,
        )
        s.add(order)
        await s.flush()
        s.add(
            OrderLine(
                shop_id=b.id,
                order_id=order.id,
                variant_id=variant.id,
                title="Vase",
                quantity=1,
                unit_price_minor=1000,
                total_minor=1000,
            )
        )
        shipment = Shipment(
            shop_id=b.id,
            order_id=order.id,
            carrier="DHL",
            tracking_number="JJD0001",
            status="in_transit",
            shipped_at=now,
        )
        s.add(shipment)
        await s.flush()
        s.add(
            TrackingEvent(
                shop_id=b.id,
                shipment_id=shipment.id,
                occurred_at=now,
                status="in_transit",
                description="On the way",
            )
        )
        ctx = AuthContext(b.id, b.agent_ids["admin"], Role.admin, TokenKind.api, 0)
        team = await create_team(s, ctx, name="B team", description=None)
        job = await enqueue(s, "delivery.send", {"message_id": 999999}, shop_id=b.id)
        await s.flush()
        ids = {
            "product": product.id,
            "order": order.id,
            "shipment": shipment.id,
            "team": team.id,
            "job": job.id,
        }
    r = await client.post(
        "/api/v1/conversations",
        json={"customer_id": b.customer_id, "channel_id": b.channel_id, "message": "B's secret"},
        headers=b.h(),
    )
    assert r.status_code == 201
    ids["conversation"] = r.json()["id"]
    r = await client.get(f"/api/v1/conversations/{ids['conversation']}/messages", headers=b.h())
    ids["message"] = r.json()["items"][0]["id"]
    r = await client.post("/api/v1/tokens", json={"name": "b"}, headers=b.h("admin"))
    ids["token"] = r.json()["id"]
    return ids


async def test_agent_of_a_gets_404_for_everything_of_b(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    ids = await build_b(db, client, shop_b)
    a = shop_a.h("admin")  # even A's admin
    reads = [
        f"/api/v1/agents/{shop_b.agent_ids['agent']}",
        f"/api/v1/teams/{ids['team']}",
        f"/api/v1/channels/{shop_b.channel_id}",
        f"/api/v1/customers/{shop_b.customer_id}",
        f"/api/v1/customers/{shop_b.customer_id}/orders",
        f"/api/v1/customers/{shop_b.customer_id}/conversations",
        f"/api/v1/conversations/{ids['conversation']}",
        f"/api/v1/conversations/{ids['conversation']}/messages",
        f"/api/v1/conversations/{ids['conversation']}/events",
        f"/api/v1/messages/{ids['message']}",
        f"/api/v1/orders/{ids['order']}",
        f"/api/v1/shipments/{ids['shipment']}",
        f"/api/v1/products/{ids['product']}",
    ]
    before = await snapshot(db)
    for path in reads:
        r = await client.get(path, headers=a)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found", path

    conv = ids["conversation"]
    writes = [
        ("PATCH", f"/api/v1/agents/{shop_b.agent_ids['agent']}", {"name": "hacked"}),
        ("PUT", f"/api/v1/teams/{ids['team']}/members", {"agent_ids": []}),
        ("PATCH", f"/api/v1/channels/{shop_b.channel_id}", {"name": "hacked"}),
        ("PATCH", f"/api/v1/customers/{shop_b.customer_id}", {"name": "hacked"}),
        ("POST", f"/api/v1/customers/{shop_b.customer_id}/identities", {"kind": "email", "value": "x@y.z"}),
        ("POST", f"/api/v1/customers/{shop_a.customer_id}/merge", {"merge_customer_id": shop_b.customer_id}),
        ("POST", f"/api/v1/customers/{shop_b.customer_id}/merge", {"merge_customer_id": shop_a.customer_id}),
        ("PATCH", f"/api/v1/conversations/{conv}", {"priority": "urgent"}),
        ("POST", f"/api/v1/conversations/{conv}/assign", {"assignee_id": shop_a.agent_ids["agent"]}),
        ("POST", f"/api/v1/conversations/{conv}/status", {"status": "resolved"}),
        ("POST", f"/api/v1/conversations/{conv}/tags", {"add": ["x"]}),
        ("POST", f"/api/v1/conversations/{conv}/messages", {"text": "hi"}),
        ("POST", f"/api/v1/jobs/{ids['job']}/retry", None),
        ("DELETE", f"/api/v1/tokens/{ids['token']}", None),
        # A's own conversation pointed at B's objects
        (
            "POST",
            "/api/v1/conversations",
            {"customer_id": shop_b.customer_id, "channel_id": shop_a.channel_id},
        ),
        (
            "POST",
            "/api/v1/conversations",
            {"customer_id": shop_a.customer_id, "channel_id": shop_b.channel_id},
        ),
    ]
    for method, path, body in writes:
        r = await client.request(method, path, json=body, headers=a)
        assert r.status_code == 404, (method, path, r.text)
    assert await snapshot(db) == before

    # A's conversation may not link B's order, or be assigned to B's agent or team
    r = await client.post(
        "/api/v1/conversations",
        json={"customer_id": shop_a.customer_id, "channel_id": shop_a.channel_id},
        headers=a,
    )
    own = r.json()["id"]
    before = await snapshot(db)
    for method, path, body in [
        ("PATCH", f"/api/v1/conversations/{own}", {"order_id": ids["order"]}),
        ("POST", f"/api/v1/conversations/{own}/assign", {"assignee_id": shop_b.agent_ids["agent"]}),
        ("POST", f"/api/v1/conversations/{own}/assign", {"team_id": ids["team"]}),
        ("POST", f"/api/v1/conversations/{own}/messages", {"text": "x", "channel_id": shop_b.channel_id}),
    ]:
        r = await client.request(method, path, json=body, headers=a)
        assert r.status_code == 404, (method, path, r.text)
    assert await snapshot(db) == before


async def test_lists_only_show_own_shop(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    await build_b(db, client, shop_b)
    a = shop_a.h("admin")
    for path in ("/api/v1/conversations", "/api/v1/shipments", "/api/v1/products"):
        r = await client.get(path, headers=a)
        assert r.status_code == 200
        assert r.json() == {"items": [], "next_cursor": None}, path
    r = await client.get("/api/v1/customers", headers=a)
    assert [c["name"] for c in r.json()["items"]] == ["Customer of shop-a"]
    r = await client.get("/api/v1/orders", headers=a)
    assert r.json()["items"] == []
    r = await client.get("/api/v1/agents", headers=a)
    assert sorted(x["email"] for x in r.json()) == [
        "admin@shop-a.test",
        "agent@shop-a.test",
        "viewer@shop-a.test",
    ]
    r = await client.get("/api/v1/teams", headers=a)
    assert r.json() == []
    r = await client.get("/api/v1/channels", headers=a)
    assert [c["id"] for c in r.json()] == [shop_a.channel_id]
    r = await client.get("/api/v1/jobs", headers=a)
    assert r.json() == []
    r = await client.get(f"/api/v1/orders?customer_id={shop_b.customer_id}", headers=a)
    assert r.json()["items"] == []
    r = await client.get(f"/api/v1/conversations?customer_id={shop_b.customer_id}", headers=a)
    assert r.json()["items"] == []
