"""The demo shop generator, on SQLite and PostgreSQL.

The shop is seeded once per database kind for the module (``demo``); the determinism test seeds a second,
fresh database of the same kind and compares content digests, then checks idempotency and ``force``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import psycopg
import pytest
from sqlalchemy import inspect, text

from storedesk.api.app import create_app
from storedesk.assistant.nlu.intents import INTENTS
from storedesk.commerce.models import ReturnStatus, ShipmentStatus
from storedesk.config import Settings
from storedesk.conversations.models import ConversationStatus
from storedesk.db.migrate import upgrade
from storedesk.db.models import Base
from storedesk.db.session import Database
from storedesk.demo import content
from storedesk.demo.seed import (
    AGENTS,
    CHANNELS,
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_VIEWER_EMAIL,
    N_CONVERSATIONS,
    N_CUSTOMERS,
    N_ORDERS,
    N_PRODUCTS,
    TEAMS,
    ConversationBuilder,
    DemoGenerator,
    _AgentRef,
    seed_demo,
)
from tests.conftest import PG_ADMIN_URL, REQUIRE_PG, TEST_SECRET, _pg_available, _truncate_pg

# one worker seeds both databases once for the whole module
pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.xdist_group("demo")]

SEED = 42
LANGUAGE_COUNTRIES = {
    "en": {"GB", "US"},
    "de": {"DE", "AT"},
    "hu": {"HU"},
    "nb": {"NO"},
    "fr": {"FR"},
    "sv": {"SE"},
    "pl": {"PL"},
    "es": {"ES"},
}
IDENTITY_FOR_CHANNEL = {
    "email": "email",
    "webform": "email",
    "api": "email",
    "chat": "chat_visitor",
    "whatsapp": "whatsapp",
    "messenger": "messenger",
    "instagram": "instagram",
    "sms": "phone",
    "voice": "phone",
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Seeded:
    kind: str
    url: str
    summary: dict[str, Any]
    digest: str


class Databases:
    """Fresh, migrated databases of either kind, removed at the end of the module."""

    def __init__(self, tmp: Path, template: Path, worker: str) -> None:
        self.tmp, self.template, self.worker = tmp, template, worker
        self.pg_names: list[str] = []

    def new(self, kind: str) -> str:
        if kind == "sqlite":
            path = self.tmp / f"demo-{uuid.uuid4().hex[:8]}.db"
            shutil.copy(self.template, path)
            return f"sqlite+aiosqlite:///{path}"
        if not _pg_available():
            if REQUIRE_PG:
                pytest.fail(f"PostgreSQL is required but {PG_ADMIN_URL} is unreachable")
            pytest.skip("PostgreSQL is not reachable")
        name = f"storedesk_test_demo_{self.worker}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.pg_names.append(name)
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        upgrade(url)
        return url

    def drop_all(self) -> None:
        if not self.pg_names:
            return
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for name in self.pg_names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def databases(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, worker_id: str
) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("demo"), sqlite_template, worker_id)
    yield dbs
    dbs.drop_all()


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _seed(url: str, *, seed: int = SEED, force: bool = False) -> tuple[dict[str, Any], str]:
    db = Database(url, pool_size=2)
    try:
        summary = await seed_demo(db, seed=seed, box_secrets=[TEST_SECRET], progress=False, force=force)
        return summary, await content_digest(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, databases: Databases) -> Seeded:
    url = databases.new(request.param)
    summary, digest = _run(_seed(url))
    return Seeded(request.param, url, summary, digest)


@pytest.fixture
async def demo_db(demo: Seeded) -> Any:
    db = Database(demo.url, pool_size=2)
    yield db
    await db.dispose()


async def rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def content_digest(db: Database) -> str:
    """SHA-256 over what the demo *says*: names, numbers, states, texts — not ids, not timestamps."""
    h = hashlib.sha256()
    queries = [
        "SELECT name, email, phone, language, country, preferred_channel FROM customers ORDER BY email",
        "SELECT kind, value FROM customer_identities ORDER BY kind, value",
        "SELECT v.sku, p.title, v.title, v.price_minor, v.stock, v.inventory_policy, p.final_sale "
        "FROM variants v JOIN products p ON p.id = v.product_id ORDER BY v.sku",
        "SELECT o.number, c.name, o.subtotal_minor, o.shipping_minor, o.tax_minor, o.total_minor, "
        "o.refunded_minor, o.financial_status, o.fulfillment_status, o.cancel_reason, o.payment_method "
        "FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.number",
        "SELECT o.number, l.sku, l.quantity, l.unit_price_minor, l.refunded_quantity "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id ORDER BY o.number, l.sku",
        "SELECT o.number, s.carrier, s.tracking_number, s.status FROM shipments s "
        "JOIN orders o ON o.id = s.order_id ORDER BY o.number",
        "SELECT number, status, resolution, reason, rejection_reason FROM returns ORDER BY number",
        "SELECT o.number, r.amount_minor, r.reason, r.status FROM refunds r JOIN orders o ON o.id = r.order_id "
        "ORDER BY o.number, r.amount_minor, r.reason",
        "SELECT c.number, c.status, c.intent, c.language, ch.kind, c.priority, a.email, c.subject, "
        "c.message_count, c.reopened_count, c.resolved_by_assistant FROM conversations c "
        "JOIN channels ch ON ch.id = c.channel_id LEFT JOIN agents a ON a.id = c.assignee_id ORDER BY c.number",
        "SELECT c.number, m.direction, m.author_type, m.text FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id ORDER BY c.number, m.id",
        "SELECT c.number, t.name FROM conversation_tags t JOIN conversations c ON c.id = t.conversation_id "
        "ORDER BY c.number, t.name",
        "SELECT c.number, e.type FROM events e JOIN conversations c ON c.id = e.conversation_id "
        "ORDER BY c.number, e.type",
    ]
    for sql in queries:
        for row in await rows(db, sql):
            h.update(repr(row).encode())
    return h.hexdigest()


async def test_counts_shop_and_team(demo: Seeded, demo_db: Database) -> None:
    s = demo.summary
    assert s["status"] == "created"
    assert s["products"] == N_PRODUCTS == 240
    assert s["customers"] == N_CUSTOMERS == 1200
    assert s["orders"] == N_ORDERS == 3400
    assert s["conversations"] == N_CONVERSATIONS == 420
    # 6 articles from the seed's own content + 7 from the help center's demo content (1 internal)
    assert (s["agents"], s["teams"], s["channels"], s["articles"], s["macros"]) == (9, 3, 9, 13, 10)
    assert s["variants"] > s["products"]
    for table in (
        "variants",
        "order_lines",
        "shipments",
        "tracking_events",
        "returns",
        "refunds",
        "messages",
    ):
        assert s[table] == await scalar(demo_db, f"SELECT count(*) FROM {table}")
    assert s["messages"] > s["conversations"] * 2
    shop = await rows(
        demo_db,
        "SELECT slug, name, default_language, currency, timezone, country, support_email, "
        "conversation_seq FROM shops",
    )
    assert shop == [
        (
            "demo",
            "Nordlys Home & Living",
            "en",
            "EUR",
            "Europe/Berlin",
            "DE",
            "support@demo.storedesk.test",
            420,
        )
    ]
    assert await rows(demo_db, "SELECT role, count(*) FROM agents GROUP BY role ORDER BY role") == [
        ("admin", 1),
        ("agent", 7),
        ("viewer", 1),
    ]
    emails = {r[0] for r in await rows(demo_db, "SELECT email FROM agents")}
    assert {DEMO_ADMIN_EMAIL, DEMO_VIEWER_EMAIL} <= emails
    hashes = await rows(demo_db, "SELECT DISTINCT password_hash FROM agents")
    assert len(hashes) == 1 and hashes[0][0].startswith("$argon2id$")
    assert [r[0] for r in await rows(demo_db, "SELECT name FROM teams ORDER BY name")] == [
        "Returns",
        "Tier 1",
        "VIP",
    ]
    assert await scalar(demo_db, "SELECT count(*) FROM team_members") == 10
    channels = dict(await rows(demo_db, "SELECT kind, external_id FROM channels"))
    assert channels == {
        "chat": "nordlys-web-widget",
        "email": "support@demo.storedesk.test",
        "whatsapp": "109876543210",
        "messenger": "104455667788990",
        "instagram": "17841400000000000",
        "sms": "+4915730000000",
        "voice": "+493023125000",
        "webform": "nordlys-contact-form",
        "api": "nordlys-marketplace-bridge",
    }
    assert await scalar(demo_db, "SELECT count(*) FROM channels WHERE credentials_encrypted IS NOT NULL") == 5


async def test_catalogue(demo_db: Database) -> None:
    categories = {r[0] for r in await rows(demo_db, "SELECT DISTINCT category FROM products")}
    assert categories == {"vases", "ceramics", "textiles", "lighting", "clothing", "home-fragrance"}
    sold_out = await scalar(
        demo_db,
        "SELECT count(*) FROM variants WHERE stock = 0 AND inventory_policy = 'deny' AND restock_date IS NOT NULL",
    )
    backorder = await scalar(
        demo_db, "SELECT count(*) FROM variants WHERE inventory_policy = 'backorder' AND stock <= 0"
    )
    final_sale = await scalar(demo_db, "SELECT count(*) FROM products WHERE final_sale")
    sized = await scalar(
        demo_db,
        "SELECT count(*) FROM variants v JOIN products p ON p.id = v.product_id "
        "WHERE p.category = 'clothing' AND v.size IN ('XS', 'S', 'M', 'L', 'XL')",
    )
    assert sold_out >= 10 and backorder >= 10 and final_sale >= 3 and sized >= 50
    assert await scalar(demo_db, "SELECT count(*) FROM variants WHERE price_minor <= 0") == 0


async def test_every_order_state_shipment_status_and_return_step(demo_db: Database) -> None:
    financial = {r[0] for r in await rows(demo_db, "SELECT DISTINCT financial_status FROM orders")}
    assert financial == {"pending", "paid", "partially_refunded", "refunded", "voided"}
    fulfillment = {r[0] for r in await rows(demo_db, "SELECT DISTINCT fulfillment_status FROM orders")}
    assert fulfillment == {"unfulfilled", "partial", "fulfilled"}
    shipment = {r[0] for r in await rows(demo_db, "SELECT DISTINCT status FROM shipments")}
    assert shipment == {s.value for s in ShipmentStatus}
    returns = {r[0] for r in await rows(demo_db, "SELECT DISTINCT status FROM returns")}
    assert returns == {s.value for s in ReturnStatus}
    assert await scalar(demo_db, "SELECT count(*) FROM orders WHERE cancelled_at IS NOT NULL") >= 10
    assert await scalar(demo_db, "SELECT count(*) FROM refunds WHERE return_id IS NOT NULL") >= 10
    assert await scalar(demo_db, "SELECT count(*) FROM return_lines") >= await scalar(
        demo_db, "SELECT count(*) FROM returns"
    )
    # delayed: past the ETA, not delivered, and the last tracking event is days old
    now = datetime.now(UTC)
    delayed = 0
    for eta, last in await rows(
        demo_db,
        "SELECT s.estimated_delivery_at, max(t.occurred_at) FROM shipments s "
        "JOIN tracking_events t ON t.shipment_id = s.id WHERE s.status = 'in_transit' "
        "GROUP BY s.id, s.estimated_delivery_at",
    ):
        eta, last = _aware(eta), _aware(last)
        if eta < now and (now - last).days >= 3:
            delayed += 1
    assert delayed >= 3
    # tracking events of every shipment run label created → … in time order, and end in its status
    events: dict[int, list[tuple[datetime, str]]] = {}
    for sid, at, status in await rows(
        demo_db, "SELECT shipment_id, occurred_at, status FROM tracking_events ORDER BY shipment_id, id"
    ):
        events.setdefault(sid, []).append((_aware(at), status))
    statuses = dict(await rows(demo_db, "SELECT id, status FROM shipments"))
    for sid, evs in events.items():
        assert evs[0][1] == "label_created"
        assert [at for at, _ in evs] == sorted(at for at, _ in evs)
        if statuses[sid] in ("delivered", "out_for_delivery", "returned_to_sender", "label_created"):
            assert evs[-1][1] == statuses[sid]
    assert set(events) == set(statuses)
    carriers = {r[0] for r in await rows(demo_db, "SELECT DISTINCT carrier FROM shipments")}
    assert carriers == {
        "DHL",
        "PostNord",
        "GLS",
        "DPD",
        "Posten",
        "InPost",
        "Magyar Posta",
        "Colissimo",
        "Correos",
        "UPS",
    }
    assert (
        await scalar(demo_db, "SELECT count(*) FROM shipments WHERE tracking_url NOT LIKE 'https://%'") == 0
    )


async def test_order_totals_add_up(demo_db: Database) -> None:
    bad = {
        "lines": "SELECT count(*) FROM order_lines WHERE total_minor != quantity * unit_price_minor",
        "subtotal": "SELECT count(*) FROM orders o WHERE subtotal_minor != "
        "(SELECT sum(l.total_minor) FROM order_lines l WHERE l.order_id = o.id)",
        "total": "SELECT count(*) FROM orders WHERE subtotal_minor + shipping_minor + tax_minor != total_minor",
        "refunded": "SELECT count(*) FROM orders o WHERE refunded_minor != (SELECT coalesce(sum(r.amount_minor), 0) "
        "FROM refunds r WHERE r.order_id = o.id AND r.status = 'succeeded')",
        "over-refunded": "SELECT count(*) FROM orders WHERE refunded_minor > total_minor",
        "refunded status": "SELECT count(*) FROM orders WHERE financial_status = 'refunded' "
        "AND refunded_minor != total_minor",
        "line variants": "SELECT count(*) FROM order_lines l JOIN variants v ON v.id = l.variant_id "
        "WHERE v.price_minor != l.unit_price_minor OR v.sku != l.sku",
        "no lines": "SELECT count(*) FROM orders o WHERE NOT EXISTS "
        "(SELECT 1 FROM order_lines l WHERE l.order_id = o.id)",
    }
    found = {name: await scalar(demo_db, sql) for name, sql in bad.items()}
    assert found == dict.fromkeys(bad, 0)
    numbers = sorted(int(r[0]) for r in await rows(demo_db, "SELECT number FROM orders"))
    assert numbers == list(range(1001, 1001 + N_ORDERS))
    pattern = re.compile(r"#?\d{4,8}")
    assert all(pattern.fullmatch(str(n)) for n in numbers)
    placed = [_aware(r[0]) for r in await rows(demo_db, "SELECT placed_at FROM orders ORDER BY number")]
    assert placed == sorted(placed)
    assert (datetime.now(UTC) - placed[0]).days in range(300, 366)


async def test_customers_identities_and_languages(demo_db: Database) -> None:
    customers = await rows(
        demo_db, "SELECT id, name, email, phone, language, country, address FROM customers"
    )
    assert {c[4] for c in customers} == set(content.LANGUAGES)
    for _, name, email, phone, language, country, address in customers:
        assert country in LANGUAGE_COUNTRIES[language]
        assert re.fullmatch(r"[a-z._0-9]+@example\.(com|net|org)", email)
        if phone is not None:
            number = phonenumbers.parse(phone)
            assert phonenumbers.is_possible_number(number) and phone.startswith("+")
            assert phonenumbers.region_code_for_number(number) == country
        address = _json(address)
        assert set(address) == {"name", "address1", "city", "zip", "country"}
        assert address["country"] == country and address["name"] == name
    kinds = Counter(r[0] for r in await rows(demo_db, "SELECT kind FROM customer_identities"))
    assert kinds["email"] == N_CUSTOMERS
    assert kinds["phone"] >= 1000 and kinds["whatsapp"] >= 100 and kinds["chat_visitor"] >= 100
    assert (
        await scalar(
            demo_db,
            "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customer_identities i "
            "WHERE i.customer_id = c.id AND i.kind = 'email' AND i.value = c.email)",
        )
        == 0
    )
    # every conversation's customer can be reached on the conversation's channel
    for kind, has in await rows(
        demo_db,
        "SELECT ch.kind, (SELECT count(*) FROM customer_identities i WHERE i.customer_id = c.customer_id "
        "AND i.kind = CASE ch.kind WHEN 'webform' THEN 'email' WHEN 'api' THEN 'email' WHEN 'chat' THEN "
        "'chat_visitor' WHEN 'sms' THEN 'phone' WHEN 'voice' THEN 'phone' ELSE ch.kind END) "
        "FROM conversations c JOIN channels ch ON ch.id = c.channel_id",
    ):
        assert has == 1, kind


async def test_conversations_language_kpis_and_events(demo_db: Database) -> None:
    mismatched = await scalar(
        demo_db,
        "SELECT count(*) FROM conversations c JOIN customers u ON u.id = c.customer_id "
        "WHERE c.language IS NULL OR c.language != u.language",
    )
    assert mismatched == 0
    statuses = {r[0] for r in await rows(demo_db, "SELECT DISTINCT status FROM conversations")}
    assert statuses == {s.value for s in ConversationStatus}
    numbers = [r[0] for r in await rows(demo_db, "SELECT number FROM conversations ORDER BY number")]
    assert numbers == list(range(1, N_CONVERSATIONS + 1))
    channels = {
        r[0]
        for r in await rows(
            demo_db, "SELECT DISTINCT ch.kind FROM conversations c JOIN channels ch ON ch.id = c.channel_id"
        )
    }
    assert channels == set(IDENTITY_FOR_CHANNEL)
    assert await scalar(demo_db, "SELECT count(*) FROM conversations WHERE resolved_by_assistant") >= 5
    assert await scalar(demo_db, "SELECT count(*) FROM conversations WHERE reopened_count > 0") >= 5
    assert await scalar(demo_db, "SELECT count(*) FROM conversations WHERE assignee_id IS NULL") >= 5
    assert await scalar(demo_db, "SELECT count(*) FROM messages WHERE direction = 'note'") >= 20
    # the assignee speaks the conversation's language
    for lang, agent_langs in await rows(
        demo_db, "SELECT c.language, a.languages FROM conversations c JOIN agents a ON a.id = c.assignee_id"
    ):
        langs = _json(agent_langs)
        assert lang in langs

    convs = {
        r[0]: r
        for r in await rows(
            demo_db,
            "SELECT id, status, message_count, first_response_at, waiting_since, last_message_at, "
            "last_activity_at, resolved_at, closed_at, snoozed_until, created_at, resolved_by_assistant FROM conversations",
        )
    }
    messages: dict[int, list[tuple[Any, ...]]] = {}
    for row in await rows(
        demo_db,
        "SELECT conversation_id, id, direction, author_type, created_at, channel_id, delivery_status "
        "FROM messages ORDER BY conversation_id, id",
    ):
        messages.setdefault(row[0], []).append(row)
    now = datetime.now(UTC)
    for cid, (
        _,
        status,
        count,
        first_response,
        waiting,
        last_message,
        last_activity,
        resolved,
        closed,
        snoozed,
        created,
        by_assistant,
    ) in convs.items():
        msgs = messages[cid]
        times = [_aware(m[4]) for m in msgs]
        assert times == sorted(times) and times[0] == _aware(created) and times[-1] <= now
        assert msgs[0][2] == "inbound"
        assert count == sum(1 for m in msgs if m[2] in ("inbound", "outbound"))
        outbound = [_aware(m[4]) for m in msgs if m[2] == "outbound"]
        assert _aware(first_response) == (outbound[0] if outbound else None)
        in_or_out = [m for m in msgs if m[2] in ("inbound", "outbound")]
        assert _aware(last_message) == _aware(in_or_out[-1][4])
        expected_waiting = None
        for m in in_or_out:
            if m[2] == "inbound" and expected_waiting is None:
                expected_waiting = _aware(m[4])
            elif m[2] == "outbound":
                expected_waiting = None
        assert _aware(waiting) == expected_waiting
        assert _aware(last_activity) >= _aware(last_message)
        assert (resolved is not None) == (status in ("resolved", "closed"))
        assert (closed is not None) == (status == "closed")
        assert (snoozed is not None) == (status == "snoozed")
        if snoozed is not None:
            assert _aware(snoozed) > now
        if by_assistant:
            assert any(m[3] == "assistant" for m in msgs)
        for m in msgs:
            assert (m[5] is None) == (m[2] == "note")
            assert m[6] in (("received",) if m[2] != "outbound" else ("sent", "delivered", "read"))

    events = await rows(
        demo_db,
        "SELECT conversation_id, type, data FROM events WHERE conversation_id IS NOT NULL ORDER BY id",
    )
    by_type = Counter(e[1] for e in events)
    n_messages = sum(len(m) for m in messages.values())
    outbound_total = sum(1 for ms in messages.values() for m in ms if m[2] == "outbound")
    assert by_type["conversation.created"] == N_CONVERSATIONS
    assert by_type["message.received"] + by_type["message.created"] == n_messages
    assert by_type["message.sent"] == outbound_total
    assert by_type["conversation.updated"] == N_CONVERSATIONS
    assert by_type["conversation.assigned"] == await scalar(
        demo_db, "SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL"
    )
    message_ids = {m[1] for ms in messages.values() for m in ms}
    seen: set[int] = set()
    first_event: dict[int, str] = {}
    for cid, type_, data in events:
        data = _json(data)
        first_event.setdefault(cid, type_)
        if type_ in ("message.received", "message.created"):
            seen.add(data["message_id"])
            assert set(data) == {"message_id", "direction", "channel_id"}
        if type_ == "conversation.status_changed":
            assert set(data) == {"from", "to", "snoozed_until"}
        if type_ == "conversation.assigned":
            assert set(data) == {"before", "after"}
        if type_ == "message.delivery_status":
            assert set(data) == {"message_id", "from", "to"} and data["message_id"] in message_ids
    assert seen == message_ids
    assert set(first_event.values()) == {"conversation.created"}
    assert by_type["message.delivery_status"] == await scalar(
        demo_db, "SELECT count(*) FROM messages WHERE delivered_at IS NOT NULL"
    ) + await scalar(demo_db, "SELECT count(*) FROM messages WHERE read_at IS NOT NULL")
    assert (
        await scalar(demo_db, "SELECT count(*) FROM notifications WHERE kind = 'assignment'")
        == by_type["conversation.assigned"]
    )
    wakes = await scalar(
        demo_db, "SELECT count(*) FROM jobs WHERE name = 'conversation.wake' AND status = 'queued'"
    )
    assert wakes == await scalar(demo_db, "SELECT count(*) FROM conversations WHERE status = 'snoozed'")


async def test_messages_speak_the_customers_language(demo_db: Database) -> None:
    """Every customer message comes from the templates of the conversation's language, with the real order."""
    openers: dict[str, list[str]] = {
        lang: [t.split("{")[0][:12] for i in c["intents"].values() for t in i["customer"]]
        for lang, c in content.CONVERSATIONS.items()
    }
    for lang, text_, number, intent in await rows(
        demo_db,
        "SELECT c.language, m.text, o.number, c.intent FROM conversations c "
        "JOIN messages m ON m.conversation_id = c.id LEFT JOIN orders o ON o.id = c.order_id "
        "WHERE m.id = (SELECT min(id) FROM messages WHERE conversation_id = c.id)",
    ):
        assert any(text_.startswith(prefix) for prefix in openers[lang]), (lang, text_)
        if intent not in ("product_question", "feedback_praise"):  # praise may name the product instead
            assert number is not None and number in text_


