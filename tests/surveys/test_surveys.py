"""Survey flows over HTTP: resolve → survey in the customer's language → answer on /s/<token> →
counted in GET /api/v1/kpis; low scores, frequency, buttons, NPS after delivery, tenant isolation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from storedesk.analytics.rollup import refresh_shop
from storedesk.commerce.models import Order, Shipment
from storedesk.conversations.models import Conversation, Message
from storedesk.customers.service import create_customer
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM
from storedesk.kit.time import utcnow
from storedesk.surveys import links, service
from storedesk.surveys.models import Survey, SurveyKind, SurveyResponse
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio


async def customer(db: Database, shop: ShopWorld, language: str | None, email: str) -> int:
    async with db.transaction() as session:
        c = await create_customer(
            session, shop_id=shop.id, actor=SYSTEM, name="Kund", email=email, language=language
        )
        await session.flush()
        return c.id


async def enable_csat(client: httpx.AsyncClient, shop: ShopWorld) -> None:
    r = await client.put(
        "/api/v1/surveys/settings", json={"after_resolve": ["csat"]}, headers=shop.h("admin")
    )
    assert r.status_code == 200, r.text


async def resolved_conversation(client: httpx.AsyncClient, shop: ShopWorld, customer_id: int) -> int:
    r = await client.post(
        "/api/v1/conversations",
        json={
            "customer_id": customer_id,
            "channel_id": shop.channel_id,
            "subject": "Paket",
            "message": "Var är mitt paket?",
        },
        headers=shop.h(),
    )
    assert r.status_code == 201, r.text
    cid = int(r.json()["id"])
    r = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "Det kommer i morgon."}, headers=shop.h()
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/conversations/{cid}/status", json={"status": "resolved"}, headers=shop.h()
    )
    assert r.status_code == 200, r.text
    return cid


def token_of(text: str) -> str:
    match = re.search(r"/s/([0-9]+-[A-Za-z0-9_-]{32})", text)
    assert match, text
    return match.group(1)


async def test_resolve_survey_answer_and_kpis(
    db: Database, shop_a: ShopWorld, shop_b: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    r = await client.get("/api/v1/surveys/settings", headers=shop_a.h())
    assert r.json() == {  # on by default: CSAT after a resolution, at most once per customer in 14 days
        "after_resolve": ["csat"],
        "delay_minutes": 0,
        "min_days_between": 14,
        "expires_after_days": 14,
        "nps_after_delivery_days": None,
        "nps_every_days": None,
        "nps_min_days_between": 90,
        "follow_up_kinds": ["csat", "ces", "nps"],
        "follow_up_assignee_id": None,
    }
    cust = await customer(db, shop_a, "sv", "kund@example.se")
    cid = await resolved_conversation(client, shop_a, cust)
    await run_jobs()

    r = await client.get("/api/v1/surveys", params={"conversation_id": cid}, headers=shop_a.h())
    [survey] = r.json()["items"]
    assert {k: survey[k] for k in ("customer_id", "kinds", "trigger", "language", "status", "agent_id")} == {
        "customer_id": cust,
        "kinds": ["csat"],
        "trigger": "resolved",
        "language": "sv",
        "status": "sent",
        "agent_id": None,
    }
    async with db.transaction() as session:
        message = (
            await session.execute(select(Message).where(Message.id == survey["message_id"]))
        ).scalar_one()
    assert (message.direction, message.author_type, message.delivery_status) == ("outbound", "system", "sent")
    assert message.text.splitlines()[:2] == [
        "Hur nöjd är du med hjälpen du fick från Shop shop-a?",
        "1 = Mycket missnöjd · 5 = Mycket nöjd",
    ]
    assert message.meta["survey"]["kind"] == "csat" and len(message.meta["buttons"]) == 5
    token = token_of(message.text)
    assert message.meta["buttons"][3]["id"] == f"survey:{token}:4"

    # the public page, in Swedish, with the tapped score preselected; no sign-in
    page = await client.get(f"/s/{token}?score=4")
    assert page.status_code == 200
    assert 'lang="sv"' in page.text and "Hur nöjd är du" in page.text
    assert 'id="csat-4" name="csat" value="4" checked' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    r = await client.post(f"/s/{token}", data={"csat": "5", "comment": "Snabbt och vänligt!"})
    assert (r.status_code, "Tack för din feedback!" in r.text) == (200, True)
    again = await client.post(f"/s/{token}", data={"csat": "1"})
    assert (again.status_code, "Du har redan svarat" in again.text) == (409, True)
    assert (await client.get(f"/s/{token}")).status_code == 200  # nothing left to ask: "already answered"

    r = await client.get("/api/v1/survey-responses", headers=shop_a.h())
    [answer] = r.json()["items"]
    assert {
        k: answer[k]
        for k in ("kind", "score", "comment", "conversation_id", "customer_id", "follow_up_conversation_id")
    } == {
        "kind": "csat",
        "score": 5,
        "comment": "Snabbt och vänligt!",
        "conversation_id": cid,
        "customer_id": cust,
        "follow_up_conversation_id": None,
    }

    await refresh_shop(db, shop_a.id, safety=timedelta(0))
    r = await client.get("/api/v1/kpis", headers=shop_a.h("viewer"))
    totals = r.json()["totals"]
    assert (totals["csat_responses"], totals["csat"], totals["csat_average"], totals["resolved"]) == (
        1,
        1.0,
        5.0,
        1,
    )
    # another shop sees none of it
    await refresh_shop(db, shop_b.id, safety=timedelta(0))
    other = (await client.get("/api/v1/kpis", headers=shop_b.h())).json()["totals"]
    assert (other["csat_responses"], other["resolved"], other["conversations"]) == (0, 0, 0)
    assert (await client.get("/api/v1/survey-responses", headers=shop_b.h())).json()["items"] == []


async def test_surveys_can_be_switched_off(
    db: Database, shop_a: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    r = await client.put("/api/v1/surveys/settings", json={"after_resolve": []}, headers=shop_a.h("admin"))
    assert (r.status_code, r.json()["after_resolve"]) == (200, [])
    messages = await count_rows(db, "messages")
    await resolved_conversation(client, shop_a, shop_a.customer_id)
    await run_jobs()
    assert await count_rows(db, "surveys") == 0
    assert await count_rows(db, "messages") == messages + 2  # the customer's message and the answer


async def test_bad_links_expiry_and_validation(
    db: Database, shop_a: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    await enable_csat(client, shop_a)
    cid = await resolved_conversation(client, shop_a, shop_a.customer_id)
    await run_jobs()
    async with db.transaction() as session:
        survey = (await session.execute(select(Survey).where(Survey.conversation_id == cid))).scalar_one()
    token = links.token_for(survey.id, survey.nonce)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, f"{survey.id}-{'x' * 32}", "nonsense", f"{survey.id + 1}-{token.split('-', 1)[1]}"):
        r = await client.get(f"/s/{bad}")
        assert (r.status_code, "This survey link is not valid." in r.text) == (404, True)
        assert (await client.post(f"/s/{bad}", data={"csat": "5"})).status_code == 404
    r = await client.post(f"/s/{token}", data={"csat": "9"})  # out of range: the form again, nothing stored
    assert (r.status_code, "Please choose a score." in r.text) == (422, True)
    r = await client.post(f"/s/{token}", data={"comment": "no score"})
    assert r.status_code == 422
    assert await count_rows(db, "survey_responses") == 0
    async with db.transaction() as session:
        await session.execute(
            update(Survey).where(Survey.id == survey.id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    r = await client.get(f"/s/{token}")
    assert (r.status_code, "This survey has expired." in r.text) == (410, True)
    assert (await client.post(f"/s/{token}", data={"csat": "5"})).status_code == 410
    assert await count_rows(db, "survey_responses") == 0


async def test_low_score_opens_follow_up_and_frequency(
    db: Database, shop_a: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    admin = shop_a.agent_ids["admin"]
    r = await client.put(
        "/api/v1/surveys/settings",
        json={"after_resolve": ["csat", "ces"], "follow_up_assignee_id": admin},
        headers=shop_a.h("agent"),
    )
    assert r.status_code == 403
    r = await client.put(
        "/api/v1/surveys/settings", json={"after_resolve": ["nps"]}, headers=shop_a.h("admin")
    )
    assert r.status_code == 422
    r = await client.put(
        "/api/v1/surveys/settings",
        json={"after_resolve": ["csat", "ces"], "follow_up_assignee_id": admin},
        headers=shop_a.h("admin"),
    )
    assert (r.status_code, r.json()["after_resolve"], r.json()["min_days_between"]) == (
        200,
        ["csat", "ces"],
        14,
    )

    cid = await resolved_conversation(client, shop_a, shop_a.customer_id)
    await run_jobs()
    async with db.transaction() as session:
        survey = (await session.execute(select(Survey).where(Survey.conversation_id == cid))).scalar_one()
    token = links.token_for(survey.id, survey.nonce)
    page = await client.get(f"/s/{token}")
    assert 'name="csat"' in page.text and 'name="ces"' in page.text  # both questions on the page
    r = await client.post(f"/s/{token}", data={"csat": "2", "ces": "6", "comment": "Took three emails."})
    assert (r.status_code, "someone from our team will get back to you" in r.text) == (200, True)

    async with db.transaction() as session:
        responses = (
            (await session.execute(select(SurveyResponse).order_by(SurveyResponse.id))).scalars().all()
        )
        assert [(x.kind, x.score, x.comment) for x in responses] == [
            ("csat", 2, "Took three emails."),
            ("ces", 6, None),
        ]
        follow_up = (
            await session.execute(
                select(Conversation).where(Conversation.id == responses[0].follow_up_conversation_id)
            )
        ).scalar_one()
        note = (
            await session.execute(select(Message).where(Message.conversation_id == follow_up.id))
        ).scalar_one()
    assert (follow_up.priority, follow_up.assignee_id, follow_up.status, follow_up.customer_id) == (
        "high",
        admin,
        "open",
        shop_a.customer_id,
    )
    assert follow_up.subject == "Follow-up: CSAT 2/5 on #1"
    assert note.direction == "note"
    assert (
        note.text
        == "Low CSAT from the customer: 2 on a 1–5 scale.\nComment: “Took three emails.”\nAbout conversation #1."
    )

    # another resolution within 14 days: no second survey for the same customer
    await resolved_conversation(client, shop_a, shop_a.customer_id)
    await run_jobs()
    assert await count_rows(db, "surveys") == 1


async def test_button_reply_and_low_nps_on_an_open_conversation(
    db: Database, shop_a: ShopWorld, shop_b: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    r = await client.post(
        "/api/v1/conversations",
        json={"customer_id": shop_a.customer_id, "channel_id": shop_a.channel_id, "message": "Hi"},
        headers=shop_a.h(),
    )
    cid = r.json()["id"]
    r = await client.post(
        "/api/v1/surveys",
        json={"customer_id": shop_a.customer_id, "kinds": ["nps"], "conversation_id": cid},
        headers=shop_a.h(),
    )
    assert (r.status_code, r.json()["status"], r.json()["trigger"]) == (201, "scheduled", "manual")
    sid = r.json()["id"]
    await run_jobs()
    async with db.transaction() as session:
        survey = (await session.execute(select(Survey).where(Survey.id == sid))).scalar_one()
        message = (await session.execute(select(Message).where(Message.id == survey.message_id))).scalar_one()
        button = message.meta["buttons"][3]["id"]  # NPS 0…10: the fourth button is 3
        with pytest.raises(Exception) as other_shop:
            await service.answer_by_button(session, shop_id=shop_b.id, button_id=button)
        assert getattr(other_shop.value, "status_code", None) == 404
    async with db.transaction() as session:
        result = await service.answer_by_button(session, shop_id=shop_a.id, button_id=button)
        assert [(x.kind, x.score) for x in result.responses] == [(SurveyKind.nps, 3)]
        assert result.follow_up_conversation_id == cid  # still open: flagged, not duplicated
    r = await client.get(f"/api/v1/conversations/{cid}", headers=shop_a.h())
    assert (r.json()["priority"], r.json()["status"]) == ("high", "open")
    # asked recently: a second NPS is refused unless forced
    r = await client.post(
        "/api/v1/surveys", json={"customer_id": shop_a.customer_id, "kinds": ["nps"]}, headers=shop_a.h()
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "asked_recently")


async def test_nps_after_delivery(
    db: Database, shop_a: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    r = await client.put(
        "/api/v1/surveys/settings", json={"nps_after_delivery_days": 7}, headers=shop_a.h("admin")
    )
    assert r.status_code == 200
    now = utcnow()
    async with db.transaction() as session:
        order = Order(
            shop_id=shop_a.id,
            number="1001",
            customer_id=shop_a.customer_id,
            currency="EUR",
            financial_status="paid",
            fulfillment_status="fulfilled",
            subtotal_minor=1000,
            total_minor=1000,
            placed_at=now - timedelta(days=10),
        )
        session.add(order)
        await session.flush()
        session.add(
            Shipment(
                shop_id=shop_a.id,
                order_id=order.id,
                status="delivered",
                delivered_at=now - timedelta(days=7, hours=1),
            )
        )
    async with db.transaction() as session:
        assert await service.scan_nps(session, shop_id=shop_a.id, now=now) == 1
    async with db.transaction() as session:
        assert await service.scan_nps(session, shop_id=shop_a.id, now=now) == 0  # asked already
    await run_jobs()
    r = await client.get("/api/v1/surveys", headers=shop_a.h())
    [survey] = r.json()["items"]
    assert (survey["kinds"], survey["trigger"], survey["status"], survey["order_id"]) == (
        ["nps"],
        "delivery",
        "sent",
        order.id,
    )
    r = await client.get(f"/api/v1/conversations/{survey['conversation_id']}", headers=shop_a.h())
    assert (r.json()["status"], r.json()["subject"]) == ("resolved", "Your feedback")


async def test_tenant_isolation(
    db: Database, shop_a: ShopWorld, shop_b: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    await enable_csat(client, shop_a)
    cid = await resolved_conversation(client, shop_a, shop_a.customer_id)
    await run_jobs()
    r = await client.get("/api/v1/surveys", headers=shop_a.h())
    sid = r.json()["items"][0]["id"]
    assert (await client.get(f"/api/v1/surveys/{sid}", headers=shop_b.h())).status_code == 404
    assert (await client.get("/api/v1/surveys", headers=shop_b.h())).json()["items"] == []
    assert (await client.get("/api/v1/surveys", params={"conversation_id": cid}, headers=shop_b.h())).json()[
        "items"
    ] == []
    r = await client.post(
        "/api/v1/surveys", json={"customer_id": shop_a.customer_id, "kinds": ["nps"]}, headers=shop_b.h()
    )
    assert r.status_code == 404
    r = await client.post(
        "/api/v1/surveys",
        json={"customer_id": shop_b.customer_id, "kinds": ["nps"], "conversation_id": cid},
        headers=shop_b.h(),
    )
    assert r.status_code == 404
    assert await count_rows(db, "surveys") == 1
    r = await client.put(
        "/api/v1/surveys/settings",
        json={"follow_up_assignee_id": shop_a.agent_ids["admin"]},
        headers=shop_b.h("admin"),
    )
    assert r.status_code == 404
    assert (await client.get("/api/v1/surveys/settings", headers=shop_b.h())).json()[
        "follow_up_assignee_id"
    ] is None
