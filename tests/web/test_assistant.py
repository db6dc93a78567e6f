"""The assistant in the conversation view over HTTP on SQLite and PostgreSQL: each turn's why in the timeline,
intent corrections (agents only, CSRF, tenant isolation), the suggested reply and the tone check."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from storedesk.assistant.models import AssistantTurn
from storedesk.conversations.models import Conversation, Message
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.knowledge.models import Macro
from tests.assistant import kit
from tests.conftest import ShopWorld
from tests.web.helpers import login, seed_conversation

pytestmark = pytest.mark.anyio

CURT_DE = (
    "Die Bestellung ist unterwegs. Die Sendungsnummer steht in der Mail, mehr kann ich dazu nicht sagen."
)
POLITE_DE = (
    "Hallo Frau Müller, vielen Dank für Ihre Nachricht! Ihre Bestellung ist unterwegs und kommt morgen an. "
    "Viele Grüße"
)


async def _turn(db: Database, shop: ShopWorld, **values: Any) -> tuple[int, int, int]:
    """A conversation (German, one customer message) with one stored assistant turn for that message."""
    seeded = await seed_conversation(db, shop.id, shop.customer_id, shop.channel_id)
    async with db.transaction() as session:
        message_id = (
            await session.execute(select(Message.id).where(Message.conversation_id == seeded.conversation_id))
        ).scalar_one()
        turn = AssistantTurn(
            shop_id=shop.id,
            conversation_id=seeded.conversation_id,
            message_id=message_id,
            status="done",
            language="de",
            intent="track_order",
            confidence=0.9734,
            decision="suggest",
            outcome="suggested",
            entities={"order_number": "100234"},
            facts={"order": {"number": "100234", "status": "in_transit"}},
            policy_check={"verification": "owner_or_email", "verified": True},
            suggested_text="Hallo! Ihre Bestellung 100234 ist unterwegs: https://track.example/JJD000390007",
            template="status.in_transit",
            **values,
        )
        session.add(turn)
        await session.flush()
        return seeded.conversation_id, message_id, turn.id


async def _state(db: Database, turn_id: int) -> tuple[Any, ...]:
    async with db.transaction() as session:
        turn = await session.get(AssistantTurn, turn_id)
        assert turn is not None
        conversation = await session.get(Conversation, turn.conversation_id)
        assert conversation is not None
        events = (
            await session.execute(
                select(Event.type, Event.actor_type, Event.actor_id, Event.data)
                .where(Event.type.in_(("assistant.corrected", "conversation.updated")))
                .order_by(Event.id)
            )
        ).all()
        return turn.corrected_intent, turn.corrected_by, conversation.intent, [tuple(e) for e in events]


async def test_the_timeline_shows_each_turn_under_the_message_it_answered(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    conversation_id, message_id, turn_id = await _turn(db, shop_a)
    await login(client, "viewer@shop-a.test")
    r = await client.get(f"/app/c/{conversation_id}")
    assert r.status_code == 200
    html = r.text
    # right after the customer's message
    article_end = html.index("</article>", html.index(f'id="m{message_id}"'))
    assert html.index(f'id="turn-{turn_id}"') > article_end
    turn = html[html.index(f'id="turn-{turn_id}"') : html.index("</details>", article_end)]
    assert 'data-ai-intent="track_order">Where is my order</span>' in turn
    assert '<span class="muted">97%</span>' in turn
    assert '<span class="muted small" data-ai-decision="suggest">suggest</span>' in turn
    assert 'data-ai-outcome="suggested">Suggested a reply to the agents</span>' in turn
    # the why is loaded when the turn is opened
    assert f'hx-get="/app/assistant/turns/{turn_id}" hx-trigger="toggle from:closest details once"' in turn
    body = (await client.get(f"/app/assistant/turns/{turn_id}", headers={"HX-Request": "true"})).text
    assert "<dd data-ai-language>DE</dd>" in body
    assert "<dd data-ai-confidence>0.97</dd>" in body
    assert '<dd data-ai-decision-full="suggest">suggest</dd>' in body
    assert '<span class="muted">order_number</span> 100234' in body
    assert (
        '<span class="muted">order</span> <span class="ai-val"><span class="muted">number</span> 100234 · '
        in body
    )
    assert '<span class="muted">verification</span> owner_or_email' in body
    assert "status.in_transit" in body
    # viewers see the why, but no correction form
    assert "/intent" not in turn and "/intent" not in body
    # the timeline fragment (live refresh) shows it too
    fragment = await client.get(f"/app/c/{conversation_id}/timeline")
    assert f'id="turn-{turn_id}"' in fragment.text
    # in German
    client.cookies.set("storedesk_lang", "de")
    german = (await client.get(f"/app/c/{conversation_id}/timeline")).text
    assert 'data-ai-intent="track_order">Wo ist meine Bestellung</span>' in german
    assert 'data-ai-outcome="suggested">Hat den Agenten eine Antwort vorgeschlagen</span>' in german
    body = (await client.get(f"/app/assistant/turns/{turn_id}")).text
    assert "<dt>Verwendete Fakten</dt>" in body and "<dt>Regelprüfung</dt>" in body


async def test_a_pending_question_reads_as_asked_to_confirm_and_agents_get_the_intent_select(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    conversation_id, _, turn_id = await _turn(
        db,
        shop_a,
        action=None,
        pending={"kind": "confirm_cancel", "order_id": 1},
    )
    await login(client, "agent@shop-a.test")
    html = (await client.get(f"/app/c/{conversation_id}")).text
    assert 'data-ai-outcome="confirm">Asked the customer to confirm</span>' in html
    body = (await client.get(f"/app/assistant/turns/{turn_id}")).text
    assert "<dt>Waiting for</dt><dd><code>confirm_cancel</code></dd>" in body
    form = body[body.index(f'action="/app/assistant/turns/{turn_id}/intent"') :]
    options = re.findall(r'<option value="([a-z_]+)"', form[: form.index("</select>")])
    assert len(options) == 23 and options[0] == "track_order" and options[-1] == "other"
    assert '<option value="track_order" selected>' in form


async def test_an_agent_corrects_the_intent_and_it_is_stored_with_its_event(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    conversation_id, _, turn_id = await _turn(db, shop_a)
    before = await _state(db, turn_id)
    assert before == (None, None, None, [])
    url = f"/app/assistant/turns/{turn_id}/intent"
    csrf = await login(client, "agent@shop-a.test")
    r = await client.post(
        url, data={"intent": "delivery_problem"}, headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert r.status_code == 200
    # the fragment shows the correction at once
    assert 'data-ai-intent="delivery_problem">Delivery problem</span>' in r.text
    assert "<s>Where is my order</s> → Delivery problem" in r.text
    assert '<option value="delivery_problem" selected>' in r.text
    assert "Saved. It will be used in the next training run." in r.text
    agent_id = shop_a.agent_ids["agent"]
    assert await _state(db, turn_id) == (
        "delivery_problem",
        agent_id,
        "delivery_problem",
        [
            ("assistant.corrected", "agent", agent_id, {"turn_id": turn_id, "from": "track_order", "to": "delivery_problem"}),
            ("conversation.updated", "agent", agent_id, {"before": {"intent": None}, "after": {"intent": "delivery_problem"}}),
        ],
    )  # fmt: skip
    # the page shows it after a reload too
    page = (await client.get(f"/app/c/{conversation_id}")).text
    assert '<span class="ai-badge">corrected</span>' in page
    # without JavaScript the form posts and the agent is sent back to the conversation
    plain = await client.post(url, data={"intent": "complaint", "csrf_token": csrf})
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/app/c/{conversation_id}#turn-{turn_id}"
    assert (await _state(db, turn_id))[:3] == ("complaint", agent_id, "complaint")
    # an unknown intent is refused and changes nothing
    bad = await client.post(
        url, data={"intent": "nonsense"}, headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert bad.status_code == 422
    assert (await _state(db, turn_id))[0] == "complaint"


async def test_viewers_other_shops_and_requests_without_csrf_change_nothing(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    conversation_id, _, turn_id = await _turn(db, shop_a)
    url = f"/app/assistant/turns/{turn_id}/intent"
    unchanged = (None, None, None, [])
    csrf = await login(client, "viewer@shop-a.test")
    r = await client.post(
        url, data={"intent": "complaint"}, headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert r.status_code == 403
    assert await _state(db, turn_id) == unchanged
    # a viewer gets no suggestion and cannot run the tone check
    assert (await client.get(f"/app/c/{conversation_id}/assistant/suggestion")).status_code == 403
    # another shop's agent: 404 for the turn, the conversation's suggestion and its tone check
    csrf = await login(client, "agent@shop-b.test")
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    assert (await client.post(url, data={"intent": "complaint"}, headers=h)).status_code == 404
    assert (await client.get(f"/app/assistant/turns/{turn_id}", headers=h)).status_code == 404
    assert (await client.get(f"/app/c/{conversation_id}/assistant/suggestion", headers=h)).status_code == 404
    tone = await client.post(f"/app/c/{conversation_id}/assistant/tone", data={"text": CURT_DE}, headers=h)
    assert tone.status_code == 404
    assert await _state(db, turn_id) == unchanged
    # the turn's own agent, without the CSRF token (header or field): refused
    await login(client, "agent@shop-a.test")
    r = await client.post(url, data={"intent": "complaint"}, headers={"HX-Request": "true"})
    assert r.status_code == 403
    r = await client.post(url, data={"intent": "complaint", "csrf_token": "forged"})
    assert r.status_code == 403
    assert await _state(db, turn_id) == unchanged


async def test_the_suggested_reply_is_offered_while_the_customer_waits(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    conversation_id, _, turn_id = await _turn(db, shop_a)
    async with db.transaction() as session:
        [macro_id] = (
            (await session.execute(select(Macro.id).where(Macro.shop_id == shop_a.id))).scalars().all()
        )
    csrf = await login(client, "agent@shop-a.test")
    page = (await client.get(f"/app/c/{conversation_id}")).text
    assert f'hx-get="/app/c/{conversation_id}/assistant/suggestion"' in page
    # a shop that switched the assistant off completely gets no suggestion (and loads no model for it)
    await kit.set_assistant_policy(db, shop_a, {"enabled": False, "suggestions": False})
    r = await client.get(f"/app/c/{conversation_id}/assistant/suggestion", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.strip() == ""
    # the assistant not answering by itself (the default) still suggests replies to the agents
    await kit.set_assistant_policy(db, shop_a, {"enabled": False})
    r = await client.get(f"/app/c/{conversation_id}/assistant/suggestion", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert (
        '<p class="ai-suggestion-text pre" dir="auto" data-ai-text>'
        "Hallo! Ihre Bestellung 100234 ist unterwegs: https://track.example/JJD000390007</p>"
    ) in r.text
    assert f'data-key="{turn_id}:' in r.text
    assert "Where is my order · DE · 97%" in r.text
    # the agent answers: the customer no longer waits, so nothing is suggested
    sent = await client.post(
        f"/app/c/{conversation_id}/messages",
        data={"text": "Hallo, Ihre Bestellung ist unterwegs. Viele Grüße", "kind": "reply"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert sent.status_code == 200
    r = await client.get(f"/app/c/{conversation_id}/assistant/suggestion", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "data-ai-suggestion" not in r.text
    # the shop's fitting macro is still suggested for the open conversation, with the insert link
    assert re.findall(r'data-url="(/app/c/\d+/macros/\d+)"', r.text) == [
        f"/app/c/{conversation_id}/macros/{macro_id}"
    ]
    assert '<span dir="auto">Where is my order</span> <span class="muted">DE</span>' in r.text
    # closed: nothing
    closed = await client.post(
        f"/app/c/{conversation_id}/status",
        data={"status": "closed"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert closed.status_code == 200, closed.text
    r = await client.get(f"/app/c/{conversation_id}/assistant/suggestion", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.strip() == ""


async def test_the_tone_check_flags_a_curt_german_draft_and_passes_a_polite_one(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    conversation_id, _, _ = await _turn(db, shop_a)  # the conversation's language is German
    csrf = await login(client, "agent@shop-a.test")
    url = f"/app/c/{conversation_id}/assistant/tone"
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    curt = await client.post(url, data={"text": CURT_DE}, headers=h)
    assert curt.status_code == 200
    assert 'data-tone-count="2" data-tone-codes="no_greeting no_thanks_or_closing"' in curt.text
    assert re.findall(r"<li>(.*?)</li>", curt.text) == [
        "Sounds curt: no greeting.",
        "Sounds curt: no thank-you, apology or friendly closing.",
    ]
    polite = await client.post(url, data={"text": POLITE_DE}, headers=h)
    assert polite.status_code == 200
    assert polite.text.strip() == '<div class="tone-ok" data-tone-count="0"></div>'
    # the flags in the agent's language; the check ran in the conversation's (German "bitte" is courtesy)
    client.cookies.set("storedesk_lang", "de")
    shouting = await client.post(url, data={"text": "BITTE WARTEN SIE NOCH"}, headers=h)
    assert re.findall(r"<li>(.*?)</li>", shouting.text) == ["Klingt wie Schreien: Großbuchstaben."]
    # no CSRF token: refused
    assert (await client.post(url, data={"text": CURT_DE}, headers={"HX-Request": "true"})).status_code == 403


async def test_a_turn_still_running_says_so_without_a_form(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    conversation_id, _, turn_id = await _turn(db, shop_a)
    async with db.transaction() as session:
        turn = await session.get(AssistantTurn, turn_id)
        assert turn is not None
        turn.status, turn.intent, turn.confidence, turn.decision, turn.outcome = (
            "started",
            None,
            None,
            None,
            None,
        )
    await login(client, "agent@shop-a.test")
    html = (await client.get(f"/app/c/{conversation_id}/timeline")).text
    assert (
        f'<div class="ai-turn ai-started" id="turn-{turn_id}" data-turn-status="started" role="status">'
        in html
    )
    assert "The assistant is reading this message…" in html
    assert "/intent" not in html
