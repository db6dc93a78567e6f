"""Website chat widget over HTTP: sessions, messages both ways, attachments, presence, offline form."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from storedesk.agents.models import AuthToken
from storedesk.channels.widget import service
from storedesk.db.session import Database
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop
from tests.channels.conftest import sqlite_only
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def start(client: httpx.AsyncClient, token: str | None = None, slug: str = "shop-a") -> dict:
    r = await client.post(f"/widget/{slug}/session", json={"token": token, "language": "de-DE"})
    assert r.status_code == 200, r.text
    return r.json()


async def say(
    client: httpx.AsyncClient, token: str, text: str, client_id: str, slug: str = "shop-a"
) -> httpx.Response:
    return await client.post(
        f"/widget/{slug}/messages", json={"token": token, "text": text, "client_id": client_id}
    )


async def test_session_messages_and_agent_reply(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    s = await start(client)
    assert s["conversation_id"] is None and s["messages"] == []
    again = await start(client, s["token"])
    assert again["token"] == s["token"]
    assert await count_rows(db, "chat_sessions") == 1

    r = await client.post(
        "/widget/shop-a/identify",
        json={"token": s["token"], "name": "Anna", "email": "Anna@Example.de", "order_number": "1042"},
    )
    assert r.json() == {"identified": {"name": "Anna", "email": "anna@example.de", "order_number": "1042"}}
    r = await say(client, s["token"], "Wo ist meine Bestellung?", "c1aaaaaaaa")
    assert r.status_code == 201
    conversation_id = r.json()["conversation_id"]
    r2 = await say(client, s["token"], "Wo ist meine Bestellung?", "c1aaaaaaaa")  # retried POST
    assert r2.json()["message"]["id"] == r.json()["message"]["id"]
    await say(client, s["token"], "Hallo?", "c2bbbbbbbb")

    conv = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=shop_a.h())).json()
    assert (conv["message_count"], conv["language"]) == (2, "de")
    customer = (await client.get(f"/api/v1/customers/{conv['customer_id']}", headers=shop_a.h())).json()
    assert customer["name"] == "Anna"
    assert sorted(i["kind"] for i in customer["identities"]) == ["chat_visitor", "email"]

    await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Sie kommt morgen."},
        headers=shop_a.h(),
    )
    await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "internal: check DHL", "kind": "note"},
        headers=shop_a.h(),
    )
    await run_jobs()
    r = await client.get("/widget/shop-a/messages", params={"token": s["token"], "after_id": 0})
    assert [(m["from"], m["text"], m["author"]) for m in r.json()["messages"]] == [
        ("visitor", "Wo ist meine Bestellung?", None),
        ("visitor", "Hallo?", None),
        ("agent", "Sie kommt morgen.", "Agent"),
    ]
    resumed = await start(client, s["token"])
    assert [m["text"] for m in resumed["messages"]] == [
        "Wo ist meine Bestellung?",
        "Hallo?",
        "Sie kommt morgen.",
    ]


async def test_forged_or_foreign_tokens(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    s = await start(client)
    await start(client, slug="shop-b")
    version, shop, _visitor, sig = s["token"].split(".")
    forged = ".".join([version, shop, "someone-else", sig])
    before = await count_rows(db, "messages")
    assert (await say(client, forged, "hi", "c1aaaaaaaa")).status_code == 401
    assert (await say(client, s["token"], "hi", "c1aaaaaaaa", slug="shop-b")).status_code == 401
    assert (await client.get("/widget/shop-a/messages", params={"token": forged})).status_code == 401
    assert await count_rows(db, "messages") == before
    fresh = await start(client, forged)
    assert fresh["token"] != forged


async def test_one_customer_chat_then_email(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    s = await start(client)
    await client.post("/widget/shop-a/identify", json={"token": s["token"], "email": "anna@example.de"})
    r = await say(client, s["token"], "Chat first", "c1aaaaaaaa")
    chat_conv = r.json()["conversation_id"]
    r = await client.post(
        f"/api/v1/channels/{shop_a.channel_id}/inbound",
        json={
            "provider_message_id": "<abc@mail.example>",
            "sender": {"kind": "email", "value": "ANNA@example.de"},
            "text": "Then by email",
        },
        headers=shop_a.h(),
    )
    customer_id = r.json()["customer_id"]
    convs = (await client.get(f"/api/v1/customers/{customer_id}/conversations", headers=shop_a.h())).json()[
        "items"
    ]
    assert sorted(c["id"] for c in convs) == sorted([chat_conv, r.json()["conversation_id"]])


@sqlite_only
async def test_attachments(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    s = await start(client)
    other = await start(client)
    data = png()
    r = await client.post(
        "/widget/shop-a/attachments",
        data={"token": s["token"], "client_id": "file0000001"},
        files={"file": ("../../photo.png", data, "text/plain")},
    )
    assert r.status_code == 201, r.text
    att = r.json()["message"]["attachments"][0]
    assert (att["filename"], att["content_type"], att["size"]) == ("photo.png", "image/png", len(data))
    r = await client.get(att["url"])
    assert (r.status_code, r.content, r.headers["content-type"]) == (200, data, "image/png")
    attachment_id = att["url"].split("/")[-1].split("?")[0]
    r = await client.get(f"/widget/shop-a/attachments/{attachment_id}", params={"token": other["token"]})
    assert r.status_code == 404
    r = await client.get(f"/api/v1/attachments/{attachment_id}/content", headers=shop_a.h())
    assert r.content == data
    before = await count_rows(db, "attachments")
    r = await client.post(
        "/widget/shop-a/attachments",
        data={"token": s["token"], "client_id": "file0000002"},
        files={"file": ("evil.png", b"<script>alert(1)</script>", "image/png")},
    )
    assert r.status_code == 422
    assert r.json()["error"]["message"] == (
        "only images (PNG, JPEG, GIF, WebP), PDF files and documents (Word, Excel, OpenDocument) can be sent"
    )
    assert await count_rows(db, "attachments") == before


@sqlite_only
async def test_rate_limit_per_visitor(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    s = await start(client)
    for i in range(20):
        assert (await say(client, s["token"], f"m{i}", f"client{i:05d}")).status_code == 201
    r = await say(client, s["token"], "one too many", "client99999")
    assert r.status_code == 429
    assert await count_rows(db, "messages") == 20


@sqlite_only
async def test_presence_and_offline_form(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Shop)
            .where(Shop.id == shop_a.id)
            .values(business_hours={"mon": [["09:00", "17:00"]], "holidays": []})
        )
    r = await client.get("/widget/shop-a/config")
    assert (r.status_code, sorted(r.json())) == (200, ["languages", "online", "shop"])
    async with db.sessionmaker() as session:
        shop = await session.get(Shop, shop_a.id)
        assert shop is not None
        assert (
            service.within_business_hours(shop, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)) is True
        )  # Monday 11:00 Berlin
        assert (
            service.within_business_hours(shop, datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) is False
        )  # Tuesday
        assert (
            service.within_business_hours(shop, datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) is False
        )  # 17:30 Berlin
        sunday = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
        assert await service.agents_online(session, shop, now=sunday) is False
    r = await client.post(
        "/api/v1/auth/login",
        json={"email": "agent@shop-a.test", "password": "correct-horse-battery", "shop": "shop-a"},
    )
    assert r.status_code in (200, 201), r.text
    async with db.sessionmaker() as session:
        shop = await session.get(Shop, shop_a.id)
        assert shop is not None
        assert await service.agents_online(session, shop, now=utcnow()) is True
    async with db.transaction() as session:
        await session.execute(
            update(AuthToken).values(created_at=utcnow() - timedelta(minutes=6), last_used_at=None)
        )
    async with db.sessionmaker() as session:
        shop = await session.get(Shop, shop_a.id)
        assert shop is not None
        # a Sunday after today (no business hours), long after the last use of the session
        today = utcnow()
        later_sunday = (today + timedelta(days=(6 - today.weekday()) % 7 or 7)).replace(hour=10, minute=0)
        assert await service.agents_online(session, shop, now=later_sunday) is False

    r = await client.post(
        "/widget/shop-a/offline",
        json={"name": "Lars", "email": "lars@example.no", "text": "Ring me back", "client_id": "offline0001"},
    )
    assert r.status_code == 201
    conv = (
        await client.get(f"/api/v1/conversations/{r.json()['conversation_id']}", headers=shop_a.h())
    ).json()
    customer = (await client.get(f"/api/v1/customers/{conv['customer_id']}", headers=shop_a.h())).json()
    assert (customer["name"], customer["email"]) == ("Lars", "lars@example.no")
    r = await client.post(
        "/widget/shop-a/offline",
        json={"name": "Lars", "email": "lars@example.no", "text": "Ring me back", "client_id": "offline0001"},
    )
    assert r.json()["created"] is False


@sqlite_only
async def test_static_assets_and_demo_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/widget/storedesk.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/javascript")
    r = await client.get("/demo/store")
    assert r.status_code == 200
    assert '<script src="/widget/storedesk.js" data-shop="demo" async></script>' in r.text
    r = await client.get("/demo/store", params={"shop": '"><script>'})
    assert r.status_code == 422


def test_token_roundtrip_and_rotation() -> None:
    token = service.issue_token(["old-key"], 7, "visitor1")
    assert service.read_token(["new-key", "old-key"], 7, token) == "visitor1"
    assert service.read_token(["new-key"], 7, token) is None
    assert service.read_token(["old-key"], 8, token) is None
