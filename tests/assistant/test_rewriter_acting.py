"""The assistant using the optional OpenAI-compatible endpoint in the running product — rephrased answers,
hand-over summaries, every failure falling back to our text — with a real local server speaking the OpenAI
wire format, messages through the API channel and ``run_jobs()``, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storedesk.assistant import service
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.assistant import kit
from tests.assistant.openai_server import FakeOpenAI, openai_server, user_text
from tests.conftest import ShopWorld

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("assistant")]


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with openai_server() as server:
        yield server


@pytest.fixture
def settings(settings: Settings, llm: FakeOpenAI) -> Settings:
    return settings.model_copy(
        update={
            "assistant_llm_base_url": llm.url + "/v1",
            "assistant_llm_model": "tiny-llm",
            "assistant_llm_api_key": "sk-test-123",
            "assistant_llm_timeout_seconds": 1.0,
        }
    )


@pytest.fixture(autouse=True)
def _configured(settings: Settings) -> Iterator[None]:
    service.configure(settings.secret_keys, settings.base_url)
    yield
    service.configure_rewriter(None)


def _is_summary(body: dict[str, Any]) -> bool:
    return "summary for the agent" in str(body["messages"][0]["content"])


async def _track(client: httpx.AsyncClient, db: Database, shop: ShopWorld, run_jobs: Any) -> int:
    await kit.enable_assistant(db, shop)
    lena = await kit.buyer(db, shop, "lena@example.de", "Lena Müller", "de")
    await kit.order(db, shop, lena, number="7001", shipped=True, carrier="DHL", tracking="RR123456785DE")
    r = await kit.say(client, shop, "Hallo, wo ist meine Bestellung 7001?", email=lena.email)
    await run_jobs()
    return int(r["conversation_id"])


async def test_a_german_answer_is_rephrased_and_the_why_records_it(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any, llm: FakeOpenAI
) -> None:
    llm.reply = lambda body: "Gute Nachrichten! " + user_text(body)
    conversation_id = await _track(client, db, shop_a, run_jobs)
    [turn] = await kit.turns(db, conversation_id)
    [use] = turn.policy_check["llm"]
    original = use["original"]
    assert original.startswith(
        "Ihre Bestellung 7001 ist unterwegs.\nVersanddienstleister: DHL, Sendungsnummer "
    )
    assert await kit.outbound_texts(db, conversation_id) == [("outbound", "Gute Nachrichten! " + original)]
    assert (use["use"], use["model"], use["accepted"], use["reason"]) == ("rephrase", "tiny-llm", True, "ok")
    assert use["facts"][:2] == [
        service.links().tracking("shop-a", shop_a.id, turn.facts["order"]["order_id"]),
        "7001",
    ]
    assert "RR123456785DE" in use["facts"] and "DHL" in use["facts"]
    assert (turn.outcome, turn.template) == ("answered", "status.in_transit")
    [body] = llm.requests
    assert body["model"] == "tiny-llm" and body["messages"][1]["content"] == original
    assert "in German" in body["messages"][0]["content"]
    assert llm.headers[0]["authorization"] == "Bearer sk-test-123"
    assert (await kit.conversation(db, conversation_id)).status == "resolved"


async def test_a_rephrasing_without_the_tracking_link_is_not_sent(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any, llm: FakeOpenAI
) -> None:
    llm.reply = lambda body: user_text(body).rsplit("\n", 1)[0] + "\nDen Link finden Sie in Ihrem Konto."
    conversation_id = await _track(client, db, shop_a, run_jobs)
    [turn] = await kit.turns(db, conversation_id)
    [use] = turn.policy_check["llm"]
    link = service.links().tracking("shop-a", shop_a.id, turn.facts["order"]["order_id"])
    assert (use["accepted"], use["reason"], use["missing"]) == (False, "facts_changed", [link])
    [(_, sent)] = await kit.outbound_texts(db, conversation_id)
    assert sent.endswith(f"Hier können Sie die Sendung verfolgen: {link}")
    assert sent.startswith("Ihre Bestellung 7001 ist unterwegs.\n")


async def test_an_overloaded_endpoint_never_fails_the_turn(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any, llm: FakeOpenAI
) -> None:
    llm.status = 503
    conversation_id = await _track(client, db, shop_a, run_jobs)
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.status, turn.outcome) == ("done", "answered")
    [use] = turn.policy_check["llm"]
    assert (use["use"], use["accepted"], use["reason"]) == ("rephrase", False, "http_503")
    [(_, sent)] = await kit.outbound_texts(db, conversation_id)
    assert sent.startswith("Ihre Bestellung 7001 ist unterwegs.\n")


async def test_the_handover_note_gets_the_endpoints_summary_over_our_facts(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any, llm: FakeOpenAI
) -> None:
    summary = "The customer's vase from order 6001 arrived broken; ask for a photo and offer a replacement."
    llm.reply = lambda body: summary if _is_summary(body) else "Hallo! " + user_text(body)
    await kit.enable_assistant(db, shop_a)
    lena = await kit.buyer(db, shop_a, "lena@example.de", "Lena Müller", "de")
    await kit.order(db, shop_a, lena, number="6001", shipped=True, delivered=True, carrier="DHL")
    text = "Hallo, die Vase aus meiner Bestellung 6001 ist zerbrochen angekommen. Was nun?"
    r = await kit.say(client, shop_a, text, email=lena.email)
    await run_jobs()
    said = await kit.outbound_texts(db, r["conversation_id"])
    assert [d for d, _ in said] == ["outbound", "note"]
    # the hand-over message to the customer is ours (only answers are rephrased)
    assert said[0][1].startswith("Es tut mir wirklich leid, dass Ihre Bestellung nicht so angekommen ist")
    note = said[1][1].split("\n")
    assert note[0] == "Assistant hand-over (intent:damaged or wrong item)."
    assert note[1] == f"Summary (tiny-llm): {summary}"
    assert note[2].startswith("Intent: damaged_or_wrong_item (")
    assert any(line.startswith("Order 6001: fulfilled, paid, €44.90, placed ") for line in note)
    assert f'Customer wrote: "{text}"' in note
    [turn] = await kit.turns(db, r["conversation_id"])
    [use] = turn.policy_check["llm"]
    assert (use["use"], use["model"], use["accepted"]) == ("summary", "tiny-llm", True)
    [body] = llm.requests
    assert _is_summary(body) and body["messages"][1]["content"].startswith("Assistant hand-over (intent:")


async def test_a_slow_endpoint_leaves_our_handover_note(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any, llm: FakeOpenAI
) -> None:
    llm.delay = 2.5  # the timeout is 1 s
    await kit.enable_assistant(db, shop_a)
    r = await kit.say(client, shop_a, "Can I talk to a real person please?", email="p@example.com")
    await run_jobs()
    said = await kit.outbound_texts(db, r["conversation_id"])
    assert [d for d, _ in said] == ["outbound", "note"]
    assert said[1][1].startswith("Assistant hand-over (intent:talk to human).\nIntent: talk_to_human (")
    assert "Summary" not in said[1][1]
    [turn] = await kit.turns(db, r["conversation_id"])
    assert turn.outcome == "handover"
    [use] = turn.policy_check["llm"]
    assert (use["use"], use["accepted"], use["reason"]) == ("summary", False, "timeout")
    assert 900 <= use["latency_ms"] < 2400
