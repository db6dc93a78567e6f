"""The optional language model: an OpenAI-compatible chat endpoint that may rephrase a templated answer or
write the hand-over summary. Off unless configured (``STOREDESK_ASSISTANT_LLM_*``), never required.

* :class:`ChatModel` is the protocol of the endpoint; :class:`OpenAIChat` is the adapter speaking
  ``POST {base_url}/chat/completions`` (the OpenAI wire format that vLLM, llama.cpp's server, Ollama,
  LocalAI … also speak).
* :class:`Rewriter` holds the rules: a rephrased answer is used only when it still carries every fact of
  the template (order and tracking numbers, links, amounts, dates, names) verbatim, adds no number of its
  own and is in the answer's language; a summary only when the endpoint answered at all. Anything else —
  a timeout, a 5xx, an empty or malformed answer — falls back to our own text. Each use returns a record
  for the turn's "why" (``policy_check["llm"]``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from storedesk.config import Settings

log = logging.getLogger("storedesk.assistant")

USES = ("rephrase", "summary")
# template fields whose rendered value is a fact the rephrased text must keep verbatim
FACT_FIELDS = frozenset(
    {
        "number",
        "tracking",
        "carrier",
        "link",
        "returns_link",
        "url",
        "amount",
        "total",
        "fee",
        "date",
        "eta",
        "check_by",
        "last_day",
        "delivered",
        "rma",
        "days",
        "hours",
        "address",
        "product",
        "title",
    }
)
MAX_OUTPUT_CHARS = 2000
_URL = re.compile(r"https?://[^\s<>\"']+")
_DIGITS = re.compile(r"[^\s]*\d[^\s]*")
_TRIM = ".,;:!?)(\"'«»“”„"
_SPACE = re.compile(r"\s+")


class RewriterError(Exception):
    """The endpoint failed: ``reason`` is short and stable (``timeout``, ``http_503``, ``bad_response``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    latency_ms: int
    usage: dict[str, int] = field(default_factory=dict)


class ChatModel(Protocol):
    """One chat completion: a system and a user message in, the answer's text out."""

    @property
    def model(self) -> str: ...

    async def complete(self, system: str, user: str) -> Completion: ...


class OpenAIChat:
    """Adapter for an OpenAI-compatible ``/chat/completions`` endpoint (``base_url`` ends with ``/v1``)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 4.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self.api_key = api_key
        self.timeout = timeout
        self.transport = transport

    @property
    def model(self) -> str:
        return self._model

    async def complete(self, system: str, user: str) -> Completion:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = {
            "model": self._model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0.2,
        }
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
                response = await client.post(self.url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise RewriterError("timeout", str(exc)) from exc
        except httpx.HTTPError as exc:
            raise RewriterError("unreachable", type(exc).__name__) from exc
        latency = int((time.monotonic() - started) * 1000)
        if response.status_code != 200:
            raise RewriterError(f"http_{response.status_code}", response.text[:200])
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise RewriterError("bad_response", str(exc)[:200]) from exc
        usage_raw = data.get("usage") if isinstance(data, dict) else None
        usage = (
            {str(k): int(v) for k, v in usage_raw.items() if isinstance(v, int)}
            if isinstance(usage_raw, dict)
            else {}
        )
        return Completion(text.strip(), str(data.get("model") or self._model), latency, usage)


# --- the rules -------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _contains(haystack: str, token: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(token) + r"(?!\w)", haystack) is not None


def fact_tokens(text: str, values: Iterable[str] = ()) -> list[str]:
    """The facts in a templated text that a rephrasing must keep: every link, every word with a digit in
    it, and the rendered values of the fact fields (``values``) that appear in it — each verbatim."""
    norm = _norm(text)
    out: list[str] = []
    for url in _URL.findall(norm):
        out.append(url.rstrip(_TRIM))
    stripped = _URL.sub(" ", norm)
    for word in _DIGITS.findall(stripped):
        word = word.strip(_TRIM)
        if word:
            out.append(word)
    for value in values:
        v = _norm(str(value))
        if v and v in norm:
            out.append(v)
    return list(dict.fromkeys(out))


def missing_facts(original: str, rewritten: str, tokens: Sequence[str]) -> list[str]:
    """Facts of ``tokens`` absent from ``rewritten``, then numbers ``rewritten`` adds (``+123``)."""
    new = _norm(rewritten)
    missing = [t for t in tokens if not _contains(new, t)]
    known = _norm(original)
    added = [
        "+" + w
        for w in (x.strip(_TRIM) for x in _DIGITS.findall(_URL.sub(" ", new)))
        if w and not _contains(known, w)
    ]
    return missing + added


LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "hu": "Hungarian",
    "nb": "Norwegian (Bokmål)",
    "fr": "French",
    "sv": "Swedish",
    "pl": "Polish",
    "es": "Spanish",
    "da": "Danish",
    "nl": "Dutch",
    "it": "Italian",
}

REPHRASE_PROMPT = (
    "You polish customer-service replies of an online shop. Rewrite the reply below so that it reads "
    "naturally and warmly in {language}. Keep every order number, tracking number, link, amount, date, "
    "product name and address exactly as written, character for character. Do not add, drop or change any "
    "fact, promise or number. Answer with the rewritten reply only, in {language}."
)
SUMMARY_PROMPT = (
    "You help a customer-service agent of an online shop. The assistant handed a conversation over; below "
    "are its notes. Write a short summary for the agent in English, at most three sentences: what the "
    "customer wants, what is known, and what the agent should do next. Use only the facts given."
)


@dataclass
class Rewriter:
    """The uses of the endpoint that are switched on, with the rules that keep our facts."""

    chat: ChatModel
    rephrase_on: bool = True
    summary_on: bool = True

    def _record(self, use: str, started: float, **fields: Any) -> dict[str, Any]:
        return {
            "use": use,
            "model": self.chat.model,
            "latency_ms": int((time.monotonic() - started) * 1000),
            **fields,
        }

    async def rephrase(
        self,
        text: str,
        language: str,
        *,
        fact_values: Iterable[str] = (),
        detect: Callable[[str], str] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The text to send (the rephrased one or ``text``) and the record of this use."""
        started = time.monotonic()
        tokens = fact_tokens(text, fact_values)
        try:
            done = await self.chat.complete(
                REPHRASE_PROMPT.format(language=LANGUAGE_NAMES.get(language, language)), text
            )
        except RewriterError as exc:
            return text, self._record("rephrase", started, accepted=False, reason=exc.reason)
        except Exception as exc:  # an adapter bug must not fail the customer's turn either
            log.exception("language-model endpoint failed")
            return text, self._record(
                "rephrase", started, accepted=False, reason=f"error:{type(exc).__name__}"
            )
        candidate = done.text.strip()
        record = self._record("rephrase", started, facts=tokens, usage=done.usage)
        if not candidate or len(candidate) > MAX_OUTPUT_CHARS:
            return text, {**record, "accepted": False, "reason": "empty" if not candidate else "too_long"}
        lost = missing_facts(text, candidate, tokens)
        if lost:
            return text, {**record, "accepted": False, "reason": "facts_changed", "missing": lost}
        if detect is not None:
            found = detect(candidate)
            if found != language and found != detect(text):
                return text, {**record, "accepted": False, "reason": "language", "language": found}
        return candidate, {**record, "accepted": True, "reason": "ok", "original": text}

    async def summarise(self, notes: str) -> tuple[str | None, dict[str, Any]]:
        """The endpoint's summary of the hand-over notes (None on any failure) and the record."""
        started = time.monotonic()
        try:
            done = await self.chat.complete(SUMMARY_PROMPT, notes)
        except RewriterError as exc:
            return None, self._record("summary", started, accepted=False, reason=exc.reason)
        except Exception as exc:  # an adapter bug must not fail the hand-over either
            log.exception("language-model endpoint failed")
            return None, self._record(
                "summary", started, accepted=False, reason=f"error:{type(exc).__name__}"
            )
        summary = _norm(done.text)
        record = self._record("summary", started, usage=done.usage)
        if not summary:
            return None, {**record, "accepted": False, "reason": "empty"}
        return summary[:MAX_OUTPUT_CHARS], {**record, "accepted": True, "reason": "ok"}


def from_settings(settings: Settings) -> Rewriter | None:
    """The rewriter the settings describe, or None when no endpoint (or no use) is configured."""
    base = (settings.assistant_llm_base_url or "").strip()
    model = settings.assistant_llm_model.strip()
    uses = set(settings.assistant_llm_use_list)
    if not base or not model or not uses:
        return None
    chat = OpenAIChat(
        base,
        model,
        api_key=settings.assistant_llm_api_key or None,
        timeout=settings.assistant_llm_timeout_seconds,
    )
    return Rewriter(chat, rephrase_on="rephrase" in uses, summary_on="summary" in uses)