async def test_help_center_and_macros(demo_db: Database) -> None:
    versions = await rows(
        demo_db,
        "SELECT a.slug, v.language, v.status FROM article_versions v JOIN articles a ON a.id = v.article_id",
    )
    assert len(versions) == 26
    assert {v[1] for v in versions} == {"en", "de"} and {v[2] for v in versions} == {"published"}
    slugs = {v[0] for v in versions}
    assert {
        "shipping-and-delivery",
        "returns-and-refunds",
        "payment-methods",
        "size-guide",
        "your-account",
        "track-your-order",
        "exchange-size-or-colour",
    } <= slugs
    visibility = dict(await rows(demo_db, "SELECT visibility, count(*) FROM articles GROUP BY visibility"))
    assert visibility == {"public": 12, "internal": 1}
    for name, bodies in await rows(demo_db, "SELECT name, bodies FROM macros"):
        bodies = _json(bodies)
        assert set(bodies) == set(content.LANGUAGES), name
        assert all("{{customer.first_name}}" in b and "{{agent.first_name}}" in b for b in bodies.values())
    # each demo macro answers one customer intent (macro suggestions rank it first for that intent)
    assert dict(await rows(demo_db, "SELECT name, intent FROM macros")) == {
        m["name"]: m["intent"] for m in content.MACROS
    }
    assert {m["intent"] for m in content.MACROS} <= set(INTENTS)
    macro_text = " ".join(str(r[0]) for r in await rows(demo_db, "SELECT bodies FROM macros"))
    for variable in ("{{order.number}}", "{{shipment.tracking_url}}", "{{shipment.carrier}}"):
        assert variable in macro_text


