""" "I haven't received my refund" with no refund on record: answered from the order's state (nothing issued
yet, cancelled and when the refund is due, the return rejected) instead of a hand-over — in the running
product (API channel, job runner) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from storedesk.assistant import formatting as fmt
from storedesk.assistant import rules
from storedesk.commerce.models import Order, Return
from storedesk.db.session import Database
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop
from tests.assistant import kit
from tests.conftest import ShopWorld

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("assistant")]


@pytest.fixture(autouse=True)
def _links(settings: Any) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I haven't received my refund for order 1234", "en"),
        ("Ich habe für Bestellung 1234 noch keine Rückerstattung bekommen.", "de"),
        ("Még nem kaptam meg a pénzem a 1234 rendelésért.", "hu"),
        ("Jeg har ikke fått pengene tilbake for bestilling 1234.", "nb"),
        ("Je n'ai toujours pas reçu le remboursement de la commande 1234.", "fr"),
        ("Jag har inte fått pengarna tillbaka för beställning 1234.", "sv"),
        ("Nadal nie dostałem zwrotu pieniędzy za zamówienie 1234.", "pl"),
        ("Todavía no he recibido el reembolso del pedido 1234.", "es"),
    ],
)
def test_a_refund_that_did_not_arrive_is_a_refund_question_not_a_lost_parcel(
    text: str, language: str
) -> None:
    found = rules.matches(text, language)
    assert found[:2] == ["refund_missing", "refund_status"] and "delivery_problem" not in found
    fused = rules.fuse("delivery_problem", 0.9, "answer", [], found)
    assert (fused.intent, fused.decision, fused.how) == ("refund_status", "answer", "refund_rule")


def test_a_parcel_that_never_came_is_still_a_delivery_problem() -> None:
    for text, language in [
        ("The parcel never arrived, I want my money back", "en"),
        ("Mein Paket ist nie angekommen, ich will mein Geld zurück", "de"),
    ]:
        found = rules.matches(text, language)
        assert "refund_missing" not in found and found[0] == "delivery_problem"


async def _ask(client: httpx.AsyncClient, shop: ShopWorld, text: str, email: str, run_jobs: Any) -> int:
    r = await kit.say(client, shop, text, email=email)
    await run_jobs()
    return int(r["conversation_id"])


async def test_no_refund_on_a_delivered_order_is_explained_with_the_returns_link(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    anna = await kit.buyer(db, shop_a, "anna@example.com", "Anna Smith", "en")
    await kit.order(db, shop_a, anna, number="9101", shipped=True, delivered=True)
    conversation_id = await _ask(
        client, shop_a, "Hi, I haven't received my refund for order 9101 yet.", anna.email, run_jobs
    )
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.intent, turn.outcome, turn.template) == ("refund_status", "answered", "refund.none")
    assert turn.policy_check["understanding"]["how"] in ("refund_rule", "agreed")
    assert "refund_missing" in turn.policy_check["understanding"]["rules"]
    assert await kit.outbound_texts(db, conversation_id) == [
        (
            "outbound",
            "I can't see a refund for order 9101 yet. Refunds are made within 5 working days after a returned "
            "parcel arrives. You can start a return here: http://127.0.0.1:8000/returns/shop-a?lang=en",
        )
    ]


async def test_a_cancelled_order_without_a_refund_says_when_it_is_due(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    lena = await kit.buyer(db, shop_a, "lena@example.de", "Lena Müller", "de")
    order_id = await kit.order(db, shop_a, lena, number="9102", placed_hours_ago=48)
    cancelled = utcnow() - timedelta(days=1)
    async with db.transaction() as s:
        row = await s.get(Order, order_id)
        assert row is not None
        row.cancelled_at = cancelled
    conversation_id = await _ask(
        client,
        shop_a,
        "Ich habe für Bestellung 9102 noch keine Rückerstattung bekommen.",
        lena.email,
        run_jobs,
    )
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.intent, turn.outcome, turn.template) == ("refund_status", "answered", "refund.cancelled")
    async with db.transaction() as s:
        shop = await s.get(Shop, shop_a.id)
        assert shop is not None
        zone = ZoneInfo(shop.timezone or "UTC")  # the date is the shop's (Berlin is a day ahead at 23:30 UTC)
    day = fmt.day(cancelled, "de", zone)
    assert await kit.outbound_texts(db, conversation_id) == [
        (
            "outbound",
            f"Bestellung 9102 wurde am {day} storniert. Die Erstattung dafür sehe ich noch nicht; bei "
            "stornierten Bestellungen erfolgt sie innerhalb von 5 Werktagen nach der Stornierung.",
        )
    ]
    assert (await kit.conversation(db, conversation_id)).status == "resolved"


async def test_an_overdue_refund_of_a_cancelled_order_goes_to_a_person(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    anna = await kit.buyer(db, shop_a, "anna@example.com", "Anna Smith", "en")
    order_id = await kit.order(db, shop_a, anna, number="9103", placed_hours_ago=24 * 30)
    async with db.transaction() as s:
        row = await s.get(Order, order_id)
        assert row is not None
        row.cancelled_at = utcnow() - timedelta(days=20)
    conversation_id = await _ask(
        client, shop_a, "I still haven't got the refund for order 9103.", anna.email, run_jobs
    )
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.intent, turn.outcome, turn.policy_check["reason"]) == (
        "refund_status",
        "handover",
        "refund_overdue",
    )
    said = await kit.outbound_texts(db, conversation_id)
    assert [d for d, _ in said] == ["outbound", "note"]
    assert said[1][1].startswith("Assistant hand-over (refund overdue).\nIntent: refund_status (")


async def test_a_rejected_return_explains_why_there_is_no_refund(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any
) -> None:
    await kit.enable_assistant(db, shop_a)
    ola = await kit.buyer(db, shop_a, "ola@example.no", "Ola Nordmann", "nb")
    order_id = await kit.order(db, shop_a, ola, number="9104", country="NO", shipped=True, delivered=True)
    async with db.transaction() as s:
        s.add(
            Return(
                shop_id=shop_a.id,
                order_id=order_id,
                customer_id=ola.customer_id,
                number="R-9104-1",
                status="rejected",
                rejection_reason="used",
            )
        )
    conversation_id = await _ask(
        client, shop_a, "Jeg har ikke fått pengene tilbake for bestilling 9104.", ola.email, run_jobs
    )
    [turn] = await kit.turns(db, conversation_id)
    assert (turn.intent, turn.outcome, turn.template) == ("refund_status", "answered", "refund.rejected")
    assert await kit.outbound_texts(db, conversation_id) == [
        (
            "outbound",
            "Returen R-9104-1 for bestilling 9104 ble ikke godkjent, så det er ikke gjort noen tilbakebetaling "
            "for den. Har du spørsmål om dette, svarer du bare her, så forklarer en kollega.",
        )
    ]
