"""Macro suggestions: the shop's macros ranked for the latest customer message by the recognised intent,
the customer's language and text similarity. The ranking itself (pure), then in the running product: the
suggestion API on the real ingest path and job runner, and another shop's macros never suggested."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storedesk.assistant.macro_suggestions import rank
from storedesk.db.session import Database
from storedesk.kit.actor import Actor
from storedesk.kit.errors import ValidationFailed
from storedesk.knowledge.macros import save_macro
from storedesk.knowledge.models import Macro
from tests.assistant import kit
from tests.conftest import ShopWorld

SYSTEM = Actor("system")

# (name, intent, bodies): a small shop's macros; greeting and sign-off on every one, as real macros have
MACROS: list[tuple[str, str | None, dict[str, str]]] = [
    (
        "Order on its way",
        "track_order",
        {
            "en": "Hi {{customer.first_name}},\nyour order {{order.number}} is on its way with "
            "{{shipment.carrier}}. Follow the parcel here: {{shipment.tracking_url}}\nKind regards",
            "de": "Hallo {{customer.first_name}},\nIhre Bestellung {{order.number}} ist unterwegs. Paket "
            "verfolgen: {{shipment.tracking_url}}\nViele Grüße",
        },
    ),
    (
        "Delivery delayed",
        "delivery_problem",
        {
            "en": "Hi {{customer.first_name}},\nI'm sorry that your parcel is late. We opened an "
            "investigation with the carrier.\nKind regards",
        },
    ),
    (
        "Sendungsverfolgung",
        None,
        {"de": "Hallo {{customer.first_name}},\nhier ist die Sendungsverfolgung Ihres Pakets.\nViele Grüße"},
    ),
    (
        "Return label",
        "return_request",
        {"en": "Hi {{customer.first_name}},\nyour prepaid return label is attached.\nKind regards"},
    ),
    (
        "Payment methods",
        None,
        {"en": "Hi {{customer.first_name}},\nwe accept cards, PayPal and invoice.\nKind regards"},
    ),
]


def _macros(shop_id: int = 1) -> list[Macro]:
    return [
        Macro(id=i + 1, shop_id=shop_id, name=name, intent=intent, bodies=bodies, actions={})
        for i, (name, intent, bodies) in enumerate(MACROS)
    ]


def test_ranking_by_intent_then_words_then_language() -> None:
    got = rank(
        _macros(),
        text="Hi, where is my order 8001? The parcel is late.",
        language="en",
        intent="track_order",
        default_language="de",
    )
    # the German-only macro shares no word with an English message; "order" (in most macros) weighs nothing
    assert [(s.name, s.language, s.reasons, s.score) for s in got] == [
        ("Order on its way", "en", ["intent", "words", "language"], 1.4475),
        ("Delivery delayed", "en", ["words", "language"], 0.8475),
    ]
    assert [
        s.name
        for s in rank(
            _macros(), text="parcel late", language="en", intent=None, default_language="en", limit=1
        )
    ] == ["Delivery delayed"]


def test_the_intent_tag_decides_over_words_and_a_macro_with_no_evidence_is_not_suggested() -> None:
    got = rank(
        _macros(),
        text="Can I send the shoes back?",
        language="en",
        intent="return_request",
        default_language="en",
    )
    # only the return macro: no other macro shares a (weighted) word or the intent
    assert [(s.name, s.reasons) for s in got] == [("Return label", ["intent", "language"])]
    # "other" says nothing about which macro fits; a greeting alone matches nothing
    assert rank(_macros(), text="Hi", language="en", intent="other", default_language="en") == []


def test_a_german_message_gets_the_german_texts_and_english_only_macros_by_concept() -> None:
    got = rank(
        _macros(),
        text="Wo ist mein Paket? Gibt es eine Sendungsverfolgung?",
        language="de",
        intent="track_order",
        default_language="en",
    )
    assert [(s.name, s.language, s.reasons) for s in got] == [
        ("Order on its way", "de", ["intent", "language"]),
        ("Sendungsverfolgung", "de", ["words", "language"]),
    ]
    # no German text: the English macro is suggested through the thesaurus (Lieferung ~ delivery)
    got = rank(
        _macros(),
        text="Mein Paket ist verspätet, die Lieferung fehlt.",
        language="de",
        intent="delivery_problem",
        default_language="en",
    )
    assert [(s.name, s.language, s.reasons) for s in got] == [("Delivery delayed", "en", ["intent", "words"])]


# --- in the running product ----------------------------------------------------------------------------------


@pytest.fixture
def _links(settings: Any) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)


async def _save_macros(
    db: Database, shop: ShopWorld, macros: list[tuple[str, str | None, dict[str, str]]]
) -> None:
    async with db.transaction() as session:
        for name, intent, bodies in macros:
            await save_macro(
                session,
                shop_id=shop.id,
                actor=SYSTEM,
                languages=["en", "de"],
                name=name,
                bodies=bodies,
                intent=intent,
            )


@pytest.mark.anyio
@pytest.mark.xdist_group("assistant")
async def test_the_suggestion_api_ranks_the_shops_macros_and_never_another_shops(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    shop_b: ShopWorld,
    run_jobs: Any,
    _links: None,
) -> None:
    await kit.set_assistant_policy(db, shop_a, {})  # the default: suggest only
    await kit.set_assistant_policy(db, shop_b, {})
    await _save_macros(db, shop_a, MACROS)
    # shop B's macro fits the message perfectly (intent and words): it must never reach shop A
    await _save_macros(
        db,
        shop_b,
        [("Shop B: where is my order", "track_order", {"en": "Where is my order 8001? The parcel is late."})],
    )
    anna = await kit.buyer(db, shop_a, "anna@example.com", "Anna Smith", "en")
    await kit.order(
        db, shop_a, anna, number="8001", shipped=True, carrier="UPS", tracking="1Z999AA10123456784"
    )
    r = await kit.say(client, shop_a, "Hi, where is my order 8001? The parcel is late.", email=anna.email)
    await run_jobs()
    conversation_id = r["conversation_id"]

    got = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/suggestion", headers=shop_a.h()
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["source"], body["intent"], body["language"]) == ("turn", "track_order", "en")
    assert [(m["name"], m["language"], m["reasons"], m["score"]) for m in body["macros"]] == [
        ("Order on its way", "en", ["intent", "words", "language"], 1.4475),
        ("Delivery delayed", "en", ["words", "language"], 0.8475),
    ]
    async with db.transaction() as session:
        from storedesk.knowledge.macros import MacroRepository

        own = {m.id for m in await MacroRepository(session, shop_a.id).list()}
    assert {m["macro_id"] for m in body["macros"]} <= own

    # shop B asking for shop A's conversation: 404, nothing leaks
    other = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/suggestion", headers=shop_b.h()
    )
    assert other.status_code == 404

    # the same words in shop B get shop B's macro only
    bob = await kit.buyer(db, shop_b, "bob@example.com", "Bob Jones", "en")
    rb = await kit.say(client, shop_b, "Hi, where is my order 8001? The parcel is late.", email=bob.email)
    await run_jobs()
    got_b = await client.get(
        f"/api/v1/conversations/{rb['conversation_id']}/assistant/suggestion", headers=shop_b.h()
    )
    assert [m["name"] for m in got_b.json()["macros"]] == ["Shop B: where is my order"]


@pytest.mark.anyio
@pytest.mark.xdist_group("assistant")
async def test_a_macro_intent_must_be_a_known_intent(db: Database, shop_a: ShopWorld) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await _save_macros(db, shop_a, [("Odd", "where_is_it", {"en": "Text"})])
    assert (caught.value.reason, caught.value.details) == ("macro_intent_unknown", {"field": "intent"})
