"""Macro suggestions: the shop's macros ranked for the latest customer message of a conversation.

Pure ranking (``rank``) over three signals, each explainable to the agent:

* **intent** — the macro is tagged with the intent the assistant recognised (``macros.intent``);
* **language** — the macro has a text in the customer's language (otherwise it is inserted in the shop's
  default language);
* **words** — text similarity between the message and the macro's name and text in the language it would
  be inserted in: the help center's light stems (``helpcenter.text.terms``) and its cross-language
  thesaurus concepts (``helpcenter.thesaurus``), as the share of the message's stems / concepts the macro
  covers, each weighted by how rare it is among the shop's macros (idf), averaged. No model, no new
  dependency.

A macro with neither an intent match nor a word in common is never suggested: the language alone says
nothing about whether it fits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from storedesk.helpcenter.text import terms, words
from storedesk.helpcenter.thesaurus import concepts_for_query
from storedesk.knowledge.macros import VARIABLE, pick_language
from storedesk.knowledge.models import Macro

LIMIT = 3
INTENT_WEIGHT = 1.0
LANGUAGE_WEIGHT = 0.3
WORDS_WEIGHT = 0.8
MIN_WORDS = 0.15  # below this share of the message's (weighted) words the text match is noise
GENERIC_INTENTS = frozenset({"other"})  # recognising "other" says nothing about which macro fits


@dataclass(frozen=True)
class MacroSuggestion:
    macro_id: int
    name: str
    language: str  # the language its text would be inserted in
    score: float
    reasons: list[str] = field(default_factory=list)  # "intent", "language", "words"


def _concepts(text: str, language: str) -> set[str]:
    return concepts_for_query(words(text), language)


@lru_cache(maxsize=4096)
def _analyse(body: str, language: str) -> tuple[frozenset[str], frozenset[str]]:
    """A macro text's stems and thesaurus concepts, cached by the text (macros change rarely; the
    thesaurus lookup of a long text is the ranking's main cost)."""
    return frozenset(terms(body, language)), frozenset(_concepts(body, language))


@dataclass(frozen=True)
class _Doc:
    macro: Macro
    language: str
    terms: frozenset[str]
    concepts: frozenset[str]


def _weighted_share(query: set[str], doc: frozenset[str], df: dict[str, int], n: int) -> float:
    """The share of the query's words the document holds, each word weighted by its rarity among the
    shop's macros (idf). A word more than half of the macros (and more than one) have — the greeting,
    "order" — carries no weight at all: it says nothing about which macro fits."""
    weights = {
        q: 0.0 if df.get(q, 0) > 1 and df.get(q, 0) * 2 > n else math.log((n + 1) / (df.get(q, 0) + 0.5))
        for q in query
    }
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for q, w in weights.items() if q in doc) / total


def rank(
    macros: Sequence[Macro],
    *,
    text: str,
    language: str,
    intent: str | None,
    default_language: str,
    limit: int = LIMIT,
) -> list[MacroSuggestion]:
    """The best ``limit`` macros for a customer message, best first (ties: by name, then id)."""
    docs: list[_Doc] = []
    for macro in macros:
        chosen = pick_language(macro.bodies, [language, default_language])
        if chosen is None:
            continue
        body = f"{macro.name}\n" + VARIABLE.sub(" ", str(macro.bodies.get(chosen) or ""))
        doc_terms, doc_concepts = _analyse(body, chosen)
        docs.append(_Doc(macro, chosen, doc_terms, doc_concepts))
    n = len(docs)
    term_df: dict[str, int] = {}
    concept_df: dict[str, int] = {}
    for doc in docs:
        for t in doc.terms:
            term_df[t] = term_df.get(t, 0) + 1
        for c in doc.concepts:
            concept_df[c] = concept_df.get(c, 0) + 1
    q_terms = set(terms(text, language))
    q_concepts = _concepts(text, language)
    scored: list[MacroSuggestion] = []
    for doc in docs:
        reasons: list[str] = []
        score = 0.0
        if intent and intent not in GENERIC_INTENTS and doc.macro.intent == intent:
            score += INTENT_WEIGHT
            reasons.append("intent")
        # words are compared in the same language; a macro in another language (inserted because it has
        # no text in the customer's) only through the thesaurus concepts, and at half weight
        concept_share = _weighted_share(q_concepts, doc.concepts, concept_df, n) if q_concepts else None
        if doc.language == language:
            term_share = _weighted_share(q_terms, doc.terms, term_df, n)
            sim = term_share if concept_share is None else (term_share + concept_share) / 2
        else:
            sim = (concept_share or 0.0) / 2
        if sim >= MIN_WORDS:
            score += WORDS_WEIGHT * sim
            reasons.append("words")
        if not reasons:
            continue
        if doc.language == language:
            score += LANGUAGE_WEIGHT
            reasons.append("language")
        scored.append(MacroSuggestion(doc.macro.id, doc.macro.name, doc.language, round(score, 4), reasons))
    scored.sort(key=lambda s: (-s.score, s.name.casefold(), s.macro_id))
    return scored[: max(0, limit)]
