"""Triage = language + intent (with a calibrated decision) + entities, for one message."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storedesk.assistant.nlu.bundle import NluBundle, cached_encoder, load_or_train
from storedesk.assistant.nlu.encoder import Encoder, load_default_encoder
from storedesk.assistant.nlu.entities import extract_entities
from storedesk.assistant.nlu.language import LanguageIdentifier, validate_languages
from storedesk.assistant.nlu.model import Decision, geometric_blend


# Long messages are cut to this many words before the encoder (its cost grows ~1.4 ms per token on
# one core); the n-gram head always sees the whole text. STOREDESK_ASSISTANT_ENCODER_MAX_WORDS
# trades accuracy on long messages for latency.
def _max_words() -> int:
    try:
        return max(1, int(os.environ.get("STOREDESK_ASSISTANT_ENCODER_MAX_WORDS", "24")))
    except ValueError:
        return 24


ENCODER_MAX_WORDS = _max_words()


@dataclass(frozen=True, slots=True)
class Triage:
    language: str
    language_confidence: float
    intent: str
    confidence: float
    decision: Decision
    entities: dict[str, Any] = field(default_factory=dict)
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "language_confidence": round(self.language_confidence, 4),
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "decision": self.decision,
            "entities": self.entities,
            "alternatives": [[name, round(p, 4)] for name, p in self.alternatives],
        }


@dataclass(frozen=True, slots=True)
class IntentScores:
    intent: str
    confidence: float
    alternatives: list[tuple[str, float]]
    used_encoder: bool


class Pipeline:
    """Holds the fitted models; thread-safe for concurrent ``triage`` calls."""

    def __init__(
        self,
        bundle: NluBundle,
        encoder: Encoder | None,
        languages: Sequence[str] | None = None,
        *,
        encoder_status: str = "",
        lingua_high_accuracy: bool = False,
    ) -> None:
        self.bundle = bundle
        self.languages = validate_languages(languages)
        model = bundle.intent_model
        # only use the encoder if the model has a head for it
        self.encoder = encoder if (encoder is not None and model.ensemble.has_encoder) else None
        self.encoder_status = encoder_status
        self.language_id = LanguageIdentifier(
            self.languages, bundle.language_model, high_accuracy=lingua_high_accuracy
        )

    @property
    def uses_encoder(self) -> bool:
        return self.encoder is not None

    def intent_scores(self, text: str, *, allow_gate: bool = True) -> IntentScores:
        model = self.bundle.intent_model
        ens = model.ensemble
        p1 = ens.ngram_proba([text])
        used = False
        p = p1
        if self.encoder is not None and not (allow_gate and float(p1.max()) >= model.gate):
            emb = self.encoder.encode([self._encoder_text(text)]).astype(np.float64)
            p = geometric_blend(p1, ens.encoder_proba(emb), ens.weight)
            used = True
        row = p[0]
        order = np.argsort(-row)
        classes = ens.classes
        best = int(order[0])
        alts = [(classes[int(i)], float(row[int(i)])) for i in order[1:4]]
        return IntentScores(classes[best], float(row[best]), alts, used)

    def _encoder_text(self, text: str) -> str:
        words = text.split()
        return " ".join(words[:ENCODER_MAX_WORDS]) if len(words) > ENCODER_MAX_WORDS else text

    def intent_scores_batch(self, texts: Sequence[str], *, allow_gate: bool = True) -> list[IntentScores]:
        """Same results as :meth:`intent_scores` for many texts; encoder vectors go through the
        on-disk embedding cache (for evaluation and bulk work, not the live path)."""
        model = self.bundle.intent_model
        ens = model.ensemble
        texts = [t.strip() for t in texts]
        p1 = ens.ngram_proba(texts) if texts else np.zeros((0, len(ens.classes)))
        p = p1.copy()
        used = np.zeros(len(texts), dtype=bool)
        if self.encoder is not None and len(texts):
            need = [i for i in range(len(texts)) if not (allow_gate and float(p1[i].max()) >= model.gate)]
            if need:
                enc = cached_encoder(self.encoder)
                emb = enc.encode([self._encoder_text(texts[i]) for i in need]).astype(np.float64)
                p[need] = geometric_blend(p1[need], ens.encoder_proba(emb), ens.weight)
                used[need] = True
        out: list[IntentScores] = []
        classes = ens.classes
        for i in range(len(texts)):
            order = np.argsort(-p[i])
            best = int(order[0])
            alts = [(classes[int(j)], float(p[i][int(j)])) for j in order[1:4]]
            out.append(IntentScores(classes[best], float(p[i][best]), alts, bool(used[i])))
        return out

    def triage(
        self,
        text: str,
        catalogue: Sequence[str] | None = None,
        order_pattern: str | None = None,
    ) -> Triage:
        text = text.strip()
        guess = self.language_id.detect(text)
        if not text:
            return Triage(guess.language, guess.confidence, "other", 0.0, "handover", {}, [])
        scores = self.intent_scores(text)
        decision = self.bundle.intent_model.calibration.decide(
            scores.intent, guess.language, scores.confidence
        )
        entities = extract_entities(
            text, language=guess.language, catalogue=catalogue, order_pattern=order_pattern
        )
        return Triage(
            language=guess.language,
            language_confidence=guess.confidence,
            intent=scores.intent,
            confidence=scores.confidence,
            decision=decision,
            entities=entities,
            alternatives=scores.alternatives,
        )


_lock = threading.Lock()
_bundles: dict[tuple[bool, bool], tuple[NluBundle, Encoder | None, str]] = {}
_pipelines: dict[tuple[tuple[str, ...], bool, bool], Pipeline] = {}


def _encoder_threads() -> int:
    try:
        return max(1, int(os.environ.get("STOREDESK_ENCODER_THREADS", "1")))
    except ValueError:
        return 1


def _load(
    use_encoder: bool, with_bitext: bool, progress: Callable[[str], None] | None
) -> tuple[NluBundle, Encoder | None, str]:
    key = (use_encoder, with_bitext)
    if key not in _bundles:
        encoder: Encoder | None = None
        status = "encoder disabled"
        if use_encoder:
            encoder, status = load_default_encoder(num_threads=_encoder_threads())
        bundle, _ = load_or_train(
            cached_encoder(encoder) if encoder is not None else None,
            with_bitext=with_bitext,
            progress=progress,
        )
        _bundles[key] = (bundle, encoder, status)
    return _bundles[key]


def get_pipeline(
    languages: Sequence[str] | None = None,
    *,
    use_encoder: bool = True,
    with_bitext: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Pipeline:
    """The process-wide pipeline for this language set (loads the cached model, training it if the
    cache is missing). ``languages`` defaults to en de hu nb fr sv pl es da nl it."""
    langs = validate_languages(languages)
    key = (langs, use_encoder, with_bitext)
    with _lock:
        pipe = _pipelines.get(key)
        if pipe is None:
            bundle, encoder, status = _load(use_encoder, with_bitext, progress)
            pipe = Pipeline(bundle, encoder, langs, encoder_status=status)
            _pipelines[key] = pipe
        return pipe


def reset_cache() -> None:
    """Forget loaded pipelines (tests, after retraining)."""
    with _lock:
        _bundles.clear()
        _pipelines.clear()
