"""Builders for the assistant's acting tests: a shop with the assistant on, demo-store orders with
shipments, customers who write through the API channel, and readers for what the assistant did."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from storedesk.assistant.models import AssistantTurn
from storedesk.commerce.models import Order, OrderLine, Shipment, Store
from storedesk.conversations.models import Conversation, Message
from storedesk.customers.service import create_customer
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.kit.actor import SYSTEM
from storedesk.kit.time import utcnow
from storedesk.shops.service import update_shop
from tests.conftest import ShopWorld

ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")} | {
    "holidays": []
}
_ids = itertools.count(1)


async def enable_assistant(
    db: Database, shop: ShopWorld, *, languages: list[str] | None = None, extra: dict[str, Any] | None = None
) -> None:
    langs = languages or ["en", "de", "hu", "nb", "fr", "sv", "pl", "es"]
    async with db.transaction() as session:
        await update_shop(
            session,
            shop.id,
            SYSTEM,
            {
                "languages": langs,
                "business_hours": ALWAYS_OPEN,
                "policies": {"assistant": {"enabled": True, **(extra or {})}},
            },
        )


async def set_assistant_policy(db: Database, shop: ShopWorld, assistant: dict[str, Any]) -> None:
    """The shop's ``policies["assistant"]`` as given (business hours always open)."""
    async with db.transaction() as session:
        await update_shop(
            session, shop.id, SYSTEM, {"business_hours": ALWAYS_OPEN, "policies": {"assistant": assistant}}
        )


@dataclass
class Buyer:
    customer_id: int
    email: str


async def buyer(db: Database, shop: ShopWorld, email: str, name: str, language: str) -> Buyer:
    async with db.transaction() as session:
        customer = await create_customer(
            session, shop_id=shop.id, actor=SYSTEM, name=name, email=email, language=language
        )
        return Buyer(customer.id, email)


async def order(
    db: Database,
    shop: ShopWorld,
    who: Buyer,
    *,
    number: str,
    country: str = "DE",
    placed_hours_ago: float = 2,
    shipped: bool = False,
    carrier: str = "Magyar Posta",
    tracking: str = "RR123456785HU",
    eta_days: float = 2,
    delivered: bool = False,
) -> int:
    """A paid demo-store order (2 × vase at 20.00 + 4.90 shipping); shipped ones have one shipment."""
    now = utcnow()
    async with db.transaction() as s:
        store = (
            await s.execute(select(Store).where(Store.shop_id == shop.id, Store.platform == "demo"))
        ).scalar_one_or_none()
        if store is None:
            store = Store(shop_id=shop.id, platform="demo", name="Demo store", status="active", sync_state={})
            s.add(store)
            await s.flush()
        placed = now - timedelta(hours=placed_hours_ago)
        row = Order(
            shop_id=shop.id,
            store_id=store.id,
            external_id=f"ext-{number}-{next(_ids)}",
            number=number,
            customer_id=who.customer_id,
            email=who.email,
            currency="EUR",
            financial_status="paid",
            fulfillment_status="fulfilled" if shipped else "unfulfilled",
            subtotal_minor=4000,
            shipping_minor=490,
            total_minor=4490,
            placed_at=placed,
            platform_updated_at=placed,
            shipping_address={
                "name": "Test Buyer",
                "address1": "Fő utca 1",
                "city": "Budapest",
                "zip": "1011",
                "country_code": country,
            },
            tags=[],
        )
        s.add(row)
        await s.flush()
        s.add(
            OrderLine(
                shop_id=shop.id,
                order_id=row.id,
                external_id="L1",
                sku="VASE",
                title="Stoneware vase",
                quantity=2,
                unit_price_minor=2000,
                total_minor=4000,
            )
        )
        if shipped:
            s.add(
                Shipment(
                    shop_id=shop.id,
                    order_id=row.id,
                    external_id=f"S-{number}",
                    carrier=carrier,
                    tracking_number=tracking,
                    tracking_url=None,
                    status="delivered" if delivered else "in_transit",
                    shipped_at=placed + timedelta(hours=1),
                    estimated_delivery_at=now + timedelta(days=eta_days),
                    delivered_at=now - timedelta(hours=1) if delivered else None,
                )
            )
        await s.flush()
        return row.id


async def say(
    client: httpx.AsyncClient,
    shop: ShopWorld,
    text: str,
    *,
    email: str | None = None,
    visitor: str | None = None,
    conversation_id: int | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    sender = {"kind": "email", "value": email} if email else {"kind": "chat_visitor", "value": visitor}
    body: dict[str, Any] = {
        "provider_message_id": key or f"m-{next(_ids)}",
        "sender": sender,
        "text": text,
    }
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    r = await client.post(f"/api/v1/channels/{shop.channel_id}/inbound", json=body, headers=shop.h("agent"))
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


async def outbound_texts(db: Database, conversation_id: int) -> list[tuple[str, str]]:
    """(direction, text) of every assistant-written message, in order."""
    async with db.transaction() as s:
        rows = await s.execute(
            select(Message.direction, Message.text)
            .where(Message.conversation_id == conversation_id, Message.author_type == "assistant")
            .order_by(Message.id)
        )
        return [(str(d), str(t)) for d, t in rows.all()]


async def turns(db: Database, conversation_id: int) -> list[AssistantTurn]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(AssistantTurn)
            .where(AssistantTurn.conversation_id == conversation_id)
            .order_by(AssistantTurn.id)
        )
        return list(rows.scalars())


async def conversation(db: Database, conversation_id: int) -> Conversation:
    async with db.transaction() as s:
        row = await s.get(Conversation, conversation_id)
        assert row is not None
        return row


async def events(db: Database, shop_id: int, prefix: str) -> list[tuple[str, str, int | None]]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(Event.type, Event.actor_type, Event.order_id)
            .where(Event.shop_id == shop_id, Event.type.like(f"{prefix}%"))
            .order_by(Event.id)
        )
        return [(str(a), str(b), c) for a, b, c in rows.all()]


def moment(value: datetime) -> str:
    return value.isoformat()
