from __future__ import annotations

import dataclasses
import json

import pytest

from storedesk.assistant.nlu import INTENTS, Pipeline, Triage, get_pipeline
from storedesk.assistant.nlu.data import MISSION_LANGUAGES, heldout_examples

# one xdist worker loads (and on a fresh checkout trains) the model for all assistant tests
pytestmark = pytest.mark.xdist_group("assistant")

# (language, text, intent): fresh sentences, in neither the training nor the held-out file
CASES = [
    ("en", "Hi, my parcel still hasn't shown up, where is it?", "track_order"),
    ("en", "Please cancel order 55102, I bought it twice", "cancel_order"),
    ("en", "The blender arrived with a cracked jug", "damaged_or_wrong_item"),
    ("en", "Stop sending me your newsletter", "unsubscribe"),
    ("de", "Wo ist mein Paket? Ich habe es letzte Woche bestellt.", "track_order"),
    ("de", "Ich möchte meine Bestellung 48213 stornieren", "cancel_order"),
    ("de", "Mein Passwort funktioniert nicht mehr, ich komme nicht rein", "account_help"),
    ("hu", "Hol van a csomagom? Két hete rendeltem.", "track_order"),
    ("hu", "Szeretném visszakapni a pénzemet, mert nem érkezett meg a rendelés", "refund_request"),
    ("nb", "Hvor er pakken min?", "track_order"),
    ("nb", "Jeg vil returnere skoene, de er for store", "return_request"),
    ("fr", "Je voudrais annuler ma commande, s'il vous plaît", "cancel_order"),
    ("fr", "Puis-je payer avec PayPal ?", "payment_methods"),
    ("sv", "Var är mitt paket? Jag beställde förra veckan.", "track_order"),
    ("sv", "Jag vill prata med en människa, inte en robot", "talk_to_human"),
    ("pl", "Gdzie jest moja paczka?", "track_order"),
    ("pl", "Chcę zwrócić buty, są za duże", "return_request"),
    ("es", "¿Dónde está mi pedido?", "track_order"),
    ("es", "Me cobraron dos veces el mismo pedido", "payment_problem"),
]


@pytest.mark.parametrize(("language", "text", "intent"), CASES)
def test_triage_language_and_intent(pipe: Pipeline, language: str, text: str, intent: str) -> None:
    t = pipe.triage(text)
    assert (t.language, t.intent) == (language, intent)
    assert t.decision in {"answer", "suggest", "handover"}


def test_triage_is_frozen_and_serialisable(pipe: Pipeline) -> None:
    t = pipe.triage("Wo ist meine Bestellung #48213? Meine Mail: jonas@example.de")
    assert isinstance(t, Triage)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.intent = "other"  # type: ignore[misc]
    d = json.loads(json.dumps(t.as_dict()))
    assert d["intent"] == "track_order"
    assert d["language"] == "de"
    assert d["entities"] == {"order_number": "48213", "email": "jonas@example.de"}
    assert 0.0 <= d["confidence"] <= 1.0
    assert len(d["alternatives"]) == 3
    assert all(a in INTENTS for a, _ in t.alternatives)


def test_catalogue_and_order_pattern_are_passed_through(pipe: Pipeline) -> None:
    t = pipe.triage(
        "My Aurora desk lamp from order A-123-XY arrived broken",
        catalogue=["Aurora Desk Lamp", "Coffee Mug"],
        order_pattern=r"[A-Z]-\d{3}-[A-Z]{2}",
    )
    assert t.intent == "damaged_or_wrong_item"
    assert t.entities["product"] == "Aurora Desk Lamp"
    assert t.entities["order_number"] == "A-123-XY"


def test_empty_message_hands_over(pipe: Pipeline) -> None:
    t = pipe.triage("   ")
    assert (t.intent, t.decision, t.confidence) == ("other", "handover", 0.0)


def test_language_restricted_to_shop_languages() -> None:
    p = get_pipeline(["de", "en"])
    assert p.triage("Hvor er pakken min?").language in {"de", "en"}
    assert get_pipeline(["de", "en"]) is p  # cached singleton per language set
    with pytest.raises(ValueError):
        get_pipeline(["xx"])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hvor er pakken min?", "nb"),
        ("Hvor er min pakke?", "da"),
        ("Var är mitt paket?", "sv"),
        ("Tusen takk!", "nb"),
        ("Tak for hjælpen", "da"),
        ("Tack så mycket", "sv"),
        ("Jeg vil gerne returnere skoene", "da"),
        ("Jeg vil gjerne returnere skoene", "nb"),
        ("Waar is mijn pakket?", "nl"),
        ("Dov'è il mio ordine?", "it"),
        ("Hol van a csomagom?", "hu"),
    ],
)
def test_short_message_language(pipe: Pipeline, text: str, language: str) -> None:
    assert pipe.language_id.detect(text).language == language


@pytest.fixture(scope="module")
def heldout_report(pipe: Pipeline):  # type: ignore[no-untyped-def]
    from storedesk.assistant.nlu.eval import evaluate

    return evaluate(pipe, heldout_examples())


# Regression floors a little under the measured figures (docs/assistant.md): held-out intent
# accuracy 0.950 (per mission language 0.93-0.97), language id 0.994, 'answer' precision 0.988 at
# 81% coverage. Raise them when the data or model improves.
def test_heldout_accuracy_targets(heldout_report) -> None:  # type: ignore[no-untyped-def]
    rep = heldout_report
    assert rep.n >= 1840
    assert rep.accuracy >= 0.93
    for lang in MISSION_LANGUAGES:
        assert rep.per_language[lang].n >= 230
        assert rep.per_language[lang].accuracy >= 0.90, lang
    assert rep.language_id_accuracy >= 0.99


def test_answer_decisions_are_precise(heldout_report) -> None:  # type: ignore[no-untyped-def]
    rep = heldout_report
    assert rep.answer_precision >= 0.97
    assert rep.answer_coverage >= 0.72
    assert abs(rep.answer_coverage + rep.suggest_share + rep.handover_share - 1.0) < 1e-9
