"""Erasing a customer's personal data: profile, identities, what they wrote (text, files, raw payloads),
their orders' contact data — and nothing of anyone else's; admins only, confirmed, tenant-scoped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from storedesk.assistant.models import AssistantTurn
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, Order
from storedesk.config import Settings
from storedesk.conversations.models import Attachment
from storedesk.db.session import Database
from storedesk.kit.time import utcnow
from tests.api.test_tenant_isolation import snapshot
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio


async def _rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def _inbound(
    client: httpx.AsyncClient, shop: ShopWorld, provider_id: str, email: str, body: str
) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/channels/{shop.channel_id}/inbound",
        json={
            "provider_message_id": provider_id,
            "sender": {"kind": "email", "value": email, "name": "Ola Nordmann" if "ola" in email else "Kari"},
            "text": body,
            "html": f"<p>{body}</p>",
            "subject": "Damaged parcel, Storgata 1, Oslo",
        },
        headers=shop.h(),
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def _file(db: Database, settings: Settings, shop: ShopWorld, message_id: int, content: bytes) -> Path:
    """A stored attachment, as the channels write them (content-addressed under the data dir)."""
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    key = f"{shop.id}/{digest[:2]}/{digest}"
    path = settings.data_dir / "attachments" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    async with db.transaction() as s:
        s.add(
            Attachment(
                shop_id=shop.id,
                message_id=message_id,
                filename="photo.jpg",
                content_type="image/jpeg",
                size=len(content),
                sha256=digest,
                storage_key=key,
            )
        )
    return path


async def test_erasure_removes_exactly_the_customers_data(
    client: httpx.AsyncClient, db: Database, settings: Settings, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    first = await _inbound(
        client, shop_a, "crm-1", "ola@example.no", "My vase from order 1042 arrived broken"
    )
    second = await _inbound(client, shop_a, "crm-2", "ola@example.no", "Call me on +47 912 34 567")
    other = await _inbound(client, shop_a, "crm-3", "kari@example.no", "Where is my parcel?")
    ola, cid = first["customer_id"], first["conversation_id"]
    assert second["customer_id"] == ola and other["customer_id"] != ola
    reply = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"text": "Sorry, a new vase is on its way.", "kind": "reply"},
        headers=shop_a.h(),
    )
    assert reply.status_code == 201
    shared = await _file(db, settings, shop_a, first["message_id"], b"same photo bytes")
    await _file(db, settings, shop_a, other["message_id"], b"same photo bytes")  # Kari sent the same file
    own = await _file(db, settings, shop_a, second["message_id"], b"only ola's photo")
    async with db.transaction() as s:
        s.add(
            Order(
                shop_id=shop_a.id,
                customer_id=ola,
                number="1042",
                email="ola@example.no",
                phone="+4791234567",
                currency="EUR",
                financial_status=FinancialStatus.paid,
                fulfillment_status=FulfillmentStatus.unfulfilled,
                subtotal_minor=4990,
                total_minor=4990,
                placed_at=utcnow(),
                shipping_address={"name": "Ola Nordmann", "address1": "Storgata 1", "city": "Oslo"},
            )
        )
    async with db.transaction() as s:
        s.add(
            AssistantTurn(
                shop_id=shop_a.id,
                conversation_id=cid,
                message_id=second["message_id"],
                status="done",
                intent="talk_to_human",
                entities={"phone": "+4791234567"},
                facts={"customer": "Ola Nordmann"},
                suggested_text="We will call you on +47 912 34 567.",
            )
        )
    url = f"/api/v1/customers/{ola}/redact"
    before = await snapshot(db)
    r = await client.post(url, json={"reason": "GDPR request"}, headers=shop_a.h("admin"))
    assert r.status_code == 422
    assert (
        r.json()["error"]["message"]
        == "erasing a customer's personal data cannot be undone: send confirm: true"
    )
    for who, shop, status in (("agent", shop_a, 403), ("viewer", shop_a, 403), ("admin", shop_b, 404)):
        r = await client.post(url, json={"reason": "GDPR request", "confirm": True}, headers=shop.h(who))
        assert r.status_code == status, who
    assert await snapshot(db) == before

    r = await client.post(url, json={"reason": "GDPR request", "confirm": True}, headers=shop_a.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json() == {"customer_id": ola, "messages": 2, "attachments": 2, "orders": 1, "inbound_events": 2}
    assert await _rows(
        db, "SELECT name, email, phone, address, note FROM customers WHERE id = :c", c=ola
    ) == [(None, None, None, None, None)]
    assert await _rows(db, "SELECT count(*) FROM customer_identities WHERE customer_id = :c", c=ola) == [(0,)]
    texts = await _rows(
        db, "SELECT author_type, text, html FROM messages WHERE conversation_id = :c ORDER BY id", c=cid
    )
    assert texts == [
        ("customer", "", None),
        ("customer", "", None),
        ("agent", "Sorry, a new vase is on its way.", None),
    ]
    assert await _rows(db, "SELECT subject FROM conversations WHERE customer_id = :c", c=ola) == [(None,)]
    (entities, facts, suggested, intent) = (
        await _rows(db, "SELECT entities, facts, suggested_text, intent FROM assistant_turns")
    )[0]
    assert ([json.loads(v) if isinstance(v, str) else v for v in (entities, facts)], suggested, intent) == (
        [{}, {}],
        None,
        "talk_to_human",
    )
    assert await _rows(db, "SELECT dedupe_key FROM inbound_events ORDER BY id") == [
        (f"{shop_a.channel_id}:crm-3",)
    ]
    assert await _rows(
        db, "SELECT email, phone, shipping_address FROM orders WHERE customer_id = :c", c=ola
    ) == [(None, None, None)]
    # Kari's message and her copy of the same file are untouched; Ola's own file is gone from disk
    assert await _rows(db, "SELECT text FROM messages WHERE id = :m", m=other["message_id"]) == [
        ("Where is my parcel?",)
    ]
    assert await _rows(db, "SELECT message_id FROM attachments") == [(other["message_id"],)]
    assert shared.exists() and not own.exists()
    (data,) = (await _rows(db, "SELECT data FROM events WHERE type = 'customer.redacted'"))[0]
    data = json.loads(data) if isinstance(data, str) else data
    assert data == {
        "reason": "GDPR request",
        "messages": 2,
        "attachments": 2,
        "orders": 1,
        "inbound_events": 2,
    }

    # the address no longer resolves to the erased customer: writing again starts a new one
    again = await _inbound(client, shop_a, "crm-4", "ola@example.no", "Hello again")
    assert again["customer_id"] not in (ola, other["customer_id"])
