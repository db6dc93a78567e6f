"""Scenario steps that went to a person or were only suggested although the assistant can answer them:
"it still hasn't arrived" (late-order tracking, not a lost parcel), a look-up with the order number and
its email, and phrasings the rules missed ("returreglene", "¿cómo devuelvo?"). Pure rules and fusion, then
the delivered-but-"still not here" guard in the running product."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storedesk.assistant import rules
from storedesk.db.session import Database
from tests.assistant import kit
from tests.conftest import ShopWorld


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Van valami hír a 2540 rendelésről? Még mindig nem érkezett meg.", "hu"),
        ("Czy są jakieś wieści o zamówieniu 3621? Nadal nie dotarło.", "pl"),
        ("¿Hay novedades del pedido 3506? Todavía no ha llegado.", "es"),
        ("Die Bestellung 5 ist immer noch nicht angekommen.", "de"),
        ("Order 5 still hasn't arrived, not received it yet", "en"),
    ],
)
def test_still_waiting_is_tracking_not_a_delivery_problem(text: str, language: str) -> None:
    assert rules.matches(text, language) == [rules.STILL_WAITING_RULE]
    fused = rules.fuse("delivery_problem", 0.7, "answer", [], rules.matches(text, language))
    assert (fused.intent, fused.decision, fused.how) == ("track_order", "answer", "still_waiting_rule")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Das Paket ist immer noch nicht angekommen, wahrscheinlich verloren", "de"),
        ("The tracking says delivered but I still have not received it", "en"),
        ("El seguimiento dice entregado, pero todavía no ha llegado", "es"),
        ("Sporingen sier levert, men jeg har ikke mottatt ordre 5.", "nb"),
        ("Le suivi indique livré mais je n'ai jamais reçu la commande 5.", "fr"),
    ],
)
def test_delivered_lost_or_never_arrived_stays_a_delivery_problem(text: str, language: str) -> None:
    found = rules.matches(text, language)
    assert "delivery_problem" in found and rules.STILL_WAITING_RULE not in found
    assert rules.fuse("track_order", 0.9, "answer", [], found).intent == "delivery_problem"


def test_an_order_number_with_its_email_is_a_lookup() -> None:
    entities = {"order_number": "4189", "email": "grahambarker@example.com"}
    fused = rules.fuse("track_order", 0.55, "suggest", [("other", 0.2)], [], entities)
    assert (fused.intent, fused.decision, fused.how) == ("track_order", "answer", rules.ORDER_AND_EMAIL)
    unsure = rules.fuse("other", 0.3, "handover", [("track_order", 0.25)], [], entities)
    assert (unsure.intent, unsure.decision) == ("track_order", "answer")
    # without the email, with other rule words, or when tracking is not among the model's three: unchanged
    assert rules.fuse("track_order", 0.55, "suggest", [], [], {"order_number": "4189"}).decision == "suggest"
    other_words = rules.fuse("track_order", 0.55, "suggest", [], ["cancel_order"], entities)
    assert (other_words.decision, other_words.how) == ("suggest", "model")
    assert rules.fuse("complaint", 0.5, "suggest", [("other", 0.2)], [], entities).how == "model"


def test_phrasings_the_rules_missed() -> None:
    assert rules.matches("Hva er returreglene deres?", "nb") == ["return_policy"]
    assert rules.matches("¿Cómo devuelvo el pedido 3514?", "es") == ["return_request"]


@pytest.mark.anyio
@pytest.mark.xdist_group("assistant")
async def test_still_not_here_about_a_delivered_parcel_goes_to_a_person(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: Any, settings: Any
) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)
    await kit.enable_assistant(db, shop_a)
    ana = await kit.buyer(db, shop_a, "ana@example.es", "Ana García", "es")
    await kit.order(db, shop_a, ana, number="7401", shipped=True, delivered=True)
    r = await kit.say(
        client, shop_a, "¿Hay novedades del pedido 7401? Todavía no ha llegado.", email=ana.email
    )
    await run_jobs()
    [turn] = await kit.turns(db, r["conversation_id"])
    assert (turn.outcome, turn.policy_check["reason"]) == ("handover", "delivered_not_received")
    assert turn.policy_check["understanding"]["how"] == "still_waiting_rule"
