"""Agent-side help for every open conversation: a shop whose assistant does not answer by itself (the
default, or ``enabled: false``) still gets a suggested reply for each new customer message — nothing sent to
the customer, no order action, the conversation left as it is. Real ingest path (API channel) and job
runner, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from storedesk.commerce.models import Order
from storedesk.conversations.models import Message
from storedesk.db.session import Database
from tests.assistant import kit
from tests.conftest import ShopWorld, count_rows

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("assistant")]


@pytest.fixture(autouse=True)
def _links(settings: Any) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)


async def _messages(db: Database, conversation_id: int) -> list[tuple[str, str]]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(Message.direction, Message.author_type)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id)
        )
        return [(str(d), str(a)) for d, a in rows.all()]


async def test_a_shop_with_default_policies_gets_a_suggested_tracking_reply_and_nothing_is_sent(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld, run_jobs: Any
) -> None:
    # no assistant policy at all (the default of a new shop): not answering, suggesting
    await kit.set_assistant_policy(db, shop_a, {})
    anna = await kit.buyer(db, shop_a, "anna@example.com", "Anna Smith", "en")
    await kit.order(
        db, shop_a, anna, number="8001", shipped=True, carrier="UPS", tracking="1Z999AA10123456784"
    )
    r = await kit.say(client, shop_a, "Hi, where is my order 8001?", email=anna.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    assert await _messages(db, conversation_id) == [("inbound", "customer")]
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.outcome, turn.intent, turn.language, turn.reply_message_id) == (
        "suggested",
        "track_order",
        "en",
        None,
    )
    assert turn.suggested_text is not None
    assert turn.suggested_text.startswith(
        "Your order 8001 is on its way.\nCarrier: UPS, tracking number 1Z999AA10123456784.\n"
    )
    assert turn.policy_check["suggest_because"] == "suggest_only"
    assert turn.pending is None
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == ["assistant.suggested"]
    # the conversation stays the agents': not resolved, no intent or priority set by the assistant
    conv = await kit.conversation(db, conversation_id)
    assert (conv.status, conv.intent, conv.priority, conv.assignee_id, conv.resolved_by_assistant) == (
        "open",
        None,
        "normal",
        None,
        False,
    )
    got = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/suggestion", headers=shop_a.h()
    )
    assert got.status_code == 200
    assert (got.json()["source"], got.json()["text"]) == ("turn", turn.suggested_text)
    foreign = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/suggestion", headers=shop_b.h()
    )
    assert foreign.status_code == 404


async def test_suggest_only_never_cancels_even_after_yes(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.set_assistant_policy(db, shop_a, {"enabled": False, "languages": ["en", "nb"]})
    kari = await kit.buyer(db, shop_a, "kari@example.no", "Kari Nordmann", "nb")
    order_id = await kit.order(db, shop_a, kari, number="5151", country="NO")
    r = await kit.say(client, shop_a, "Hei, jeg vil kansellere bestillingen 5151.", email=kari.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.outcome, turn.intent, turn.template, turn.pending) == (
        "suggested",
        "cancel_order",
        "cancel.confirm",
        None,
    )
    assert turn.suggested_text == (
        "Bestilling 5151 (44,90\xa0€) er ikke sendt ennå, så jeg kan kansellere den for deg. "
        "Skal jeg kansellere den nå? Svar ja eller nei."
    )
    await kit.say(client, shop_a, "Ja", email=kari.email, conversation_id=conversation_id)
    await run_jobs()
    assert [t.outcome for t in await kit.turns(db, conversation_id)] == ["suggested", "suggested"]
    async with db.transaction() as s:
        assert (await s.get(Order, order_id)).cancelled_at is None  # type: ignore[union-attr]
    assert await kit.events(db, shop_a.id, "order.") == []
    assert await _messages(db, conversation_id) == [("inbound", "customer"), ("inbound", "customer")]


async def test_suggest_only_problem_gets_the_apology_as_a_start_and_no_handover(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.set_assistant_policy(db, shop_a, {"enabled": False})
    lena = await kit.buyer(db, shop_a, "lena@example.de", "Lena Müller", "de")
    await kit.order(db, shop_a, lena, number="6001", shipped=True, delivered=True, carrier="DHL")
    text = "Hallo, die Vase aus meiner Bestellung 6001 ist zerbrochen angekommen. Was nun?"
    r = await kit.say(client, shop_a, text, email=lena.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.outcome, turn.intent, turn.template, turn.suggested_text) == (
        "suggested",
        "damaged_or_wrong_item",
        "sorry.damaged_or_wrong_item",
        "Es tut mir wirklich leid, dass Ihre Bestellung nicht so angekommen ist, wie sie sollte.",
    )
    assert turn.policy_check["reason"] == "intent:damaged_or_wrong_item"
    # no note, no assignment, no priority raise: those are the hand-over of an answering assistant
    assert await _messages(db, conversation_id) == [("inbound", "customer")]
    conv = await kit.conversation(db, conversation_id)
    assert (conv.priority, conv.assignee_id) == ("normal", None)
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == ["assistant.suggested"]


async def test_suggestions_continue_after_an_agent_replied(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.set_assistant_policy(db, shop_a, {"enabled": False})
    r = await kit.say(client, shop_a, "What payment methods do you accept?", email="p@example.com")
    await run_jobs()
    conversation_id = r["conversation_id"]
    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"kind": "reply", "text": "Hi, we take cards and PayPal."},
        headers=shop_a.h(),
    )
    assert reply.status_code == 201, reply.text
    await run_jobs()
    await kit.say(
        client,
        shop_a,
        "Thanks! Where is my order 1234?",
        email="p@example.com",
        conversation_id=conversation_id,
    )
    await run_jobs()
    turns = await kit.turns(db, conversation_id)
    assert [t.outcome for t in turns] == ["suggested", "suggested"]
    assert turns[1].suggested_text == (
        "I couldn't find an order with that number for your account. Please send the order number "
        "together with the email address used for the order."
    )
    assert await count_rows(db, "assistant_turns") == 2
