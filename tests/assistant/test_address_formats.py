"""Address collection in the formats customers write: parts in any order (German, Hungarian, Polish,
French, Spanish, Scandinavian), on several lines, on one line, with a lead-in sentence, without a name or
country (the order's are kept) — and the change applied end to end on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storedesk.assistant.understanding import address_text, parse_address
from storedesk.commerce.models import Order
from storedesk.db.session import Database
from tests.assistant import kit
from tests.conftest import ShopWorld


@pytest.mark.parametrize(
    ("text", "country", "name", "expected"),
    [
        ("Please change the address to Hauptstraße 5, 10115 Berlin", "DE", "Lena",
         ("Lena", "Hauptstraße 5", "10115", "Berlin", "DE")),
        ("Lena Müller\nHauptstraße 5\n10115 Berlin\nDeutschland", None, None,
         ("Lena Müller", "Hauptstraße 5", "10115", "Berlin", "DE")),
        ("Hauptstraße 5 10115 Berlin", "DE", "Lena", ("Lena", "Hauptstraße 5", "10115", "Berlin", "DE")),
        ("Bitte liefern Sie an Hauptstraße 5 10115 Berlin", "DE", "Lena",
         ("Lena", "Hauptstraße 5", "10115", "Berlin", "DE")),
        ("Ich bin umgezogen, neue Adresse: Unter den Linden 5, 10117 Berlin", "DE", "Lena",
         ("Lena", "Unter den Linden 5", "10117", "Berlin", "DE")),
        ("Berlin 10115, Hauptstraße 5", "DE", "Lena", ("Lena", "Hauptstraße 5", "10115", "Berlin", "DE")),
        ("Budapest, Fő utca 1, 1011", "HU", "Anna", ("Anna", "Fő utca 1", "1011", "Budapest", "HU")),
        ("Az új címem: 1011 Budapest, Fő utca 1.", "HU", "Anna", ("Anna", "Fő utca 1", "1011", "Budapest", "HU")),
        ("Kovács Anna, 1011 Budapest, Fő utca 1, Magyarország", None, None,
         ("Kovács Anna", "Fő utca 1", "1011", "Budapest", "HU")),
        ("Proszę zmienić adres na ul. Długa 5/3, 00-950 Warszawa", "PL", "Jan",
         ("Jan", "ul. Długa 5/3", "00-950", "Warszawa", "PL")),
        ("Drottninggatan 5, 111 51 Stockholm", "SE", "Sven",
         ("Sven", "Drottninggatan 5", "111 51", "Stockholm", "SE")),
        ("Marie Dupont, 12 rue de la Paix, 75002 Paris, France", None, None,
         ("Marie Dupont", "12 rue de la Paix", "75002", "Paris", "FR")),
        ("Nueva dirección: Calle de la Paz 5, 28013 Madrid, España", "ES", "Ana",
         ("Ana", "Calle de la Paz 5", "28013", "Madrid", "ES")),
    ],
)  # fmt: skip
def test_address_formats(
    text: str, country: str | None, name: str | None, expected: tuple[str, str, str, str, str]
) -> None:
    got = parse_address(text, default_country=country, default_name=name)
    assert got is not None
    assert (got["name"], got["address1"], got["zip"], got["city"], got["country_code"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order 12345? I live in Berlin",
        "I ordered 2 vases, order 12345, please help",
        "Ich bin umgezogen und brauche eine neue Adresse",
        "please change it",
    ],
)
def test_messages_without_an_address_are_not_addresses(text: str) -> None:
    assert parse_address(text, default_country="DE", default_name="Lena") is None


@pytest.mark.anyio
@pytest.mark.xdist_group("assistant")
async def test_a_one_line_german_address_is_confirmed_and_applied(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any, settings: Any
) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)
    await kit.enable_assistant(db, shop_a)
    lena = await kit.buyer(db, shop_a, "lena@example.de", "Lena Müller", "de")
    order_id = await kit.order(db, shop_a, lena, number="7301")
    r = await kit.say(
        client,
        shop_a,
        "Hallo, bitte ändern Sie die Lieferadresse von Bestellung 7301 auf Hauptstraße 5 10115 Berlin",
        email=lena.email,
    )
    await run_jobs()
    conversation_id = r["conversation_id"]
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.intent, turn.template) == ("change_shipping_address", "address.confirm")
    assert await kit.outbound_texts(db, conversation_id) == [
        (
            "outbound",
            "Ich ändere die Lieferadresse von Bestellung 7301 auf:\nTest Buyer\nHauptstraße 5\n10115 Berlin\nDE\n"
            "Stimmt das so? Bitte antworten Sie mit Ja oder Nein.",
        )
    ]
    await kit.say(client, shop_a, "Ja, genau", email=lena.email, conversation_id=conversation_id)
    await run_jobs()
    async with db.transaction() as s:
        row = await s.get(Order, order_id)
        assert row is not None
        assert {
            k: row.shipping_address.get(k) for k in ("name", "address1", "zip", "city", "country_code")
        } == {
            "name": "Test Buyer",
            "address1": "Hauptstraße 5",
            "zip": "10115",
            "city": "Berlin",
            "country_code": "DE",
        }


# --- postcodes with letters, units and care-of lines ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "country", "name", "expected"),
    [
        ("Flat 3, 10 Baker Street, London NW1 6XE, United Kingdom", None, "Tom Hall",
         {"name": "Tom Hall", "address1": "10 Baker Street", "address2": "Flat 3", "zip": "NW1 6XE",
          "city": "London", "country_code": "GB"}),
        ("Tom Hall\n10 Downing Street\nLondon\nsw1a2aa", "GB", None,
         {"name": "Tom Hall", "address1": "10 Downing Street", "zip": "SW1A 2AA", "city": "London",
          "country_code": "GB"}),
        ("New address: 221B Baker Street, Apt 4B, SW1A 1AA London", "GB", "Tom",
         {"name": "Tom", "address1": "221B Baker Street", "address2": "Apt 4B", "zip": "SW1A 1AA",
          "city": "London", "country_code": "GB"}),
        ("Damrak 1, 1012 AB Amsterdam, Nederland", None, "Eva de Vries",
         {"name": "Eva de Vries", "address1": "Damrak 1", "zip": "1012 AB", "city": "Amsterdam",
          "country_code": "NL"}),
        ("Eva de Vries, Prinsengracht 263, 1016GV Amsterdam", "NL", None,
         {"name": "Eva de Vries", "address1": "Prinsengracht 263", "zip": "1016 GV", "city": "Amsterdam",
          "country_code": "NL"}),
        ("Apt 4B, 24 Sussex Drive, Ottawa ON K1A 0B1, Canada", None, "Mia Roy",
         {"name": "Mia Roy", "address1": "24 Sussex Drive", "address2": "Apt 4B", "zip": "K1A 0B1",
          "city": "Ottawa", "province": "ON", "country_code": "CA"}),
        ("Seán Murphy, 12 Main Street, Dublin, D02 X285, Ireland", None, None,
         {"name": "Seán Murphy", "address1": "12 Main Street", "zip": "D02 X285", "city": "Dublin",
          "country_code": "IE"}),
        # an Irish address without its (optional) Eircode is complete
        ("12 Main Street, Dublin 2, Ireland", None, "Seán Murphy",
         {"name": "Seán Murphy", "address1": "12 Main Street", "zip": None, "city": "Dublin 2",
          "country_code": "IE"}),
        ("c/o Jane Doe, Hauptstraße 5, 10115 Berlin", "DE", "Lena",
         {"name": "Lena", "address1": "Hauptstraße 5", "address2": "c/o Jane Doe", "zip": "10115",
          "city": "Berlin", "country_code": "DE"}),
        ("Hauptstraße 5, Whg. 12, c/o Müller, 10115 Berlin", "DE", "Lena",
         {"name": "Lena", "address1": "Hauptstraße 5", "address2": "Whg. 12, c/o Müller", "zip": "10115",
          "city": "Berlin", "country_code": "DE"}),
    ],
)  # fmt: skip
def test_postcodes_with_letters_units_and_care_of(
    text: str, country: str | None, name: str | None, expected: dict[str, Any]
) -> None:
    assert parse_address(text, default_country=country, default_name=name) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12 Main Street, Dublin 2",  # Germany (the order's country) needs a postcode
        "Flat 3, London NW1 6XE",  # no street
        "1011 Budapest, Fő utca",  # no house number: "1011 Bu…" is not a Dutch postcode
    ],
)
def test_incomplete_addresses_with_the_new_formats_are_not_addresses(text: str) -> None:
    assert parse_address(text, default_country="DE", default_name="Lena") is None


def test_the_confirmation_shows_the_unit_and_the_province() -> None:
    parsed = parse_address(
        "Apt 4B, 24 Sussex Drive, Ottawa ON K1A 0B1, Canada", default_country=None, default_name="Mia Roy"
    )
    assert parsed is not None
    assert address_text(parsed) == "Mia Roy\n24 Sussex Drive\nApt 4B\nK1A 0B1 Ottawa ON\nCA"


@pytest.mark.parametrize(
    ("message", "country", "expected"),
    [
        (
            "Please change the delivery address of order 7302 to: Flat 3, 10 Baker Street, London NW1 6XE",
            "GB",
            {"address1": "10 Baker Street", "address2": "Flat 3", "zip": "NW1 6XE", "city": "London"},
        ),
        # Ireland: no Eircode is needed (commerce accepts the address without a postcode)
        (
            "Please change the delivery address of order 7302 to: 12 Main Street, Dublin 2, Ireland",
            "IE",
            {"address1": "12 Main Street", "address2": None, "zip": None, "city": "Dublin 2"},
        ),
    ],
)
@pytest.mark.anyio
@pytest.mark.xdist_group("assistant")
async def test_a_uk_flat_and_an_irish_address_are_confirmed_and_applied(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    run_jobs: Any,
    settings: Any,
    message: str,
    country: str,
    expected: dict[str, Any],
) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)
    await kit.enable_assistant(db, shop_a)
    tom = await kit.buyer(db, shop_a, "tom@example.co.uk", "Tom Hall", "en")
    order_id = await kit.order(db, shop_a, tom, number="7302", country=country)
    r = await kit.say(client, shop_a, message, email=tom.email)
    await run_jobs()
    conversation_id = r["conversation_id"]
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.intent, turn.template) == ("change_shipping_address", "address.confirm")
    await kit.say(client, shop_a, "yes", email=tom.email, conversation_id=conversation_id)
    await run_jobs()
    async with db.transaction() as s:
        row = await s.get(Order, order_id)
        assert row is not None
        assert {k: row.shipping_address.get(k) for k in ("name", *expected, "country_code")} == {
            "name": "Test Buyer",
            **expected,
            "country_code": country,
        }
