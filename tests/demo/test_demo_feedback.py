"""The demo shop's feedback and SLAs (issue 8's "Done when"), on SQLite and PostgreSQL: surveys on, SLA
policies with breached conversations, twelve months of survey answers and SLA outcomes in the KPIs, and
resolving a demo conversation sends a CSAT survey in the customer's language whose answer is counted."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from storedesk.analytics.rollup import refresh_shop
from storedesk.channels.models import Channel
from storedesk.conversations.models import Conversation, Message
from storedesk.db.session import Database
from storedesk.demo.seed import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, seed_demo
from storedesk.events.models import Event
from storedesk.jobs.models import Job
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop
from storedesk.sla.models import ConversationSla
from storedesk.surveys import texts
from storedesk.surveys.models import Survey, SurveyKind, SurveyResponse
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.anyio


async def scalar(db: Database, stmt: Any) -> Any:
    async with db.transaction() as s:
        return (await s.execute(stmt)).scalar_one()


async def test_demo_feedback_slas_and_done_when(
    db: Database, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    summary = await seed_demo(db, seed=42, box_secrets=[TEST_SECRET], progress=False, force=False)
    shop_id = summary["shop_id"]
    r = await client.post(
        "/api/v1/auth/login", json={"email": DEMO_ADMIN_EMAIL, "password": DEMO_PASSWORD, "shop": "demo"}
    )
    assert r.status_code == 200, r.text
    h = {"Authorization": f"Bearer {r.json()['token']}"}

    settings = (await client.get("/api/v1/surveys/settings", headers=h)).json()
    assert (settings["after_resolve"], settings["min_days_between"]) == (["csat", "ces"], 14)
    policies = (await client.get("/api/v1/sla/policies", headers=h)).json()
    assert [p["name"] for p in policies] == ["Urgent", "High priority", "Live chat", "Default"]

    # breached conversations, as the inbox and the API see them
    now = utcnow()
    async with db.transaction() as s:
        expected = (
            await s.execute(
                select(func.count())
                .select_from(ConversationSla)
                .join(Conversation, Conversation.id == ConversationSla.conversation_id)
                .where(
                    ConversationSla.shop_id == shop_id,
                    ConversationSla.next_due_at <= now,
                    Conversation.status.in_(["open", "pending", "snoozed"]),
                )
            )
        ).scalar_one()
    breached = (
        await client.get("/api/v1/sla/conversations", params={"state": "breached", "limit": 200}, headers=h)
    ).json()["items"]
    assert expected >= 5
    assert len(breached) == expected
    assert {b["sla_state"] for b in breached} == {"breached"}
    notified = await scalar(
        db,
        select(func.count()).select_from(Event).where(Event.shop_id == shop_id, Event.type == "sla.breached"),
    )
    assert notified > 0

    # twelve months of answers, in the rollups exactly as in the tables
    async with db.transaction() as s:
        answered = (
            await s.execute(
                select(SurveyResponse.kind, SurveyResponse.answered_at).where(
                    SurveyResponse.shop_id == shop_id
                )
            )
        ).all()
        outcomes = Counter(
            (
                await s.execute(
                    select(Event.type).where(
                        Event.shop_id == shop_id, Event.type.in_(["sla.achieved", "sla.breached"])
                    )
                )
            ).scalars()
        )
        tz = (await s.get(Shop, shop_id)).timezone  # type: ignore[union-attr]
    months = {
        kind: {a.strftime("%Y-%m") for k, a in answered if k == kind} for kind in ("csat", "ces", "nps")
    }
    assert (len(months["csat"]) >= 11, len(months["ces"]) >= 10, len(months["nps"]) >= 10) == (
        True,
        True,
        True,
    )
    await refresh_shop(db, shop_id, safety=timedelta(0))
    today = now.astimezone(__import__("zoneinfo").ZoneInfo(tz)).date()
    period = {"from": (today - timedelta(days=399)).isoformat(), "to": today.isoformat()}
    body = (await client.get("/api/v1/kpis", params={**period, "group_by": "month"}, headers=h)).json()
    totals = body["totals"]
    kinds = Counter(k for k, _ in answered)
    assert (totals["csat_responses"], totals["ces_responses"], totals["nps_responses"]) == (
        kinds["csat"],
        kinds["ces"],
        kinds["nps"],
    )
    assert (totals["sla_achieved"], totals["sla_breached"]) == (
        outcomes["sla.achieved"],
        outcomes["sla.breached"],
    )
    assert totals["sla_compliance_rate"] == pytest.approx(
        outcomes["sla.achieved"] / (outcomes["sla.achieved"] + outcomes["sla.breached"])
    )
    with_csat = [g for g in body["groups"] if g["kpis"]["csat_responses"]]
    assert len(with_csat) >= 11
    assert 0.5 < totals["csat"] < 0.95 and -100 < totals["nps"] < 100 and 3.0 < totals["ces_average"] < 7.0

    # Done when: resolving a demo conversation sends a CSAT survey in the customer's language …
    async with db.transaction() as s:
        conv = (
            await s.execute(
                select(Conversation)
                .join(Channel, Channel.id == Conversation.channel_id)
                .where(Conversation.shop_id == shop_id, Conversation.status == "open", Channel.kind == "chat")
                .order_by(Conversation.number)
                .limit(1)
            )
        ).scalar_one()
    r = await client.post(f"/api/v1/conversations/{conv.id}/messages", json={"text": "Erledigt!"}, headers=h)
    assert r.status_code == 201
    r = await client.post(f"/api/v1/conversations/{conv.id}/status", json={"status": "resolved"}, headers=h)
    assert r.status_code == 200
    await run_jobs()
    async with db.transaction() as s:
        survey = (await s.execute(select(Survey).where(Survey.conversation_id == conv.id))).scalar_one()
        message = (await s.execute(select(Message).where(Message.id == survey.message_id))).scalar_one()
        delivery = (
            await s.execute(select(Job).where(Job.dedupe_key == f"delivery.send:{message.id}"))
        ).scalar_one()
    assert survey.language == conv.language and survey.kinds == ["csat", "ces"]
    assert message.text.split("\n")[0] == texts.question(
        conv.language or "en", SurveyKind.csat, "Nordlys Home & Living"
    )
    assert (message.channel_id, message.direction, message.delivery_status) == (
        conv.channel_id,
        "outbound",
        "sent",
    )
    assert (delivery.status, len(message.meta["buttons"])) == ("done", 5)
    # … whose answer appears in the KPIs
    token = re.search(r"/s/([0-9]+-[A-Za-z0-9_-]+)", message.text).group(1)  # type: ignore[union-attr]
    r = await client.post(f"/s/{token}", data={"csat": "5", "ces": "6"})
    assert r.status_code == 200
    await refresh_shop(db, shop_id, safety=timedelta(0))
    after = (await client.get("/api/v1/kpis", params=period, headers=h)).json()["totals"]
    assert (after["csat_responses"], after["ces_responses"]) == (kinds["csat"] + 1, kinds["ces"] + 1)