def test_same_seed_same_content_idempotent_and_force(
    demo: Seeded, databases: Databases, request: pytest.FixtureRequest
) -> None:
    if demo.kind == "postgresql":  # the session's test database, emptied: saves creating and dropping one
        other = request.getfixturevalue("pg_database")
        _truncate_pg(other)
    else:
        other = databases.new(demo.kind)
    summary, digest = _run(_seed(other))
    assert digest == demo.digest
    counts = {k: v for k, v in summary.items() if k not in ("seconds", "shop_id")}
    assert counts == {k: v for k, v in demo.summary.items() if k not in ("seconds", "shop_id")}

    async def total_rows(url: str) -> int:
        """Rows in every table of the schema (search-index shadow tables are storage, not rows)."""
        db = Database(url, pool_size=2)
        try:
            async with db.engine.connect() as conn:
                existing = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            tables = [t.name for t in Base.metadata.sorted_tables if t.name in existing]
            return sum([await scalar(db, f'SELECT count(*) FROM "{t}"') for t in tables])
        finally:
            await db.dispose()

    before = _run(total_rows(other))
    again, again_digest = _run(_seed(other))
    assert again["status"] == "exists"
    assert {k: again[k] for k in counts if k != "status"} == {k: counts[k] for k in counts if k != "status"}
    assert again_digest == digest
    assert _run(total_rows(other)) == before

    forced, forced_digest = _run(_seed(other, force=True))
    assert forced["status"] == "recreated"
    assert forced_digest == digest
    assert _run(total_rows(other)) == before


