"""Suggest-only shops (the default): a burst of customer messages in one conversation costs one triage —
one ``assistant.suggest`` job per conversation, run for the newest message — and an agent who opens the
conversation before that job ran still gets the suggestion for the latest text, computed once and stored.
An answering assistant keeps one job and one turn per message. Real ingest path (API channel), real job
runner, on SQLite and PostgreSQL (docs/adr/0009)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from storedesk.db.session import Database
from storedesk.jobs.models import Job
from tests.assistant import kit
from tests.conftest import ShopWorld, count_rows

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("assistant")]

BURST = [
    "Hello",
    "I have a question",
    "about my order",
    "it has not arrived",
    "What payment methods do you accept?",
]
PAYMENT = {"en": "We accept Visa, Mastercard and PayPal."}


@pytest.fixture(autouse=True)
def _links(settings: Any) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)


async def _jobs(db: Database) -> dict[str, int]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(Job.name, func.count()).where(Job.name.like("assistant.%")).group_by(Job.name)
        )
        return {str(name): int(n) for name, n in rows.all()}


async def _burst(client: httpx.AsyncClient, shop: ShopWorld, email: str) -> tuple[int, list[int]]:
    first = await kit.say(client, shop, BURST[0], email=email)
    conversation_id = int(first["conversation_id"])
    ids = [int(first["message_id"])]
    for text in BURST[1:]:
        r = await kit.say(client, shop, text, email=email, conversation_id=conversation_id)
        ids.append(int(r["message_id"]))
    return conversation_id, ids


async def test_a_burst_of_five_messages_is_triaged_once_for_the_newest(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.set_assistant_policy(db, shop_a, {"payment_methods": PAYMENT})  # otherwise the default
    conversation_id, ids = await _burst(client, shop_a, "burst@example.com")
    assert await _jobs(db) == {"assistant.suggest": 1}
    await run_jobs()
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.message_id, turn.outcome, turn.intent) == (ids[-1], "suggested", "payment_methods")
    assert turn.suggested_text == PAYMENT["en"]
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == ["assistant.suggested"]
    # the key was given up when the job ran: the next message queues the next job, and gets its own turn
    r = await kit.say(
        client, shop_a, "Where is my order 1234?", email="burst@example.com", conversation_id=conversation_id
    )
    assert await _jobs(db) == {"assistant.suggest": 2}
    await run_jobs()
    turns = await kit.turns(db, conversation_id)
    assert [(t.message_id, t.intent) for t in turns] == [
        (ids[-1], "payment_methods"),
        (int(r["message_id"]), "track_order"),
    ]
    async with db.transaction() as s:
        statuses = (
            await s.execute(select(Job.status, Job.dedupe_key).where(Job.name == "assistant.suggest"))
        ).all()
    assert sorted(statuses) == [("done", None), ("done", None)]


async def test_the_agent_opening_the_conversation_gets_the_suggestion_for_the_latest_text_before_the_job(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.set_assistant_policy(db, shop_a, {"enabled": False, "payment_methods": PAYMENT})
    conversation_id, ids = await _burst(client, shop_a, "panel@example.com")
    assert await count_rows(db, "assistant_turns") == 0
    got = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/suggestion", headers=shop_a.h()
    )
    assert got.status_code == 200, got.text
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.message_id, turn.suggested_text) == (ids[-1], PAYMENT["en"])
    assert (got.json()["source"], got.json()["text"], got.json()["intent"]) == (
        "turn",
        turn.suggested_text,
        "payment_methods",
    )
    # stored: the second look and the queued job compute nothing more
    again = await client.get(
        f"/api/v1/conversations/{conversation_id}/assistant/suggestion", headers=shop_a.h()
    )
    assert again.json() == got.json()
    await run_jobs()
    assert [t.message_id for t in await kit.turns(db, conversation_id)] == [ids[-1]]
    assert [e[0] for e in await kit.events(db, shop_a.id, "assistant.")] == ["assistant.suggested"]


async def test_an_answering_assistant_still_takes_every_message_on_its_own(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.set_assistant_policy(db, shop_a, {"enabled": True})
    conversation_id, ids = await _burst(client, shop_a, "auto@example.com")
    assert await _jobs(db) == {"assistant.handle": 5}
    await run_jobs()
    assert sorted(t.message_id for t in await kit.turns(db, conversation_id)) == ids
