"""The optional OpenAI-compatible endpoint: the rules that keep our facts (with a scripted model) and the
adapter's contract against a real local HTTP server speaking the OpenAI wire format (the assistant using
it in the running product: test_rewriter_acting.py)."""

from __future__ import annotations

from typing import Any

import pytest

from storedesk.assistant import rewriter as rw
from storedesk.assistant.nlu import Pipeline
from storedesk.config import Settings
from tests.assistant.openai_server import openai_server, user_text

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("assistant")]

EN = (
    "Your order SD-7001 is on its way.\nCarrier: UPS, tracking number 1Z999AA10123456784.\n"
    "Expected delivery: 9 December 2026.\nYou can follow it here: https://shop.example/track/shop-a/o/AbC_1"
)
EN_VALUES = [
    "SD-7001",
    "UPS",
    "1Z999AA10123456784",
    "9 December 2026",
    "https://shop.example/track/shop-a/o/AbC_1",
]


class ScriptedModel:
    """A ChatModel for the rules' unit tests: answers with a fixed text, or raises."""

    def __init__(self, answer: str | None = None, error: str | None = None) -> None:
        self.answer, self.error = answer, error
        self.calls: list[tuple[str, str]] = []

    @property
    def model(self) -> str:
        return "scripted-1"

    async def complete(self, system: str, user: str) -> rw.Completion:
        self.calls.append((system, user))
        if self.error is not None:
            raise rw.RewriterError(self.error)
        assert self.answer is not None
        return rw.Completion(self.answer, "scripted-1", 12, {"total_tokens": 70})


def test_fact_tokens_are_links_numbers_and_the_rendered_fact_values() -> None:
    assert rw.fact_tokens(EN, EN_VALUES) == [
        "https://shop.example/track/shop-a/o/AbC_1",
        "SD-7001",
        "1Z999AA10123456784",
        "9",
        "2026",
        "UPS",
        "9 December 2026",
    ]
    # a value that is not in the text is no fact of it; non-breaking spaces count as spaces
    assert rw.fact_tokens("Refund of 49,90\xa0€ sent.", ["49,90 €", "SD-1"]) == ["49,90", "49,90 €"]


async def test_a_rephrasing_that_keeps_every_fact_is_used_and_recorded() -> None:
    better = (
        "Good news — order SD-7001 is on its way with UPS (tracking number 1Z999AA10123456784) and should "
        "arrive on 9 December 2026. Follow it here: https://shop.example/track/shop-a/o/AbC_1"
    )
    model = ScriptedModel(better)
    text, record = await rw.Rewriter(model).rephrase(EN, "en", fact_values=EN_VALUES, detect=lambda t: "en")
    assert text == better
    assert {k: record[k] for k in ("use", "model", "accepted", "reason", "usage", "original")} == {
        "use": "rephrase",
        "model": "scripted-1",
        "accepted": True,
        "reason": "ok",
        "usage": {"total_tokens": 70},
        "original": EN,
    }
    assert isinstance(record["latency_ms"], int)
    [(system, user)] = model.calls
    assert user == EN and "in English" in system and "character for character" in system


async def test_a_rephrasing_that_drops_changes_or_adds_a_fact_is_rejected() -> None:
    dropped = EN.replace("1Z999AA10123456784", "your tracking number")
    text, record = await rw.Rewriter(ScriptedModel(dropped)).rephrase(EN, "en", fact_values=EN_VALUES)
    assert text == EN
    assert (record["accepted"], record["reason"], record["missing"]) == (
        False,
        "facts_changed",
        ["1Z999AA10123456784"],
    )
    changed = EN.replace("9 December 2026", "10 December 2026")
    _, record = await rw.Rewriter(ScriptedModel(changed)).rephrase(EN, "en", fact_values=EN_VALUES)
    assert record["missing"] == ["9", "9 December 2026", "+10"]
    added = EN + "\nYou will also get a 10% voucher."
    text, record = await rw.Rewriter(ScriptedModel(added)).rephrase(EN, "en", fact_values=EN_VALUES)
    assert (text, record["missing"]) == (EN, ["+10%"])