def _content_in_memory(seed: int, now: datetime) -> str:
    """The whole demo planned and written out in memory (fake ids) at a given "now"."""
    gen = DemoGenerator(seed, now)
    gen.plan_catalogue()
    gen.plan_customers()
    gen.plan_orders()
    gen.guarantee_return_statuses()
    gen.plan_segments()
    gen.plan_conversations()
    agents = [
        _AgentRef(i + 1, n.split()[0], langs, teams)
        for i, (_, n, r, langs, teams) in enumerate(AGENTS)
        if r.value != "viewer"
    ]
    builder = ConversationBuilder(
        gen,
        shop_id=1,
        channel_ids={kind.value: i + 1 for i, (kind, *_) in enumerate(CHANNELS)},
        agents=agents,
        team_ids={name: i + 1 for i, (name, _) in enumerate(TEAMS)},
        customer_ids=list(range(1, len(gen.customers) + 1)),
        order_ids=list(range(1, len(gen.orders) + 1)),
    )
    for i, plan in enumerate(gen.conversations):
        builder.build(i, plan)
    h = hashlib.sha256()
    for o in gen.orders:
        h.update(repr((o.number, o.state, o.financial, o.total, o.ret.status if o.ret else None)).encode())
    for conv, _, row in builder.messages:
        h.update(repr((conv, row["direction"], row["author_type"], row["text"])).encode())
    for c in builder.conversations:
        h.update(repr((c["status"], c["assignee_id"], c["message_count"], c["reopened_count"])).encode())
    for conv, _, row, _ in builder.events:
        h.update(repr((conv, row["type"])).encode())
    return h.hexdigest()


