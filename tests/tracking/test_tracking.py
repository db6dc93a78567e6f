"""The tracking page on SQLite and PostgreSQL: lookup, signed links, the customer's language and time
zone, late parcels, neutral failures with the same shape, rate limits, embedding and tenant isolation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from storedesk.db.session import Database
from storedesk.tracking.links import LinkSigner
from tests.conftest import TEST_SECRET, ShopWorld
from tests.helpcenter.kit import client_for, seed_order

pytestmark = pytest.mark.anyio
TOKEN = re.compile(r"/track/shop-a/o/([A-Za-z0-9_-]{43})")


async def test_lookup_and_the_order_page_in_the_customers_language(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    seeded = await seed_order(db, shop_a.id, delivered_days_ago=None, eta_days=-3)  # in transit, 3 days late
    found = await client.post(
        "/track/shop-a?lang=de",
        data={"number": " #100234 ", "email": "Lena@Example.de", "tz": "Europe/Berlin"},
    )
    assert found.status_code == 303
    location = found.headers["location"]
    assert TOKEN.match(location) and location.endswith("?lang=de&tz=Europe%2FBerlin")
    page = await client.get(location)
    assert page.status_code == 200
    text = page.text
    assert '<html lang="de">' in text
    assert "Bestellung 100234" in text
    assert 'data-status="in_transit"' in text and "Unterwegs" in text
    # carrier phrases in German, unknown ones shown as they are, newest first
    assert (
        text.index("Im Zustellstützpunkt angekommen")
        < text.index("Von DHL abgeholt")
        < text.index("Sendungsdaten übermittelt")
    )
    assert "Sortierung abgeschlossen" in text
    assert "Ihr Paket ist verspätet" in text and 'data-late="3"' in text
    assert "Zeiten in Ihrer Zeitzone (Europe/Berlin)." in text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert seeded.order_id > 0


async def test_times_follow_the_readers_time_zone(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await seed_order(db, shop_a.id)
    found = await client.post("/track/shop-a?lang=en", data={"number": "100234", "email": "lena@example.de"})
    link = found.headers["location"].split("?")[0]
    berlin = (await client.get(link + "?lang=en&tz=Europe/Berlin")).text
    tokyo = (await client.get(link + "?lang=en&tz=Asia/Tokyo")).text
    times = re.compile(r'<time datetime="([^"]+)">([^<]+)</time>')
    first_berlin, first_tokyo = times.findall(berlin)[0], times.findall(tokyo)[0]
    assert first_berlin[0] == first_tokyo[0]  # the same instant …
    moment = datetime.fromisoformat(first_berlin[0])
    from zoneinfo import ZoneInfo

    from storedesk.helpcenter.public import fmt_datetime

    assert first_berlin[1] == fmt_datetime(moment, "en", ZoneInfo("Europe/Berlin"))  # … shown in each zone
    assert first_tokyo[1] == fmt_datetime(moment, "en", ZoneInfo("Asia/Tokyo"))
    assert first_berlin[1] != first_tokyo[1]
    assert "Times are shown in your time zone (Asia/Tokyo)." in tokyo


async def test_wrong_combinations_look_the_same(
    app: FastAPI, client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await seed_order(db, shop_a.id, number="100234")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        shapes = []
        for number, email in [("100234", "someone@else.example"), ("999999", "lena@example.de")]:
            statements.clear()
            response = await client.post("/track/shop-a?lang=en", data={"number": number, "email": email})
            shapes.append((response.status_code, response.text.replace(number, "N"), len(statements)))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert shapes[0] == shapes[1]
    assert shapes[0][0] == 200
    assert "We could not find an order with these details." in shapes[0][1]


async def test_lookups_are_rate_limited_per_address_and_per_order(
    app: FastAPI, db: Database, shop_a: ShopWorld
) -> None:
    await seed_order(db, shop_a.id)
    async with client_for(app, "198.51.100.1") as one:
        codes = [
            (
                await one.post("/track/shop-a", data={"number": f"9{i:05d}", "email": "x@example.com"})
            ).status_code
            for i in range(11)
        ]
    assert codes == [200] * 10 + [429]
    # one order number from many addresses: the ninth attempt within 15 minutes is refused, and then even
    # the right email cannot get through (the limit does not depend on whether the order exists)
    statuses = []
    for i in range(9):
        async with client_for(app, f"192.0.2.{i + 10}") as other:
            statuses.append(
                (
                    await other.post("/track/shop-a", data={"number": "100234", "email": "no@example.com"})
                ).status_code
            )
    assert statuses == [200] * 8 + [429]
    async with client_for(app, "192.0.2.99") as fresh:
        blocked = await fresh.post("/track/shop-a", data={"number": "100234", "email": "lena@example.de"})
        assert (blocked.status_code, blocked.headers["retry-after"]) == (429, "60")
        assert "Too many attempts" in blocked.text
        # a signed link from a message still works
        signer = LinkSigner([TEST_SECRET])
        async with db.transaction() as session:
            from sqlalchemy import select

            from storedesk.commerce.models import Order

            order_id = (await session.execute(select(Order.id))).scalar_one()
        assert (
            await fresh.get(f"/track/shop-a/o/{signer.sign('order', shop_a.id, order_id)}")
        ).status_code == 200


async def test_forged_expired_and_foreign_links(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    seeded = await seed_order(db, shop_a.id)
    signer = LinkSigner([TEST_SECRET])
    good = signer.sign("order", shop_a.id, seeded.order_id)
    forged = LinkSigner(["another-secret"]).sign("order", shop_a.id, seeded.order_id)
    guessed = signer.sign("order", shop_a.id, seeded.order_id)[:-2] + "AA"
    expired = signer.sign(
        "order", shop_a.id, seeded.order_id, now=datetime(2020, 1, 1), ttl=timedelta(days=1)
    )
    wrong_kind = signer.sign("return", shop_a.id, seeded.order_id)
    assert (await client.get(f"/track/shop-a/o/{good}")).status_code == 200
    for token in (forged, guessed, expired, wrong_kind, "x" * 43, "short"):
        response = await client.get(f"/track/shop-a/o/{token}?lang=en")
        assert response.status_code == 404
        assert "This link is no longer valid." in response.text
        assert "100234" not in response.text
    foreign = await client.get(f"/track/shop-b/o/{good}?lang=en")
    assert foreign.status_code == 404 and "100234" not in foreign.text
    # shop B's own lookup does not see shop A's orders
    miss = await client.post("/track/shop-b?lang=en", data={"number": "100234", "email": "lena@example.de"})
    assert miss.status_code == 200 and "We could not find an order" in miss.text


def test_link_signer_rotation_and_tampering() -> None:
    old = LinkSigner(["old-key"])
    rotated = LinkSigner(["new-key", "old-key"])
    token = old.sign("order", 7, 42)
    target = rotated.verify(token, "order")
    assert target is not None and (target.shop_id, target.object_id) == (7, 42)
    assert LinkSigner(["new-key"]).verify(token, "order") is None
    assert rotated.verify(token, "return") is None
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert rotated.verify(flipped, "order") is None


async def test_embed_and_the_api_link(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    seeded = await seed_order(db, shop_a.id)
    embedded = await client.get("/track/shop-a?embed=1&lang=fr")
    assert embedded.status_code == 200
    assert '<body class="embed">' in embedded.text and '<header class="top">' not in embedded.text
    assert "Suivre votre commande" in embedded.text
    assert "frame-ancestors *" in embedded.headers["content-security-policy"]
    assert "x-frame-options" not in embedded.headers
    found = await client.post(
        "/track/shop-a?embed=1&lang=fr", data={"number": "100234", "email": "lena@example.de"}
    )
    assert found.headers["location"].endswith("?lang=fr&embed=1")
    link = await client.get(f"/api/v1/orders/{seeded.order_id}/tracking-link", headers=shop_a.h("viewer"))
    assert link.status_code == 200
    url = link.json()["url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/track/shop-a/o/[A-Za-z0-9_-]{43}", url)
    page = await client.get(url.replace("http://127.0.0.1:8000", ""))
    assert page.status_code == 200 and "100234" in page.text
    assert (
        await client.get(f"/api/v1/orders/{seeded.order_id}/tracking-link", headers=shop_b.h())
    ).status_code == 404