async def test_a_rephrasing_in_another_language_is_rejected_by_our_language_id(pipe: Pipeline) -> None:
    german = (
        "Ihre Bestellung SD-7001 ist mit UPS unterwegs, Sendungsnummer 1Z999AA10123456784, Zustellung "
        "9 December 2026. Hier können Sie die Sendung verfolgen: https://shop.example/track/shop-a/o/AbC_1"
    )

    def detect(text: str) -> str:
        return pipe.language_id.detect(text).language

    text, record = await rw.Rewriter(ScriptedModel(german)).rephrase(
        EN, "en", fact_values=EN_VALUES, detect=detect
    )
    assert (text, record["accepted"], record["reason"], record["language"]) == (EN, False, "language", "de")


async def test_endpoint_errors_fall_back_to_our_text() -> None:
    text, record = await rw.Rewriter(ScriptedModel(error="timeout")).rephrase(EN, "en")
    assert (text, record["accepted"], record["reason"]) == (EN, False, "timeout")
    summary, record = await rw.Rewriter(ScriptedModel(error="http_503")).summarise("notes")
    assert (summary, record["reason"]) == (None, "http_503")
    summary, record = await rw.Rewriter(ScriptedModel("   ")).summarise("notes")
    assert (summary, record["reason"]) == (None, "empty")
    # not even a bug in an adapter fails the turn
    text, record = await rw.Rewriter(ScriptedModel()).rephrase(EN, "en")  # no answer: AssertionError
    assert (text, record["accepted"], record["reason"]) == (EN, False, "error:AssertionError")


def test_settings_switch_the_endpoint_and_its_uses() -> None:
    assert rw.from_settings(Settings()) is None
    assert rw.from_settings(Settings(assistant_llm_base_url="http://127.0.0.1:9/v1")) is None  # no model
    built = rw.from_settings(
        Settings(
            assistant_llm_base_url="http://127.0.0.1:9/v1/",
            assistant_llm_model="qwen2.5-1.5b-instruct",
            assistant_llm_uses="summary",
            assistant_llm_timeout_seconds=2.5,
        )
    )
    assert built is not None and (built.rephrase_on, built.summary_on) == (False, True)
    assert isinstance(built.chat, rw.OpenAIChat)
    assert (built.chat.url, built.chat.model, built.chat.timeout, built.chat.api_key) == (
        "http://127.0.0.1:9/v1/chat/completions",
        "qwen2.5-1.5b-instruct",
        2.5,
        None,
    )
    with pytest.raises(ValueError, match="unknown assistant_llm_uses"):
        Settings(assistant_llm_uses="rephrase,translate")


# --- the adapter against a real local server speaking the OpenAI wire format -----------------------------


async def test_openai_chat_speaks_the_wire_format_and_sends_the_key() -> None:
    with openai_server(reply=lambda body: "  Hello " + user_text(body) + "  ") as server:
        chat = rw.OpenAIChat(server.url + "/v1", "tiny-llm", api_key="sk-test-123", timeout=5)
        done = await chat.complete("be nice", "hi there")
    assert (done.text, done.model, done.usage) == (
        "Hello hi there",
        "tiny-llm",
        {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
    )
    [body] = server.requests
    assert body["model"] == "tiny-llm"
    assert body["messages"] == [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "hi there"},
    ]
    assert server.headers[0]["authorization"] == "Bearer sk-test-123"
    assert server.headers[0]["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("server_kwargs", "api_key", "reason"),
    [
        ({}, "sk-wrong", "http_401"),
        ({}, None, "http_401"),
        ({"status": 503}, "sk-test-123", "http_503"),
        ({"status": 500}, "sk-test-123", "http_500"),
        ({"delay": 1.5}, "sk-test-123", "timeout"),
        ({"raw": '{"choices": []}'}, "sk-test-123", "bad_response"),
        ({"raw": "not json"}, "sk-test-123", "bad_response"),
    ],
)
async def test_openai_chat_failures_are_rewriter_errors(
    server_kwargs: dict[str, Any], api_key: str | None, reason: str
) -> None:
    with openai_server(**server_kwargs) as server:
        chat = rw.OpenAIChat(server.url + "/v1", "tiny-llm", api_key=api_key, timeout=0.5)
        with pytest.raises(rw.RewriterError) as err:
            await chat.complete("s", "u")
    assert err.value.reason == reason


async def test_an_unreachable_endpoint_is_a_rewriter_error() -> None:
    from tests.servers import free_port

    chat = rw.OpenAIChat(f"http://127.0.0.1:{free_port()}/v1", "tiny-llm", timeout=0.5)
    with pytest.raises(rw.RewriterError) as err:
        await chat.complete("s", "u")
    assert err.value.reason == "unreachable"
