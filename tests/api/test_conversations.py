from __future__ import annotations

import httpx
import pytest

from storedesk.channels.models import ChannelKind
from storedesk.channels.service import create_channel
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio


async def open_conv(
    client: httpx.AsyncClient, shop: ShopWorld, text: str = "Where is my order 1234?"
) -> dict:
    r = await client.post(
        "/api/v1/conversations",
        json={
            "customer_id": shop.customer_id,
            "channel_id": shop.channel_id,
            "subject": "Order",
            "message": text,
        },
        headers=shop.h(),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_open_reply_resolve_reopen(client: httpx.AsyncClient, shop_a: ShopWorld, run_jobs) -> None:
    conv = await open_conv(client, shop_a)
    assert conv["number"] == 1
    assert conv["status"] == "open"
    assert conv["message_count"] == 1
    assert conv["waiting_since"] is not None
    assert conv["first_response_at"] is None

    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/messages", json={"text": "It ships today."}, headers=shop_a.h()
    )
    assert r.status_code == 201
    reply = r.json()
    assert reply["direction"] == "outbound"
    assert reply["author_type"] == "agent"
    assert reply["author_agent_id"] == shop_a.agent_ids["agent"]
    assert reply["delivery_status"] == "queued"

    assert await run_jobs() == 1
    r = await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())
    assert r.json()["delivery_status"] == "sent"

    r = await client.get(f"/api/v1/conversations/{conv['id']}", headers=shop_a.h())
    body = r.json()
    assert body["first_response_at"] == reply["created_at"]
    assert body["waiting_since"] is None
    assert body["message_count"] == 2

    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/status", json={"status": "resolved"}, headers=shop_a.h()
    )
    assert r.status_code == 200
    assert r.json()["status"] == "resolved"
    assert r.json()["resolved_at"] is not None

    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/status", json={"status": "open"}, headers=shop_a.h()
    )
    assert r.json()["status"] == "open"
    assert r.json()["reopened_count"] == 1
    assert r.json()["resolved_at"] is None

    r = await client.get(f"/api/v1/conversations/{conv['id']}/events", headers=shop_a.h())
    types = [e["type"] for e in r.json()]
    assert types == [
        "conversation.created",
        "message.received",
        "message.created",
        "message.sent",
        "conversation.status_changed",
        "conversation.status_changed",
    ]


async def test_invalid_transition_changes_nothing(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    conv = await open_conv(client, shop_a)
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/status", json={"status": "closed"}, headers=shop_a.h()
    )
    assert r.status_code == 200
    events_before = await count_rows(db, "events")
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/status", json={"status": "open"}, headers=shop_a.h()
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "invalid_transition"
    assert r.json()["error"]["details"] == {"from": "closed", "to": "open"}
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/messages", json={"text": "hi"}, headers=shop_a.h()
    )
    assert r.status_code == 409
    assert await count_rows(db, "events") == events_before
    assert await count_rows(db, "messages") == 1
    assert await count_rows(db, "jobs") == 0


async def test_reply_channel_choice_notes_and_refusals(
    client: httpx.AsyncClient, shop_a: ShopWorld, shop_b: ShopWorld, db: Database, box: SecretBox
) -> None:
    """The reply path's one-statement case and its fallbacks: another channel of the shop, a foreign
    channel, a foreign conversation, a closed conversation (notes still allowed)."""
    conv = await open_conv(client, shop_a)
    url = f"/api/v1/conversations/{conv['id']}/messages"
    async with db.transaction() as s:
        other = await create_channel(
            s, shop_id=shop_a.id, actor=SYSTEM, box=box, kind=ChannelKind.api, name="API 2", external_id="a2"
        )

    r = await client.post(
        url, json={"text": "Same channel", "channel_id": shop_a.channel_id}, headers=shop_a.h()
    )
    assert r.status_code == 201, r.text
    assert r.json()["channel_id"] == shop_a.channel_id
    r = await client.post(url, json={"text": "Other channel", "channel_id": other.id}, headers=shop_a.h())
    assert r.status_code == 201, r.text
    assert r.json()["channel_id"] == other.id

    before = {t: await count_rows(db, t) for t in ("messages", "events", "jobs")}
    r = await client.post(url, json={"text": "x", "channel_id": shop_b.channel_id}, headers=shop_a.h())
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.post(url, json={"text": "x"}, headers=shop_b.h())
    assert r.status_code == 404
    assert {t: await count_rows(db, t) for t in before} == before

    r = await client.get(f"/api/v1/conversations/{conv['id']}", headers=shop_a.h())
    assert r.json()["message_count"] == 3
    assert r.json()["last_message_at"] == r.json()["last_activity_at"]

    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/status", json={"status": "closed"}, headers=shop_a.h()
    )
    assert r.status_code == 200
    r = await client.post(url, json={"text": "Too late", "channel_id": other.id}, headers=shop_a.h())
    assert r.status_code == 409
    assert r.json()["error"]["details"] == {"status": "closed"}
    r = await client.post(url, json={"text": "For the record", "kind": "note"}, headers=shop_a.h())
    assert r.status_code == 201, r.text
    assert (r.json()["direction"], r.json()["channel_id"], r.json()["delivery_status"]) == (
        "note",
        None,
        "received",
    )
    r = await client.get(f"/api/v1/conversations/{conv['id']}", headers=shop_a.h())
    assert r.json()["message_count"] == 3  # notes are not counted
    assert await count_rows(db, "jobs") == before["jobs"]  # and never sent