def test_content_does_not_depend_on_the_clock() -> None:
    """Night or day, weekday or weekend, either side of a DST change: the same seed says the same things."""
    monday_night = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    saturday_afternoon_summer_time = monday_night + timedelta(days=33, hours=13)
    assert _content_in_memory(SEED, monday_night) == _content_in_memory(SEED, saturday_afternoon_summer_time)


def test_other_seed_other_content() -> None:
    now = datetime.now(UTC)
    names = []
    for seed in (SEED, SEED, 7):
        gen = DemoGenerator(seed, now)
        gen.plan_customers()
        names.append([c.name for c in gen.customers])
    assert names[0] == names[1]
    assert names[0] != names[2]


async def test_admin_logs_in_and_lists(demo: Seeded, demo_db: Database, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=demo.url, secret_key=TEST_SECRET, jobs_mode="external"
    )
    app = create_app(settings, db=demo_db, run_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.post(
                "/api/v1/auth/login", json={"email": DEMO_ADMIN_EMAIL, "password": DEMO_PASSWORD}
            )
            assert r.status_code == 200, r.text
            assert r.json()["shop"] == "demo" and r.json()["agent"]["role"] == "admin"
            h = {"Authorization": f"Bearer {r.json()['token']}"}
            r = await client.get("/api/v1/conversations", params={"limit": 50}, headers=h)
            assert r.status_code == 200, r.text
            assert len(r.json()["items"]) == 50 and r.json()["next_cursor"]
            r = await client.get("/api/v1/orders", params={"limit": 10}, headers=h)
            assert r.status_code == 200, r.text
            assert [o["number"] for o in r.json()["items"]] == [str(n) for n in range(4400, 4390, -1)]
            r = await client.get(f"/api/v1/orders/{r.json()['items'][-1]['id']}", headers=h)
            assert r.status_code == 200 and r.json()["lines"]
            r = await client.post(
                "/api/v1/auth/login", json={"email": DEMO_VIEWER_EMAIL, "password": DEMO_PASSWORD}
            )
            assert r.status_code == 200 and r.json()["agent"]["role"] == "viewer"
            r = await client.post(
                "/api/v1/auth/login", json={"email": DEMO_ADMIN_EMAIL, "password": "wrong-password"}
            )
            assert r.status_code == 401


def _aware(value: Any) -> Any:
    """Raw SQL hands back naive strings/datetimes on SQLite; compare as UTC-aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json(value: Any) -> Any:
    """JSON columns come back parsed on PostgreSQL and as text on SQLite (raw SQL)."""
    return json.loads(value) if isinstance(value, str) else value
