"""Product reviews: CSV import with linking, follow-ups for negative reviews, replies, the agent pages,
roles and tenant isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from storedesk.commerce.models import Order, Product, Variant
from storedesk.conversations.models import Conversation, Message
from storedesk.db.session import Database
from storedesk.kit.time import utcnow
from storedesk.surveys.models import Review
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio

CSV = """id,rating,title,body,product_sku,order_number,customer_email,author_name,language,published_at
r-1,5,Great boots,"Warm, dry, comfortable.",BOOT-42,1001,buyer@shop-a.example,Buyer,en,2025-05-02T10:00:00Z
r-2,1,Fell apart,The sole came off after a week.,,,new.person@example.de,Neue Person,de,2025-05-03
r-3,7,Too good,Out of range,,,,,,
"""


async def seed_catalogue(db: Database, shop: ShopWorld) -> int:
    async with db.transaction() as session:
        product = Product(shop_id=shop.id, handle="winter-boots", title="Winter boots")
        session.add(product)
        await session.flush()
        session.add(
            Variant(shop_id=shop.id, product_id=product.id, sku="BOOT-42", title="42", price_minor=9900)
        )
        order = Order(
            shop_id=shop.id,
            number="1001",
            customer_id=shop.customer_id,
            currency="EUR",
            financial_status="paid",
            fulfillment_status="fulfilled",
            subtotal_minor=9900,
            total_minor=9900,
            placed_at=utcnow(),
        )
        session.add(order)
        await session.flush()
        return order.id


async def test_import_link_follow_up_and_reply(
    db: Database, shop_a: ShopWorld, shop_b: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    order_id = await seed_catalogue(db, shop_a)
    headers = {**shop_a.h("agent"), "content-type": "text/csv"}
    assert (await client.post("/api/v1/reviews/import", content=CSV, headers=headers)).status_code == 403
    headers = {**shop_a.h("admin"), "content-type": "text/csv"}
    r = await client.post("/api/v1/reviews/import", content=CSV, headers=headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["created"], result["updated"], result["follow_ups"]) == (2, 0, 1)
    assert result["errors"] == [{"line": 4, "error": "rating must be a whole number from 1 to 5"}]

    async with db.transaction() as session:
        good, bad = (await session.execute(select(Review).order_by(Review.id))).scalars().all()
        assert (good.customer_id, good.order_id, good.product_title, good.follow_up_conversation_id) == (
            shop_a.customer_id,
            order_id,
            "Winter boots",
            None,
        )
        assert bad.customer_id not in (None, shop_a.customer_id)  # a new customer, from the email
        follow_up = (
            await session.execute(
                select(Conversation).where(Conversation.id == bad.follow_up_conversation_id)
            )
        ).scalar_one()
        note = (
            await session.execute(select(Message).where(Message.conversation_id == follow_up.id))
        ).scalar_one()
    assert (follow_up.priority, follow_up.customer_id, follow_up.subject) == (
        "high",
        bad.customer_id,
        "★☆☆☆☆ review: Fell apart",
    )
    assert (
        note.text
        == f"Negative review (1/5) of Fell apart\n“Fell apart”\nThe sole came off after a week.\nReview: /app/reviews/{bad.id}"
    )

    # importing again updates, and opens no second follow-up
    r = await client.post("/api/v1/reviews/import", content=CSV, headers=headers)
    assert (r.json()["created"], r.json()["updated"], r.json()["follow_ups"]) == (0, 2, 0)
    assert await count_rows(db, "reviews") == 2

    r = await client.get("/api/v1/reviews", params={"max_rating": 2}, headers=shop_a.h("viewer"))
    assert [x["external_id"] for x in r.json()["items"]] == ["r-2"]

    # another shop: nothing to see, nothing to change
    assert (await client.get(f"/api/v1/reviews/{bad.id}", headers=shop_b.h())).status_code == 404
    r = await client.post(f"/api/v1/reviews/{bad.id}/reply", json={"text": "Hijack"}, headers=shop_b.h())
    assert r.status_code == 404
    assert (await client.get("/api/v1/reviews", headers=shop_b.h())).json()["items"] == []
    assert (
        await client.post(f"/api/v1/reviews/{bad.id}/reply", json={"text": "x"}, headers=shop_a.h("viewer"))
    ).status_code == 403

    r = await client.post(
        f"/api/v1/reviews/{bad.id}/reply",
        json={"text": "We are sorry! A new pair is on its way."},
        headers=shop_a.h(),
    )
    assert r.status_code == 200
    assert (r.json()["reply_text"], r.json()["replied_by_agent_id"]) == (
        "We are sorry! A new pair is on its way.",
        shop_a.agent_ids["agent"],
    )
    async with db.transaction() as session:
        sent = (
            await session.execute(
                select(Message).where(
                    Message.conversation_id == follow_up.id, Message.direction == "outbound"
                )
            )
        ).scalar_one()
    assert (sent.text, sent.author_type, sent.meta) == (
        "We are sorry! A new pair is on its way.",
        "agent",
        {"review_id": bad.id},
    )


async def test_agent_pages(
    db: Database, shop_a: ShopWorld, shop_b: ShopWorld, client: httpx.AsyncClient
) -> None:
    await seed_catalogue(db, shop_a)
    await client.post(
        "/api/v1/reviews/import", content=CSV, headers={**shop_a.h("admin"), "content-type": "text/csv"}
    )
    async with db.transaction() as session:
        bad = (await session.execute(select(Review).where(Review.external_id == "r-2"))).scalar_one()
    r = await client.get("/app/reviews")
    assert r.status_code == 303 and r.headers["location"].startswith("/app/login")
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": "agent@shop-a.test", "password": "correct-horse-battery", "shop": "shop-a"},
    )
    assert login.status_code == 200
    csrf = login.json()["csrf_token"]
    r = await client.get("/app/reviews?negative=1")
    assert r.status_code == 200
    assert f'data-review="{bad.id}"' in r.text and "Fell apart" in r.text and "Great boots" not in r.text
    r = await client.get(f"/app/reviews/{bad.id}")
    assert r.status_code == 200
    assert "The sole came off after a week." in r.text and "Neue Person" in r.text  # the customer beside it
    r = await client.post(f"/app/reviews/{bad.id}/reply", data={"text": "Sorry!", "csrf_token": "wrong"})
    assert r.status_code == 403
    r = await client.post(
        f"/app/reviews/{bad.id}/reply", data={"text": "Sorry!", "message_customer": "1", "csrf_token": csrf}
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/app/reviews/{bad.id}")
    async with db.transaction() as session:
        assert (
            await session.execute(select(Review.reply_text).where(Review.id == bad.id))
        ).scalar_one() == "Sorry!"
    # shop B's agent: the review does not exist for them
    client.cookies.clear()
    await client.post(
        "/api/v1/auth/login",
        json={"email": "agent@shop-b.test", "password": "correct-horse-battery", "shop": "shop-b"},
    )
    assert (await client.get(f"/app/reviews/{bad.id}")).status_code == 404
