"""Helpers for the agent workspace tests: sign in through the form, read the CSRF token, seed data."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from storedesk.agents.models import Role
from storedesk.agents.service import create_agent
from storedesk.commerce.models import Order, OrderLine, Shipment, TrackingEvent
from storedesk.conversations import service as conversations
from storedesk.conversations.models import Direction
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.time import utcnow
from storedesk.knowledge.macros import save_macro

PASSWORD = "correct-horse-battery"
CSRF_META = re.compile(r'name="csrf_token" value="([^"]+)"')


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the HTML form; returns the session's CSRF token."""
    page = await client.get("/app/login")
    form_token = CSRF_META.search(page.text)
    assert form_token is not None
    r = await client.post(
        "/app/login",
        data={"email": email, "password": password, "csrf_token": form_token.group(1), "next": "/app/inbox"},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/app/inbox"
    inbox = await client.get("/app/inbox")
    assert inbox.status_code == 200
    token = CSRF_META.search(inbox.text)
    assert token is not None
    return token.group(1)


@dataclass
class Seeded:
    conversation_id: int
    order_number: str
    macro_id: int


async def seed_conversation(
    db: Database,
    shop_id: int,
    customer_id: int,
    channel_id: int,
    *,
    text: str = "Where is my order 100234?",
    html: str | None = None,
    subject: str = "Where is my parcel?",
    language: str = "de",
) -> Seeded:
    async with db.transaction() as session:
        conversation = await conversations.open_conversation(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            customer_id=customer_id,
            channel_id=channel_id,
            subject=subject,
            language=language,
        )
        await conversations.add_message(
            session,
            shop_id=shop_id,
            actor=Actor("customer", customer_id),
            conversation_id=conversation.id,
            direction=Direction.inbound,
            text=text,
            html=html,
        )
        order = Order(
            shop_id=shop_id,
            number="100234",
            customer_id=customer_id,
            currency="EUR",
            financial_status="paid",
            fulfillment_status="fulfilled",
            subtotal_minor=4990,
            total_minor=5480,
            placed_at=utcnow(),
        )
        session.add(order)
        await session.flush()
        session.add(
            OrderLine(
                shop_id=shop_id,
                order_id=order.id,
                sku="TS-1",
                title="Organic T-shirt",
                variant_title="M / blue",
                quantity=2,
                unit_price_minor=2495,
                total_minor=4990,
            )
        )
        shipment = Shipment(
            shop_id=shop_id,
            order_id=order.id,
            carrier="DHL",
            tracking_number="JJD000390007",
            tracking_url="https://track.example/JJD000390007",
            status="in_transit",
        )
        session.add(shipment)
        await session.flush()
        session.add(
            TrackingEvent(
                shop_id=shop_id,
                shipment_id=shipment.id,
                occurred_at=utcnow(),
                status="in_transit",
                description="Arrived at the parcel centre",
                location="Leipzig",
            )
        )
        macro = await save_macro(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            languages=["en", "de"],
            name="Where is my order",
            bodies={
                "en": "Hi {{customer.first_name}}, order {{order.number}} is on its way: {{shipment.tracking_url}}",
                "de": "Hallo {{customer.first_name}}, Bestellung {{order.number}} ist unterwegs: {{shipment.tracking_url}}",
            },
        )
        return Seeded(conversation.id, order.number, macro.id)


async def add_agent(db: Database, shop_id: int, email: str, name: str, role: Role = Role.agent) -> int:
    async with db.transaction() as session:
        agent = await create_agent(
            session, shop_id=shop_id, email=email, name=name, role=role, password=PASSWORD, actor=SYSTEM
        )
        return agent.id


SUBJECTS = (
    "Wann kommt mein Paket?",
    "Wrong size delivered",
    "Lieferadresse ändern",
    "أين طلبي؟ Where is my order?",
    "Shipping to Italy",
)


async def seed_showcase(
    db: Database, shop_id: int, box: object, agent_id: int | None = None
) -> dict[str, int]:
    """A small, realistic inbox for the screenshots: several channels, languages, priorities, tags,
    notes, a failed delivery, long names and right-to-left text."""
    from datetime import timedelta

    from storedesk.channels.models import ChannelKind
    from storedesk.channels.service import create_channel
    from storedesk.conversations.models import DeliveryStatus, Priority
    from storedesk.customers.service import create_customer

    now = utcnow()
    ids: dict[str, int] = {}
    async with db.transaction() as session:
        email = await create_channel(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            box=box,
            kind=ChannelKind.email,  # type: ignore[arg-type]
            name="Support mailbox",
            external_id=f"support-{shop_id}@shop.example",
        )
        whatsapp = await create_channel(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            box=box,
            kind=ChannelKind.whatsapp,  # type: ignore[arg-type]
            name="WhatsApp DE",
            external_id=f"wa-{shop_id}",
        )
        chat = await create_channel(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            box=box,
            kind=ChannelKind.chat,  # type: ignore[arg-type]
            name="Website chat",
            external_id=f"chat-{shop_id}",
        )
        people = [
            (
                "Lena Müller",
                "lena.mueller@example.de",
                "+49 151 23456789",
                "de",
                whatsapp.id,
                "Hallo! Mein Paket ist seit drei Tagen unterwegs. Wann kommt es an?",
                Priority.high,
                ["shipping"],
            ),
            (
                "Oliver Bennett",
                "oliver@example.co.uk",
                None,
                "en",
                email.id,
                "Hi, I received the wrong size (L instead of M). Can I exchange it?",
                Priority.normal,
                ["exchange", "size"],
            ),
            (
                "Maximiliane Alexandra von Hohenzollern-Sigmaringen-Wittelsbach",
                "max.vh@example.de",
                None,
                "de",
                chat.id,
                "Kann ich meine Bestellung noch ändern? Ich brauche eine andere Lieferadresse.",
                Priority.urgent,
                ["address-change"],
            ),
            (
                "عبد الرحمن الخطيب",
                "abd@example.ae",
                None,
                "en",
                email.id,
                "مرحبا، أين طلبي؟ Where is my order? I ordered two weeks ago.",
                Priority.normal,
                ["shipping"],
            ),
            (
                "Sofia Rossi",
                "sofia@example.it",
                None,
                "en",
                chat.id,
                "Do you ship to Italy? And how long does it take?",
                Priority.low,
                [],
            ),
        ]
        for i, (name, mail, phone, lang, channel_id, text, prio, tags) in enumerate(people):
            customer = await create_customer(
                session,
                shop_id=shop_id,
                actor=SYSTEM,
                name=name,
                email=mail,
                phone=phone,
                language=lang,
                country="DE",
            )
            at = now - timedelta(minutes=7 + 41 * i)
            conversation = await conversations.open_conversation(
                session,
                shop_id=shop_id,
                actor=SYSTEM,
                customer_id=customer.id,
                channel_id=channel_id,
                subject=SUBJECTS[i],
                language=lang,
                priority=prio,
                created_at=at,
            )
            await conversations.add_message(
                session,
                shop_id=shop_id,
                actor=Actor("customer", customer.id),
                conversation_id=conversation.id,
                direction=Direction.inbound,
                text=text,
                created_at=at,
            )
            if tags:
                await conversations.change_tags(
                    session,
                    shop_id=shop_id,
                    actor=SYSTEM,
                    conversation_id=conversation.id,
                    add=tags,
                    remove=[],
                )
            ids[f"conv{i}"] = conversation.id
            ids[f"customer{i}"] = customer.id
        # Lena's orders: one on its way (tracking events, ETA), one delivered and partly returned
        lena = ids["customer0"]
        for number, placed, status, ship_status, total in (
            ("100871", now - timedelta(days=3), "fulfilled", "in_transit", 8990),
            ("100412", now - timedelta(days=41), "fulfilled", "delivered", 4590),
        ):
            order = Order(
                shop_id=shop_id,
                number=number,
                customer_id=lena,
                currency="EUR",
                financial_status="paid",
                fulfillment_status=status,
                subtotal_minor=total - 490,
                shipping_minor=490,
                total_minor=total,
                payment_method="PayPal",
                placed_at=placed,
            )
            session.add(order)
            await session.flush()
            session.add(
                OrderLine(
                    shop_id=shop_id,
                    order_id=order.id,
                    sku=f"JK-{number}",
                    title="Rain jacket Fjord",
                    variant_title="S / olive",
                    quantity=1,
                    unit_price_minor=total - 490,
                    total_minor=total - 490,
                )
            )
            shipment = Shipment(
                shop_id=shop_id,
                order_id=order.id,
                carrier="DHL",
                tracking_number=f"JJD00{number}",
                tracking_url=f"https://track.example/JJD00{number}",
                status=ship_status,
                shipped_at=placed + timedelta(days=1),
                estimated_delivery_at=now + timedelta(days=1) if ship_status == "in_transit" else None,
                delivered_at=placed + timedelta(days=3) if ship_status == "delivered" else None,
            )
            session.add(shipment)
            await session.flush()
            for k, (desc, loc) in enumerate(
                (("Picked up", "Hamburg"), ("Arrived at the parcel centre", "Leipzig"))
            ):
                session.add(
                    TrackingEvent(
                        shop_id=shop_id,
                        shipment_id=shipment.id,
                        occurred_at=placed + timedelta(days=1, hours=8 * k),
                        status="in_transit",
                        description=desc,
                        location=loc,
                    )
                )
        ids["order_lena"] = 100871
        # a conversation with a history: note, reply that failed, system events
        first = ids["conv1"]
        agent = Actor("agent", agent_id) if agent_id else SYSTEM
        await conversations.assign(
            session,
            shop_id=shop_id,
            actor=agent,
            conversation_id=first,
            assignee_id=agent_id,
            team_id=None,
            set_team=False,
        )
        await conversations.add_note(
            session,
            shop_id=shop_id,
            actor=agent,
            conversation_id=first,
            text="Checked the warehouse: size M is in stock. Offer a free exchange.",
        )
        reply, _ = await conversations.add_message(
            session,
            shop_id=shop_id,
            actor=agent,
            conversation_id=first,
            direction=Direction.outbound,
            text="Hi Oliver, sorry about that! We'll send you an M right away.",
        )
        reply.delivery_status = DeliveryStatus.failed
        reply.delivery_error = "550 5.1.1 mailbox unavailable"
    return ids
