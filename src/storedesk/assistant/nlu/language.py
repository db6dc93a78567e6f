"""Language identification restricted to the shop's languages.

Two signals are combined in log space:

* lingua (``LanguageDetectorBuilder.from_languages(...)``), by default in low-accuracy mode: the
  high-accuracy models cost ~30 MB of resident memory per language (about 350 MB for the 11 default
  languages), which does not fit the assistant's 400 MB budget next to the encoder;
* our own character n-gram logistic regression trained on the assistant's training texts, which
  knows the customer-service vocabulary and is what separates Norwegian (Bokmål), Danish and
  Swedish on short messages ("Hvor er pakken min?" is nb; "Hvor er min pakke?" is da).

Languages that our model has no data for are scored by lingua alone.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "de", "hu", "nb", "fr", "sv", "pl", "es", "da", "nl", "it")

# codes people use for Norwegian map to Bokmål
_ALIASES = {"no": "nb", "nob": "nb", "nor": "nb"}
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def normalise_code(code: str) -> str:
    c = code.strip().lower().replace("_", "-").split("-")[0]
    return _ALIASES.get(c, c)


def lingua_language(code: str) -> Language:
    """The lingua ``Language`` for an ISO 639-1 code; ``ValueError`` if lingua lacks it."""
    c = normalise_code(code)
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(c))
    except (ValueError, KeyError) as exc:
        raise ValueError(f"unsupported language code {code!r}") from exc


def language_code(lang: Language) -> str:
    """lingua ``Language`` -> our code (``BOKMAL`` -> ``nb``)."""
    return str(lang.iso_code_639_1.name).lower()


def validate_languages(languages: Sequence[str] | None) -> tuple[str, ...]:
    """Normalised, de-duplicated language codes (order kept); defaults when ``None``/empty."""
    if not languages:
        return DEFAULT_LANGUAGES
    out: list[str] = []
    for code in languages:
        c = normalise_code(code)
        lingua_language(c)  # raises for unknown codes
        if c not in out:
            out.append(c)
    return tuple(out)


class CharLanguageModel:
    """Character n-gram logistic regression over the languages present in its training data."""

    # weight of lingua's log-probability against this model's, and of each nb/da/sv hint word
    # (both chosen on out-of-fold predictions)
    lingua_weight: float = 0.35
    hint_weight: float = 0.0

    def __init__(self) -> None:
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2, lowercase=True
        )
        self.clf = LogisticRegression(C=10.0, max_iter=2000, tol=1e-3)
        self.languages: list[str] = []

    def fit(self, texts: Sequence[str], languages: Sequence[str]) -> CharLanguageModel:
        # no class balancing: da/nl/it have few rows, and balancing made Bokmål lose to Danish on
        # sentences that are valid in both
        with threadpool_limits(1):
            x = self.vectorizer.fit_transform([_strip_digits(t) for t in texts])
            self.clf.fit(x, list(languages))
        self.languages = [str(c) for c in self.clf.classes_]
        return self

    def proba(self, text: str) -> dict[str, float]:
        x = self.vectorizer.transform([_strip_digits(text)])
        p = self.clf.predict_proba(x)[0]
        return {lang: float(v) for lang, v in zip(self.languages, p, strict=True)}


def fit_language_model(
    texts: Sequence[str], languages: Sequence[str], groups: Sequence[str], folds: int = 5
) -> CharLanguageModel:
    """Fit the char model on everything and choose the lingua blend weight on grouped out-of-fold
    predictions (lingua restricted to the training languages, low-accuracy mode)."""
    from sklearn.model_selection import GroupKFold

    langs = sorted(set(languages))
    col = {c: i for i, c in enumerate(langs)}
    own = np.full((len(texts), len(langs)), 1e-6)
    arr = np.array(texts, dtype=object)
    lab = np.array(languages)
    with threadpool_limits(1):
        x_all = CharLanguageModel().vectorizer.fit_transform([_strip_digits(t) for t in texts]).tocsr()
        for tr, te in GroupKFold(n_splits=folds).split(arr, lab, np.array(groups)):
            clf = CharLanguageModel().clf.fit(x_all[tr], list(lab[tr]))
            p = clf.predict_proba(x_all[te])
            for j, c in enumerate(clf.classes_):
                own[te, col[str(c)]] = p[:, j]
    det = LanguageDetectorBuilder.from_languages(*[lingua_language(c) for c in langs])
    detector = det.with_low_accuracy_mode().build()
    ling = np.full((len(texts), len(langs)), 1.0 / len(langs))
    for i, t in enumerate(texts):
        clean = _strip_digits(t)
        vals = detector.compute_language_confidence_values(clean if _LETTERS.search(clean) else t)
        row = {language_code(v.language): float(v.value) for v in vals}
        if sum(row.values()) > 0:
            ling[i] = [row.get(c, 0.0) for c in langs]
    gold = np.array([col[c] for c in languages])
    hints = np.zeros((len(texts), len(langs)))
    for i, t in enumerate(texts):
        for lang, n in hint_counts(t).items():
            if lang in col:
                hints[i, col[lang]] = n
    best = (-1.0, 0.0, 0.0)
    for w in np.linspace(0.0, 0.8, 17):
        base = w * np.log(np.maximum(ling, 1e-4)) + (1 - w) * np.log(np.maximum(own, 1e-6))
        for h in (0.0, 0.25, 0.5, 1.0, 1.5):
            acc = float(((base + h * hints).argmax(1) == gold).mean())
            best = max(best, (acc, -float(w), -h))
    model = CharLanguageModel().fit(texts, languages)
    model.lingua_weight = -best[1]
    model.hint_weight = -best[2]
    return model


_NOISE = re.compile(
    r"\S+@\S+|https?://\S+|\b(?=\w*\d)\w+\b|[#]+",  # emails, links, codes like SPRING20 / SD-1234, digits
    re.UNICODE,
)


# Function words and spellings that separate Bokmål, Danish and Swedish (which share most of their
# vocabulary); each hit adds ``hint_weight`` to that language's log score.
_HINTS: dict[str, frozenset[str]] = {
    "nb": frozenset(
        "meg deg seg hva noe mye enda ennå fått kjøpt kjøpte kjøpe uke uker tilbake hjelp veldig takk "
        "tusen vennligst gjerne dere sånn levert spørsmål hei etter av mot fortsatt kanskje lenger sjekke "
        "frakt øyeblikk kjenner når hvorfor ikkje nå også bestillingen pakken ordren varen".split()
    ),
    "da": frozenset(
        "mig dig sig hvad noget meget endnu fået købt købte købe uge uger tilbage hjælp tak tusind "
        "venligst gerne jer jeres sådan leveret spørgsmål hej efter af mod stadig måske længere tjekke "
        "fragt øjeblik kender hvornår rigtig lige nu også".split()
    ),
    "sv": frozenset(
        "jag inte och är att hur vad mitt mina kan vill köpte köpt paket paketet beställning beställningen "
        "tack hej har ni får fått också nu eller skulle någon något".split()
    ),
}
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


def hint_counts(text: str) -> dict[str, int]:
    words = _TOKEN.findall(text.lower())
    return {lang: sum(1 for w in words if w in vocab) for lang, vocab in _HINTS.items()}


def _strip_digits(text: str) -> str:
    """Drop what carries no language signal: emails, links, order numbers and voucher codes."""
    return _NOISE.sub(" ", text)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str
    confidence: float
    scores: dict[str, float]


class LanguageIdentifier:
    """Detects the language of a message among ``languages``."""

    def __init__(
        self,
        languages: Sequence[str],
        char_model: CharLanguageModel | None,
        *,
        high_accuracy: bool = False,
    ) -> None:
        self.languages = validate_languages(languages)
        self.char_model = char_model
        builder = LanguageDetectorBuilder.from_languages(*[lingua_language(c) for c in self.languages])
        builder = (
            builder.with_preloaded_language_models() if high_accuracy else builder.with_low_accuracy_mode()
        )
        self._detector: Any = builder.build()
        self._lock = threading.Lock()

    def detect(self, text: str) -> LanguageGuess:
        langs = self.languages
        if len(langs) == 1:
            return LanguageGuess(langs[0], 1.0, {langs[0]: 1.0})
        n = len(langs)
        if not _LETTERS.search(text):
            return LanguageGuess(langs[0], 1.0 / n, {c: 1.0 / n for c in langs})
        clean = _strip_digits(text)
        if not _LETTERS.search(clean):
            clean = text
        with self._lock:
            values = self._detector.compute_language_confidence_values(clean)
        lingua_p = {language_code(v.language): float(v.value) for v in values}
        if sum(lingua_p.values()) <= 0.0:
            lingua_p = {c: 1.0 / n for c in langs}
        own: dict[str, float] = {}
        if self.char_model is not None:
            raw = self.char_model.proba(text)
            known = [c for c in langs if c in raw]
            if known:
                mass = sum(raw[c] for c in known) or 1.0
                share = len(known) / n
                own = {c: (raw[c] / mass * share if c in raw else 1.0 / n) for c in langs}
        log_scores: dict[str, float] = {}
        cm = self.char_model
        hints = hint_counts(text) if cm is not None and cm.hint_weight else {}
        for c in langs:
            lp = math.log(max(lingua_p.get(c, 0.0), 1e-4))
            if own and cm is not None:
                op = math.log(max(own[c], 1e-6))
                log_scores[c] = cm.lingua_weight * lp + (1.0 - cm.lingua_weight) * op
                if hints:
                    log_scores[c] += cm.hint_weight * hints.get(c, 0)
            else:
                log_scores[c] = lp
        arr = np.array([log_scores[c] for c in langs])
        arr = np.exp(arr - arr.max())
        arr /= arr.sum()
        scores = {c: float(v) for c, v in zip(langs, arr, strict=True)}
        best = max(scores, key=scores.__getitem__)
        return LanguageGuess(best, scores[best], scores)
