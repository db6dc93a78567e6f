"""The generic API channel, the contact form, one customer across channels, duplicate suggestions."""

from __future__ import annotations

import httpx
import pytest

from storedesk.channels.models import ChannelKind
from storedesk.db.session import Database
from tests.channels.conftest import add_channel, sqlite_only
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio

TABLES = ("inbound_events", "messages", "conversations", "customers", "customer_identities", "events")


async def counts(db: Database) -> dict[str, int]:
    return {t: await count_rows(db, t) for t in TABLES}


def inbound(
    provider_id: str = "crm-1", email: str = "Ola.Nordmann@Example.NO", text: str = "My order 1042 is damaged"
) -> dict:
    return {
        "provider_message_id": provider_id,
        "sender": {"kind": "email", "value": email, "name": "Ola Nordmann"},
        "text": text,
        "html": "<p>My order <b>1042</b> is damaged<script>alert(1)</script></p>",
        "subject": "Damaged parcel",
    }


async def test_api_inbound_is_idempotent(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    url = f"/api/v1/channels/{shop_a.channel_id}/inbound"
    r = await client.post(url, json=inbound(), headers=shop_a.h())
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["created"] is True
    after = await counts(db)
    r = await client.post(url, json=inbound(), headers=shop_a.h())
    assert r.status_code == 200
    assert r.json() == {**first, "created": False}
    assert await counts(db) == after
    msg = (await client.get(f"/api/v1/messages/{first['message_id']}", headers=shop_a.h())).json()
    assert msg["html"] == "<p>My order <b>1042</b> is damaged</p>"
    customer = (await client.get(f"/api/v1/customers/{first['customer_id']}", headers=shop_a.h())).json()
    assert (customer["name"], customer["email"]) == ("Ola Nordmann", "ola.nordmann@example.no")


@sqlite_only
async def test_api_inbound_with_channel_secret(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    channel_id = await add_channel(
        db, shop_a, ChannelKind.api, external_id="crm", credentials={"inbound_secret": "s3cret-channel"}
    )
    url = f"/api/v1/channels/{channel_id}/inbound"
    before = await counts(db)
    r = await client.post(url, json=inbound(), headers={"X-Storedesk-Channel-Secret": "wrong"})
    assert r.status_code == 401
    r = await client.post(url, json=inbound())
    assert r.status_code == 401
    assert await counts(db) == before
    r = await client.post(url, json=inbound(), headers={"X-Storedesk-Channel-Secret": "s3cret-channel"})
    assert r.status_code == 201


async def test_api_inbound_refuses_other_shop_and_viewers(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    before = await counts(db)
    r = await client.post(
        f"/api/v1/channels/{shop_b.channel_id}/inbound", json=inbound(), headers=shop_a.h("admin")
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.post(
        f"/api/v1/channels/{shop_a.channel_id}/inbound", json=inbound(), headers=shop_a.h("viewer")
    )
    assert r.status_code == 403
    assert await counts(db) == before


async def test_one_customer_across_channels_and_the_timeline(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    webform_id = await add_channel(db, shop_a, ChannelKind.webform, name="Contact form")
    r = await client.post(f"/api/v1/channels/{shop_a.channel_id}/inbound", json=inbound(), headers=shop_a.h())
    customer_id = r.json()["customer_id"]
    r = await client.post(
        "/forms/shop-a/contact",
        data={
            "name": "Ola Nordmann",
            "email": "ola.nordmann@example.no",
            "subject": "Returns",
            "message": "How do I return boots?",
            "website": "",
        },
    )
    assert r.status_code == 201
    convs = (await client.get(f"/api/v1/customers/{customer_id}/conversations", headers=shop_a.h())).json()[
        "items"
    ]
    assert sorted((c["channel_id"], c["subject"]) for c in convs) == sorted(
        [(shop_a.channel_id, "Damaged parcel"), (webform_id, "Returns")]
    )


@sqlite_only
async def test_webform_honeypot_rate_limit_and_html_answer(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await add_channel(db, shop_a, ChannelKind.webform)
    before = await counts(db)
    r = await client.post(
        "/forms/shop-a/contact",
        data={"email": "bot@spam.example", "message": "buy now", "website": "http://spam.example"},
    )
    assert r.status_code == 201
    assert await counts(db) == before  # the bot is told "received", nothing is stored
    r = await client.post(
        "/forms/shop-a/contact",
        data={"email": "anna@example.de", "message": "Hallo", "redirect": "https://shop.example/thanks"},
        headers={"Accept": "text/html"},
    )
    assert (r.status_code, r.headers["location"]) == (303, "https://shop.example/thanks")
    r = await client.post("/forms/shop-a/contact", data={"email": "anna@example.de", "message": "Hallo"})
    assert r.json() == {"status": "duplicate"}  # the same submission again within the hour
    for i in range(3):
        r = await client.post(
            "/forms/shop-a/contact", data={"email": "anna@example.de", "message": f"again {i}"}
        )
    assert r.status_code == 429
    assert r.headers["retry-after"].isdigit()
    assert await count_rows(db, "conversations") == before["conversations"] + 3
    r = await client.get("/forms/shop-a/contact")
    assert r.status_code == 200 and 'name="website"' in r.text


@sqlite_only
async def test_duplicate_suggestions(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    async def customer(**body: str) -> int:
        r = await client.post("/api/v1/customers", json=body, headers=shop_a.h())
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    target = await customer(name="Zoë Müller", email="zoe.mueller@gmail.com", phone="+44 7700 900123")
    dots = await customer(name="Someone Else", email="zoemueller+shop@googlemail.com")
    phone_and_name = await customer(name="MÜLLER Zoe", phone="+49 7700 900123")
    phone_only = await customer(name="Max Weber", phone="+43 7700 900123")
    await customer(name="Zoë Müller")  # same name alone is not enough
    r = await client.get(f"/api/v1/customers/{target}/duplicates", headers=shop_a.h())
    assert r.status_code == 200
    assert [(d["customer_id"], d["reasons"], d["score"]) for d in r.json()] == [
        (phone_and_name, ["phone variant", "same name"], 0.9),
        (dots, ["email variant"], 0.6),
    ]
    assert phone_only not in [d["customer_id"] for d in r.json()]
    r = await client.get(f"/api/v1/customers/{target}/duplicates", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
