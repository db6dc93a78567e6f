from __future__ import annotations

import pytest

from storedesk.assistant.nlu.entities import extract_entities, match_product

# one xdist worker loads (and on a fresh checkout trains) the model for all assistant tests
pytestmark = pytest.mark.xdist_group("assistant")

CATALOGUE = ["Trailrunner 2", "Merino Sweater", "Coffee Mug", "Aurora Desk Lamp"]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Where is my order #48213?", "en", "48213"),
        ("Wo ist meine Bestellung Nr. 10442?", "de", "10442"),
        ("Meine Bestellnummer lautet 55102", "de", "55102"),
        ("Meg tudná mondani a 48213-as rendelés állapotát?", "hu", "48213"),
        ("rendelésszám: 77310", "hu", "77310"),
        ("ordrenummer: 55102", "nb", "55102"),
        ("numéro de commande 77310, j'ai payé 49,90 €", "fr", "77310"),
        ("Var är ordernummer 66120?", "sv", "66120"),
        ("numer zamówienia 48213", "pl", "48213"),
        ("número de pedido 30117", "es", "30117"),
        ("I paid 1999 kr for order SD-10442", "en", "SD-10442"),
        ("order no. 4821", "en", "4821"),
        ("ordre sd-7781 er ikke kommet", "nb", "SD-7781"),
    ],
)
def test_order_number(text: str, language: str, expected: str) -> None:
    assert extract_entities(text, language=language)["order_number"] == expected


@pytest.mark.parametrize(
    "text",
    ["I paid 1999 kr yesterday", "It costs 2500 € now", "Tusen takk!", "I'm 180 cm tall, size 42?"],
)
def test_no_order_number_in_amounts_or_sizes(text: str) -> None:
    assert "order_number" not in extract_entities(text)


def test_custom_order_pattern() -> None:
    ents = extract_entities("My order is A-123-XY, not 55555", order_pattern=r"[A-Z]-\d{3}-[A-Z]{2}")
    assert ents["order_number"] == "A-123-XY"


def test_email_and_phone() -> None:
    ents = extract_entities("Mail me at anna.berg@example.com or call +47 912 34 567", language="nb")
    assert ents["email"] == "anna.berg@example.com"
    assert ents["phone"] == "+4791234567"
    assert extract_entities("ring meg på 912 34 567", language="nb")["phone"] == "+4791234567"
    assert extract_entities("Rufen Sie mich an: 030 1234567", language="de")["phone"] == "+49301234567"


def test_tracking_numbers() -> None:
    ups = extract_entities("tracking 1Z999AA10123456784 please")
    assert (ups["tracking_number"], ups["carrier"]) == ("1Z999AA10123456784", "UPS")
    s10 = extract_entities("Sporingsnummer RR123456785NO")
    assert (s10["tracking_number"], s10["carrier"]) == ("RR123456785NO", "Posten Norge")
    dhl = extract_entities("Sendungsnummer 00340434161234567890")
    assert (dhl["tracking_number"], dhl["carrier"]) == ("00340434161234567890", "DHL")
    # a 10-digit number only counts as tracking number next to a tracking keyword
    assert "tracking_number" not in extract_entities("my number is 1234567890")
    assert extract_entities("DHL tracking: 1234567890")["tracking_number"] == "1234567890"


def test_sizes_and_colours() -> None:
    en = extract_entities("Can I change it to size XL and the colour to dark blue?")
    assert en["sizes"] == ["XL"]
    assert en["colours"] == ["navy"]
    pl = extract_entities("Proszę zmienić rozmiar na M, kolor czarny", language="pl")
    assert (pl["sizes"], pl["colours"]) == (["M"], ["black"])
    assert extract_entities("Quiero la talla 42 en negro", language="es")["sizes"] == ["42"]
    nb = extract_entities("Kan jeg bytte til størrelse L i svart?", language="nb")
    assert (nb["sizes"], nb["colours"]) == (["L"], ["black"])
    hu = extract_entities("A 42-es méretű piros cipőt szeretném", language="hu")
    assert (hu["sizes"], hu["colours"]) == (["42"], ["red"])
    de = extract_entities("Bitte die schwarzen Schuhe in Größe 38 statt der weißen", language="de")
    assert (de["sizes"], de["colours"]) == (["38"], ["black", "white"])
    assert "colours" not in extract_entities("I want to redo my order")


def test_product_fuzzy_match() -> None:
    assert (
        extract_entities("my trailrunner 2 arrived broken", catalogue=CATALOGUE)["product"] == "Trailrunner 2"
    )
    assert match_product("the merino sweter is too small", CATALOGUE) == (
        "Merino Sweater",
        pytest.approx(96.3, abs=0.1),
    )
    assert "product" not in extract_entities("where is my parcel", catalogue=CATALOGUE)
