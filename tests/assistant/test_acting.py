"""The assistant acting in the running product: messages come in through the API channel (the real ingest
path), ``run_jobs()`` runs ``assistant.handle`` and the delivery queue, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from storedesk.assistant.service import links
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


async def test_hungarian_where_is_my_order_gets_status_and_tracking_link_in_hungarian(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    anna = await kit.buyer(db, shop_a, "anna@example.hu", "Kovács Anna", "hu")
    order_id = await kit.order(db, shop_a, anna, number="4711", country="HU", shipped=True)
    r = await kit.say(client, shop_a, "Szia! Hol van a rendelésem? A rendelésszám 4711.", email=anna.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    said = await kit.outbound_texts(db, conversation_id)
    assert len(said) == 1 and said[0][0] == "outbound"
    text = said[0][1]
    link = links().tracking("shop-a", shop_a.id, order_id)
    assert text.startswith("A(z) 4711 számú rendelése úton van.\n")
    assert "Szállító: Magyar Posta, csomagszám: RR123456785HU." in text
    assert "Várható kézbesítés: " in text
    assert text.endswith(f"Itt követheti a csomagot: {link}")
    assert re.search(r"/track/shop-a/o/[A-Za-z0-9_-]{43}$", link)
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.language, turn.intent, turn.decision, turn.outcome) == (
        "hu",
        "track_order",
        "answer",
        "answered",
    )
    assert turn.entities["order_number"] == "4711"
    assert turn.facts["order"]["number"] == "4711" and turn.facts["tracking_link"] == link
    conv = await kit.conversation(db, conversation_id)
    assert (conv.intent, conv.status, conv.resolved_by_assistant) == ("track_order", "resolved", True)
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == ["assistant.answered"]
    # the reply went out through the delivery queue
    async with db.transaction() as s:
        reply = await s.get(Message, turn.reply_message_id)
        assert reply is not None and reply.delivery_status == "sent"


async def test_norwegian_cancel_asks_for_confirmation_then_cancels_on_ja(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    kari = await kit.buyer(db, shop_a, "kari@example.no", "Kari Nordmann", "nb")
    order_id = await kit.order(db, shop_a, kari, number="5150", country="NO")
    r = await kit.say(client, shop_a, "Hei, jeg vil kansellere bestillingen min 5150.", email=kari.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    said = await kit.outbound_texts(db, conversation_id)
    assert said == [
        (
            "outbound",
            "Bestilling 5150 (44,90\xa0€) er ikke sendt ennå, så jeg kan kansellere den for deg. "
            "Skal jeg kansellere den nå? Svar ja eller nei.",
        )
    ]
    async with db.transaction() as s:
        assert (await s.get(Order, order_id)).cancelled_at is None  # type: ignore[union-attr]
    assert (await kit.conversation(db, conversation_id)).status == "open"
    await kit.say(client, shop_a, "Ja", email=kari.email, conversation_id=conversation_id)
    await run_jobs()
    said = await kit.outbound_texts(db, conversation_id)
    assert said[1] == (
        "outbound",
        "Ferdig: bestilling 5150 er kansellert. Beløpet på 44,90\xa0€ blir tilbakebetalt til den opprinnelige "
        "betalingsmåten innen 5 virkedager.",
    )
    async with db.transaction() as s:
        cancelled = await s.get(Order, order_id)
        assert cancelled is not None and cancelled.cancelled_at is not None
        assert cancelled.refunded_minor == 4490
    assert await kit.events(db, shop_a.id, "order.") == [("order.cancelled", "assistant", order_id)]
    first, second = await kit.turns(db, conversation_id)
    assert (first.intent, first.outcome, first.pending) == (
        "cancel_order",
        "answered",
        {"kind": "confirm_cancel", "order_id": order_id, "number": "5150", "language": "nb"},
    )
    assert (second.outcome, second.action, second.action_result["status"]) == (
        "action",
        "cancel_order",
        "done",
    )
    assert second.policy_check["confirmation"] == "yes" and second.policy_check["pending"] == "confirm_cancel"
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == [
        "assistant.answered",
        "assistant.action",
    ]
    conv = await kit.conversation(db, conversation_id)
    assert (conv.status, conv.resolved_by_assistant) == ("resolved", True)


async def test_norwegian_cancel_answered_nei_changes_nothing(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    kari = await kit.buyer(db, shop_a, "kari@example.no", "Kari Nordmann", "nb")
    order_id = await kit.order(db, shop_a, kari, number="5151", country="NO")
    r = await kit.say(client, shop_a, "Kan dere kansellere ordre 5151?", email=kari.email)
    await run_jobs()
    await kit.say(
        client, shop_a, "Nei, jeg vil beholde den", email=kari.email, conversation_id=r["conversation_id"]
    )
    await run_jobs()
    said = await kit.outbound_texts(db, r["conversation_id"])
    assert said[-1] == ("outbound", "Helt i orden, jeg har ikke endret noe; bestilling 5151 står som før.")
    async with db.transaction() as s:
        assert (await s.get(Order, order_id)).cancelled_at is None  # type: ignore[union-attr]
    assert await kit.events(db, shop_a.id, "order.") == []


async def test_german_broken_vase_is_handed_over_with_summary_priority_and_routing(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    lena = await kit.buyer(db, shop_a, "lena@example.de", "Lena Müller", "de")
    await kit.order(db, shop_a, lena, number="6001", shipped=True, delivered=True, carrier="DHL")
    text = "Hallo, die Vase aus meiner Bestellung 6001 ist zerbrochen angekommen. Was nun?"
    r = await kit.say(client, shop_a, text, email=lena.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    conv = await kit.conversation(db, conversation_id)
    # shop_a's agents: admin/agent/viewer; make_shop gives no language skills, so the team gets it
    assert (conv.intent, conv.priority, conv.status) == ("damaged_or_wrong_item", "high", "open")
    said = await kit.outbound_texts(db, conversation_id)
    assert [d for d, _ in said] == ["outbound", "note"]
    assert said[0][1] == (
        "Es tut mir wirklich leid, dass Ihre Bestellung nicht so angekommen ist, wie sie sollte. "
        "Vielen Dank für Ihre Nachricht. Ich habe sie an unser Kundenservice-Team weitergegeben; Sie bekommen "
        "hier in Kürze eine Antwort, in der Regel innerhalb von 2 Stunden."
    )
    note = said[1][1]
    assert note.startswith(
        "Assistant hand-over (intent:damaged or wrong item).\nIntent: damaged_or_wrong_item ("
    )
    assert "Order 6001: fulfilled, paid, €44.90, placed " in note
    assert f'Customer wrote: "{text}"' in note
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.outcome, turn.policy_check) == (
        "handover",
        {
            "reason": "intent:damaged_or_wrong_item",
            # the model and the damage rule agree: problems are always a person's
            "understanding": {
                "model_intent": "damaged_or_wrong_item",
                "model_decision": "handover",
                "how": "problem_rule",
                "rules": ["damaged_or_wrong_item"],
            },
        },
    )
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == ["assistant.handover"]
    assert not conv.resolved_by_assistant


async def test_handover_routes_to_an_agent_who_speaks_the_language(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    from storedesk.agents.models import Agent

    await kit.enable_assistant(db, shop_a)
    async with db.transaction() as s:
        agent = await s.get(Agent, shop_a.agent_ids["agent"])
        assert agent is not None
        agent.languages = ["de", "en"]
        admin = await s.get(Agent, shop_a.agent_ids["admin"])
        assert admin is not None
        admin.languages = ["en"]
    r = await kit.say(client, shop_a, "Ich möchte bitte mit einem Menschen sprechen.", email="x@example.de")
    await run_jobs()
    conv = await kit.conversation(db, r["conversation_id"])
    assert (conv.intent, conv.assignee_id) == ("talk_to_human", shop_a.agent_ids["agent"])
    said = await kit.outbound_texts(db, r["conversation_id"])
    assert said[0][1].startswith("Vielen Dank für Ihre Nachricht. Ich habe sie an Agent weitergegeben;")


async def test_someone_else_asking_about_an_order_gets_no_data(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    anna = await kit.buyer(db, shop_a, "anna@example.hu", "Kovács Anna", "hu")
    await kit.order(db, shop_a, anna, number="4712", shipped=True)
    r = await kit.say(client, shop_a, "Where is my order 4712?", email="mallory@example.com")
    await run_jobs()
    said = await kit.outbound_texts(db, r["conversation_id"])
    assert said == [
        (
            "outbound",
            "I couldn't find an order with that number for your account. Please send the order number "
            "together with the email address used for the order.",
        )
    ]
    [turn] = await kit.turns(db, r["conversation_id"])
    assert turn.policy_check["verification"] == "not_verified" and turn.facts == {"order": None}
    # an anonymous chat that gives the order's email and number is answered
    r2 = await kit.say(
        client, shop_a, "Where is my order 4712? My email is anna@example.hu", visitor="visitor-1"
    )
    await run_jobs()
    said2 = await kit.outbound_texts(db, r2["conversation_id"])
    assert said2[0][1].startswith("Your order 4712 is on its way.\n")


async def test_redelivered_message_gets_no_second_turn(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    anna = await kit.buyer(db, shop_a, "anna@example.hu", "Kovács Anna", "hu")
    await kit.order(db, shop_a, anna, number="4713", shipped=True)
    r = await kit.say(client, shop_a, "Hol van a csomagom? 4713", email=anna.email, key="same-key")
    await run_jobs()
    again = await kit.say(client, shop_a, "Hol van a csomagom? 4713", email=anna.email, key="same-key")
    assert again["created"] is False
    await run_jobs()
    assert len(await kit.turns(db, r["conversation_id"])) == 1
    assert await count_rows(db, "assistant_turns") == 1
    assert len(await kit.outbound_texts(db, r["conversation_id"])) == 1


async def test_assistant_off_without_suggestions_does_nothing(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.set_assistant_policy(db, shop_a, {"enabled": False, "suggestions": False})
    r = await kit.say(client, shop_a, "Where is my order 1234?", email="a@example.com")
    await run_jobs()
    assert await count_rows(db, "assistant_turns") == 0
    assert await count_rows(db, "jobs") == 0
    assert await kit.outbound_texts(db, r["conversation_id"]) == []
    async with db.transaction() as s:
        assert (await s.execute(select(Message.id).where(Message.direction == "outbound"))).first() is None


async def test_email_auto_reply_never_reaches_the_assistant(
    db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    from storedesk.channels import ingest
    from storedesk.customers.models import IdentityKind

    await kit.enable_assistant(db, shop_a)
    message = ingest.InboundMessage(
        channel_id=shop_a.channel_id,
        sender=ingest.SenderIdentity(IdentityKind.email, "ooo@example.com"),
        text="I am out of office until Monday. Where is my order 1234?",
        provider_message_id="auto-1",
        meta={"auto_reply": True},
    )
    async with db.transaction() as s:
        [result] = await ingest.ingest_now(  # type: ignore[misc]
            s,
            source="test",
            dedupe_key="auto-1",
            shop_id=shop_a.id,
            channel_id=shop_a.channel_id,
            headers={},
            body=b"",
            items=[message],
        )
    assert result.created is True
    assert await count_rows(db, "jobs") == 0
    await run_jobs()
    assert await count_rows(db, "assistant_turns") == 0


async def test_after_a_handover_and_an_agent_reply_the_assistant_stays_out(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    r = await kit.say(client, shop_a, "Can I talk to a real person please?", email="p@example.com")
    await run_jobs()
    conversation_id = r["conversation_id"]
    assert [t.outcome for t in await kit.turns(db, conversation_id)] == ["handover"]
    # before an agent answered, a new message gets a turn, but only as a suggestion (no second hand-over)
    await kit.say(
        client, shop_a, "Hello? Anyone there?", email="p@example.com", conversation_id=conversation_id
    )
    await run_jobs()
    assert [t.outcome for t in await kit.turns(db, conversation_id)] == ["handover", "suggested"]
    assert [d for d, _ in await kit.outbound_texts(db, conversation_id)] == ["outbound", "note"]
    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"kind": "reply", "text": "Hi, I'm here, how can I help?"},
        headers=shop_a.h(),
    )
    assert reply.status_code == 201, reply.text
    await run_jobs()
    await kit.say(
        client, shop_a, "Where is my order 1234?", email="p@example.com", conversation_id=conversation_id
    )
    await run_jobs()
    assert [t.outcome for t in await kit.turns(db, conversation_id)] == ["handover", "suggested"]
    async with db.transaction() as s:
        queued = (await s.execute(select(Message.id).where(Message.conversation_id == conversation_id))).all()
    assert len(queued) == 6  # 3 customer messages, the hand-over reply, the note, the agent's reply


async def test_intents_the_shop_does_not_automate_are_suggested_not_sent(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a, extra={"automated_intents": ["delivery_options"]})
    anna = await kit.buyer(db, shop_a, "anna@example.com", "Anna Smith", "en")
    await kit.order(
        db, shop_a, anna, number="8001", shipped=True, carrier="UPS", tracking="1Z999AA10123456784"
    )
    r = await kit.say(client, shop_a, "Where is my order 8001?", email=anna.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    assert await kit.outbound_texts(db, conversation_id) == []
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.outcome, turn.intent, turn.reply_message_id) == ("suggested", "track_order", None)
    assert turn.suggested_text is not None and turn.suggested_text.startswith(
        "Your order 8001 is on its way."
    )
    assert turn.policy_check["suggest_because"] == "not_automated"
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == ["assistant.suggested"]
    conv = await kit.conversation(db, conversation_id)
    assert (conv.status, conv.intent, conv.resolved_by_assistant) == ("open", "track_order", False)
    got = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/suggestion", headers=shop_a.h()
    )
    assert got.json()["source"] == "turn" and got.json()["text"] == turn.suggested_text


async def test_german_question_finds_an_english_only_article_and_says_so(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    from storedesk.helpcenter import service as helpcenter
    from storedesk.kit.actor import SYSTEM

    await kit.enable_assistant(db, shop_a)
    langs = ["en", "de", "hu", "nb", "fr", "sv", "pl", "es"]
    async with db.transaction() as s:
        await helpcenter.save_category(
            s,
            shop_id=shop_a.id,
            actor=SYSTEM,
            shop_languages=langs,
            slug="products",
            names={"en": "Products"},
        )
        await helpcenter.create_article(
            s,
            shop_id=shop_a.id,
            actor=SYSTEM,
            shop_languages=langs,
            category="products",
            visibility="public",
            language="en",
            title="Size guide",
            slug="size-guide",
            publish=True,
            body="Our linen shirts fit true to size. If you are between two sizes, choose the larger size. "
            "Measure your chest and compare it with the size table.",
        )
    r = await kit.say(
        client, shop_a, "Welche Größe sollte ich bei dem Leinenhemd nehmen?", email="g@example.de"
    )
    await run_jobs()
    [turn] = await kit.turns(db, r["conversation_id"])
    assert (turn.language, turn.intent, turn.template) == ("de", "product_question", "kb.other_language")
    assert turn.outcome == "answered"  # confident enough on German product questions to send
    said = await kit.outbound_texts(db, r["conversation_id"])
    assert [d for d, _ in said][:1] == ["outbound"]
    text = said[0][1]
    assert text == (
        "Diesen Artikel gibt es bisher nur auf Englisch: Size guide "
        "http://127.0.0.1:8000/help/shop-a/en/a/size-guide"
    )
    assert turn.facts["via"] == "translation" and turn.facts["language"] == "en"


async def test_chat_widget_visitor_gets_the_answer_in_the_widget(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    from storedesk.channels.widget import endpoints as widget_endpoints

    widget_endpoints.reset_limits()
    await kit.enable_assistant(db, shop_a)
    anna = await kit.buyer(db, shop_a, "anna@example.hu", "Kovács Anna", "hu")
    order_id = await kit.order(db, shop_a, anna, number="4720", country="HU", shipped=True)
    s = (await client.post("/widget/shop-a/session", json={"token": None, "language": "hu-HU"})).json()
    r = await client.post("/widget/shop-a/identify", json={"token": s["token"], "email": "anna@example.hu"})
    assert r.status_code == 200, r.text
    r = await client.post(
        "/widget/shop-a/messages",
        json={"token": s["token"], "text": "Hol van a csomagom?", "client_id": "w1aaaaaaaa"},
    )
    assert r.status_code == 201, r.text
    await run_jobs()
    got = await client.get("/widget/shop-a/messages", params={"token": s["token"], "after_id": 0})
    messages = got.json()["messages"]
    # the answer, then (the assistant resolved the conversation) the shop's CSAT question with buttons
    assert [m["from"] for m in messages] == ["visitor", "agent", "agent"]
    assert [b["title"] for b in messages[2]["buttons"]] == ["1", "2", "3", "4", "5"]
    assert messages[2]["text"].startswith("Mennyire elégedett")
    link = links().tracking("shop-a", shop_a.id, order_id)
    assert messages[1]["text"].startswith("A(z) 4720 számú rendelése úton van.\n")
    assert messages[1]["text"].endswith(f"Itt követheti a csomagot: {link}")
