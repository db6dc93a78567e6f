"""Pure parts of the acting layer: templates complete in every language, yes/no, address parsing, anger,
keyword rules and their fusion with the model, the tone check."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from storedesk.assistant import formatting, rules, tone
from storedesk.assistant.templates import LANGUAGES, NO, YES, T, render
from storedesk.assistant.understanding import angry, parse_address, yes_no


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_every_template_with_the_same_placeholders(lang: str) -> None:
    assert set(T[lang]) == set(T["en"])
    for key, text in T["en"].items():
        assert _fields(T[lang][key]) == _fields(text), (lang, key)
    assert YES[lang] and NO[lang]


def test_fallback_to_the_shop_language_then_english() -> None:
    assert render("praise", "it", "de") == T["de"]["praise"]
    assert render("praise", "it", "da") == T["en"]["praise"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ja", True),
        ("Ja, bitte!", True),
        ("Igen, kérem", True),
        ("sí", True),
        ("Tak, proszę", True),
        ("Oui merci", True),
        ("Nei takk", False),
        ("nem, mégsem", False),
        ("No, keep it", False),
        ("Non merci", False),
        ("Where is my order?", None),
        ("ok thanks but where is it", None),
        ("", None),
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert yes_no(text) is expected


def test_address_parsing() -> None:
    assert parse_address(
        "Kari Nordmann, Storgata 12, 0155 Oslo, Norge", default_country=None, default_name=None
    ) == {
        "name": "Kari Nordmann",
        "address1": "Storgata 12",
        "zip": "0155",
        "city": "Oslo",
        "country_code": "NO",
    }
    assert parse_address("Ny adresse: Storgata 12, 0155 Oslo", default_country="NO", default_name="Kari") == {
        "name": "Kari",
        "address1": "Storgata 12",
        "zip": "0155",
        "city": "Oslo",
        "country_code": "NO",
    }
    assert (
        parse_address("ul. Długa 5, 00-238 Warszawa", default_country="PL", default_name="Jan")["zip"]
        == "00-238"
    )  # type: ignore[index]
    assert parse_address("please change it", default_country="DE", default_name="X") is None


def test_anger_needs_more_than_one_signal() -> None:
    assert angry("This is RIDICULOUS, the WORST SERVICE ever!!!", "en") == [
        "word:ridiculous",
        "word:worst",
        "caps",
        "exclamations",
    ]
    assert angry("Das ist eine Frechheit", "de") == []
    assert angry("Das ist eine Frechheit und ein Skandal", "de") == ["word:frechheit", "word:skandal"]


def test_rules_and_fusion() -> None:
    assert rules.matches("Die Vase ist zerbrochen angekommen, wo ist meine Bestellung?", "de") == [
        "damaged_or_wrong_item",
        "track_order",
    ]
    assert rules.matches("Jeg vil kansellere bestillingen min", "nb") == ["cancel_order"]
    # a problem rule wins over the model
    f = rules.fuse("track_order", 0.9, "answer", [], ["damaged_or_wrong_item", "track_order"])
    assert (f.intent, f.decision, f.how) == ("damaged_or_wrong_item", "answer", "problem_rule")
    # agreement promotes an unsure model; disagreement demotes a sure one
    assert rules.fuse("track_order", 0.78, "suggest", [], ["track_order"]).decision == "answer"
    assert rules.fuse("cancel_order", 0.31, "handover", [], ["cancel_order"]).decision == "answer"
    assert rules.fuse("cancel_order", 0.2, "handover", [], ["cancel_order"]).decision == "handover"
    conflict = rules.fuse("track_order", 0.95, "answer", [], ["cancel_order"])
    assert (conflict.intent, conflict.decision, conflict.how) == ("track_order", "suggest", "conflict")
    taken = rules.fuse("other", 0.5, "suggest", [("return_policy", 0.3)], ["return_policy"])
    assert (taken.intent, taken.decision, taken.how) == ("return_policy", "answer", "rule_in_top3")
    assert rules.fuse("other", 0.9, "answer", [], []).how == "model"


def test_babel_formatting() -> None:
    assert formatting.money(4990, "EUR", "de") == "49,90\xa0€"
    assert formatting.money(4990, "EUR", "en") == "€49.90"
    assert formatting.day(datetime(2026, 3, 12, 10, tzinfo=UTC), "hu") == "2026. március 12."
    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert formatting.weekday_time(monday, "de", ZoneInfo("Europe/Berlin")) == "am Montag um 08:00 Uhr"
    assert formatting.weekday_time(monday, "pl", ZoneInfo("Europe/Berlin")) == "7 grudnia o 08:00"


def test_tone_flags() -> None:
    assert [
        f.code
        for f in tone.check("Hi Anna, thanks for waiting! Your parcel arrives tomorrow. Best regards", "en")
    ] == []
    assert [f.code for f in tone.check("ok", "en")] == ["very_short"]
    assert [f.code for f in tone.check("Wie bereits gesagt, das ist nicht unser Problem!!", "de")] == [
        "blunt_phrase",
        "exclamations",
    ]
