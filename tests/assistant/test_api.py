"""Agent-side assistant API: the why of each turn, the suggested reply, intent corrections, the tone check —
roles enforced and another shop's agent seeing nothing (404) and changing nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storedesk.db.session import Database
from tests.assistant import kit
from tests.conftest import ShopWorld

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("assistant")]


@pytest.fixture(autouse=True)
def _links(settings: Any) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)


async def _tracked(
    client: httpx.AsyncClient, db: Database, shop: ShopWorld, run_jobs: Any
) -> tuple[int, int]:
    await kit.enable_assistant(db, shop)
    anna = await kit.buyer(db, shop, "anna@example.com", "Anna Smith", "en")
    await kit.order(db, shop, anna, number="7001", shipped=True, carrier="UPS", tracking="1Z999AA10123456784")
    r = await kit.say(client, shop, "Where is my order 7001?", email=anna.email)
    await run_jobs()
    return r["conversation_id"], r["message_id"]


async def test_turns_list_the_why_and_agents_correct_the_intent(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld, run_jobs: Any
) -> None:
    conversation_id, message_id = await _tracked(client, db, shop_a, run_jobs)
    r = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/turns", headers=shop_a.h("viewer")
    )
    assert r.status_code == 200
    [turn] = r.json()
    assert {k: turn[k] for k in ("message_id", "status", "outcome", "language", "intent", "decision")} == {
        "message_id": message_id,
        "status": "done",
        "outcome": "answered",
        "language": "en",
        "intent": "track_order",
        "decision": "answer",
    }
    assert turn["entities"] == {"order_number": "7001"}
    assert turn["facts"]["shipment"]["carrier"] == "UPS"
    assert turn["policy_check"]["verification"] == "owner_or_email"
    assert turn["template"] == "status.in_transit" and turn["reply_message_id"] is not None
    # another shop's agent: 404 and nothing
    assert (
        await client.get(f"/api/v1/conversations/{conversation_id}/assistant/turns", headers=shop_b.h())
    ).status_code == 404
    url = f"/api/v1/assistant/turns/{turn['id']}/correction"
    assert (
        await client.post(url, json={"intent": "delivery_problem"}, headers=shop_b.h())
    ).status_code == 404
    # viewers may not correct; unknown intents are a 422
    assert (
        await client.post(url, json={"intent": "delivery_problem"}, headers=shop_a.h("viewer"))
    ).status_code == 403
    bad = await client.post(url, json={"intent": "nonsense"}, headers=shop_a.h())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
    after = (await kit.turns(db, conversation_id))[0]
    assert after.corrected_intent is None
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.corrected")] == []
    ok = await client.post(url, json={"intent": "delivery_problem"}, headers=shop_a.h())
    assert ok.status_code == 200
    body = ok.json()
    assert (body["intent"], body["corrected_intent"], body["corrected_by"]) == (
        "track_order",
        "delivery_problem",
        shop_a.agent_ids["agent"],
    )
    assert [e[:2] for e in await kit.events(db, shop_a.id, "assistant.corrected")] == [
        ("assistant.corrected", "agent")
    ]
    assert (await kit.conversation(db, conversation_id)).intent == "delivery_problem"


async def test_corrections_export_as_training_rows(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    from storedesk.assistant.service import corrections

    conversation_id, _ = await _tracked(client, db, shop_a, run_jobs)
    [turn] = await kit.turns(db, conversation_id)
    r = await client.post(
        f"/api/v1/assistant/turns/{turn.id}/correction",
        json={"intent": "delivery_problem"},
        headers=shop_a.h(),
    )
    assert r.status_code == 200
    async with db.transaction() as s:
        rows = await corrections(s, shop_id=shop_a.id)
    assert rows == [
        {
            "text": "Where is my order 7001?",
            "intent": "delivery_problem",
            "language": "en",
            "group": f"correction:{shop_a.id}:{turn.id}",
        }
    ]


async def test_suggestion_from_a_stored_turn_and_computed_for_an_open_conversation(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld, run_jobs: Any
) -> None:
    # the assistant is off: no turn; an agent asks for a suggestion and the engine runs in suggest mode
    anna = await kit.buyer(db, shop_a, "anna@example.com", "Anna Smith", "en")
    await kit.order(
        db, shop_a, anna, number="7002", shipped=True, carrier="UPS", tracking="1Z999AA10123456784"
    )
    r = await kit.say(client, shop_a, "Where is my order 7002?", email=anna.email)
    await run_jobs()
    url = f"/api/v1/conversations/{r['conversation_id']}/assistant/suggestion"
    got = await client.get(url, headers=shop_a.h())
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["source"], body["intent"], body["language"], body["turn_id"]) == (
        "engine",
        "track_order",
        "en",
        None,
    )
    assert body["text"].startswith(
        "Your order 7002 is on its way.\nCarrier: UPS, tracking number 1Z999AA10123456784."
    )
    assert await kit.outbound_texts(db, r["conversation_id"]) == []  # nothing was sent
    assert (await client.get(url, headers=shop_b.h())).status_code == 404
    assert (await client.get(url, headers=shop_a.h("viewer"))).status_code == 403


async def test_tone_check_flags_curt_drafts(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    url = "/api/v1/assistant/tone"
    curt = await client.post(
        url,
        json={
            "text": "AS I ALREADY SAID the parcel is with the carrier, not our problem, read the tracking page",
            "language": "en",
        },
        headers=shop_a.h(),
    )
    assert curt.status_code == 200
    assert [f["code"] for f in curt.json()["flags"]] == [
        "all_caps",
        "no_greeting",
        "no_thanks_or_closing",
        "blunt_phrase",
    ]
    assert curt.json()["ok"] is False
    polite = await client.post(
        url,
        json={
            "text": "Hallo Frau Müller, vielen Dank für Ihre Nachricht. Ihr Paket ist unterwegs und kommt morgen an. "
            "Viele Grüße, Jonas",
            "language": "de",
        },
        headers=shop_a.h(),
    )
    assert polite.json() == {"ok": True, "flags": []}
    short = await client.post(url, json={"text": "Nein.", "language": "de"}, headers=shop_a.h())
    assert [f["code"] for f in short.json()["flags"]] == ["very_short"]
    assert (
        await client.post(url, json={"text": "x", "language": "de"}, headers=shop_a.h("viewer"))
    ).status_code == 403
    assert (
        await client.post(url, json={"text": "x", "language": "deutsch"}, headers=shop_a.h())
    ).status_code == 422
