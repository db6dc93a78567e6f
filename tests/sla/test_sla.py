"""SLA clocks through the conversation service, the breach job and the API (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

import storedesk.sla.tasks  # noqa: F401  (registers sla.report_breaches)
from storedesk.agents.models import Notification
from storedesk.conversations import service as conversations
from storedesk.conversations.models import Conversation, ConversationStatus, Direction, Priority
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.jobs.periodic import PeriodicScheduler
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.time import utcnow
from storedesk.shops.models import DEFAULT_BUSINESS_HOURS
from storedesk.sla import service as sla
from storedesk.sla.calendar import BusinessCalendar
from storedesk.sla.models import ConversationSla, SlaPolicy
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


async def policy(db: Database, shop: ShopWorld, **values: Any) -> int:
    async with db.transaction() as session:
        p = await sla.create_policy(session, shop_id=shop.id, actor=SYSTEM, values={"name": "p", **values})
        await session.flush()
        return p.id


async def conversation(db: Database, shop: ShopWorld, **kw: Any) -> int:
    async with db.transaction() as session:
        c = await conversations.open_conversation(
            session,
            shop_id=shop.id,
            actor=SYSTEM,
            customer_id=shop.customer_id,
            channel_id=shop.channel_id,
            **kw,
        )
        await session.flush()
        return c.id


async def message(
    db: Database, shop: ShopWorld, cid: int, direction: Direction, at: datetime, who: Actor
) -> None:
    async with db.transaction() as session:
        await conversations.add_message(
            session,
            shop_id=shop.id,
            actor=who,
            conversation_id=cid,
            direction=direction,
            text="hi",
            created_at=at,
        )


async def load(db: Database, cid: int) -> tuple[Conversation, ConversationSla]:
    async with db.transaction() as session:
        c = (await session.execute(select(Conversation).where(Conversation.id == cid))).scalar_one()
        s = (
            await session.execute(select(ConversationSla).where(ConversationSla.conversation_id == cid))
        ).scalar_one()
        return c, s


async def sla_events(db: Database, cid: int) -> list[tuple[str, str, datetime]]:
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(Event).where(Event.conversation_id == cid, Event.type.like("sla.%")).order_by(Event.id)
            )
        ).scalars()
        return [(e.type, e.data["target"], e.occurred_at) for e in rows]


async def test_due_times_follow_business_hours_and_outcomes_are_recorded(
    db: Database, shop_a: ShopWorld
) -> None:
    await policy(db, shop_a, first_response_minutes=60, next_response_minutes=120, resolution_minutes=8 * 60)
    cid = await conversation(db, shop_a)
    customer, agent = Actor("customer", shop_a.customer_id), Actor("agent", shop_a.agent_ids["agent"])

    await message(db, shop_a, cid, Direction.inbound, berlin(2025, 3, 28, 16, 30), customer)  # Friday 16:30
    c, s = await load(db, cid)
    assert c.first_response_due_at == berlin(2025, 3, 31, 9, 30)
    assert c.resolution_due_at == berlin(2025, 3, 31, 16, 30)
    assert c.next_response_due_at is None
    assert s.next_due_at == berlin(2025, 3, 31, 9, 30)

    # an automatic (system) reply is not an answer
    await message(db, shop_a, cid, Direction.outbound, berlin(2025, 3, 28, 16, 31), SYSTEM)
    c, s = await load(db, cid)
    assert s.first_responded_at is None and s.next_due_at == berlin(2025, 3, 31, 9, 30)

    await message(db, shop_a, cid, Direction.outbound, berlin(2025, 3, 31, 9, 10), agent)  # in time
    await message(db, shop_a, cid, Direction.inbound, berlin(2025, 3, 31, 10, 0), customer)
    c, s = await load(db, cid)
    assert c.next_response_due_at == berlin(2025, 3, 31, 12, 0)
    assert s.next_due_at == berlin(2025, 3, 31, 12, 0)
    await message(db, shop_a, cid, Direction.outbound, berlin(2025, 3, 31, 12, 30), agent)  # late
    c, s = await load(db, cid)
    assert c.next_response_due_at is None
    assert s.next_due_at == berlin(2025, 3, 31, 16, 30)  # only the resolution target is running

    assert await sla_events(db, cid) == [
        ("sla.achieved", "first_response", berlin(2025, 3, 31, 9, 10)),
        ("sla.breached", "next_response", berlin(2025, 3, 31, 12, 0)),  # dated at the due time
    ]


async def test_pending_pauses_the_resolution_clock(db: Database, shop_a: ShopWorld) -> None:
    await policy(db, shop_a, resolution_minutes=24 * 60, business_hours=False)
    cid = await conversation(db, shop_a)
    start = utcnow() - timedelta(hours=2)
    await message(db, shop_a, cid, Direction.inbound, start, Actor("customer", shop_a.customer_id))
    c, _ = await load(db, cid)
    assert c.resolution_due_at == start + timedelta(hours=24)
    async with db.transaction() as session:
        await conversations.change_status(
            session, shop_id=shop_a.id, actor=SYSTEM, conversation_id=cid, status=ConversationStatus.pending
        )
    c, s = await load(db, cid)
    assert c.resolution_due_at is None and s.paused_at is not None and s.next_due_at is None
    async with db.transaction() as session:
        await conversations.change_status(
            session, shop_id=shop_a.id, actor=SYSTEM, conversation_id=cid, status=ConversationStatus.open
        )
    c, s = await load(db, cid)
    assert s.paused_at is None and s.paused_seconds > 0
    assert c.resolution_due_at == start + timedelta(hours=24, seconds=s.paused_seconds)
    async with db.transaction() as session:
        await conversations.change_status(
            session, shop_id=shop_a.id, actor=SYSTEM, conversation_id=cid, status=ConversationStatus.resolved
        )
    c, s = await load(db, cid)
    assert (c.resolution_due_at, s.next_due_at, s.next_breach_at, s.resolution_outcome) == (
        None,
        None,
        None,
        "achieved",
    )
    assert [e[:2] for e in await sla_events(db, cid)] == [("sla.achieved", "resolution")]


def test_due_time_math_with_pauses_in_business_hours() -> None:
    cal = BusinessCalendar.from_config("Europe/Berlin", DEFAULT_BUSINESS_HOURS)
    pol = SlaPolicy(first_response_minutes=None, next_response_minutes=None, resolution_minutes=8 * 60)
    state = ConversationSla(started_at=berlin(2025, 3, 28, 16, 30), paused_seconds=2 * 3600.0)
    # 8 business hours + 2 paused business hours from Friday 16:30 → Tuesday 10:30
    assert sla.due_times(state, "open", pol, cal).resolution == berlin(2025, 4, 1, 10, 30)
    state.paused_at = berlin(2025, 3, 31, 9, 0)
    assert sla.due_times(state, "pending", pol, cal).resolution is None
    assert sla.due_times(ConversationSla(started_at=None), "open", pol, cal).resolution is None


async def test_priority_and_tag_choose_the_policy(db: Database, shop_a: ShopWorld) -> None:
    await policy(
        db,
        shop_a,
        name="urgent",
        position=0,
        match_priority="urgent",
        first_response_minutes=15,
        business_hours=False,
    )
    await policy(
        db, shop_a, name="vip", position=1, match_tag="vip", first_response_minutes=30, business_hours=False
    )
    fallback = await policy(
        db, shop_a, name="default", position=2, first_response_minutes=240, business_hours=False
    )
    cid = await conversation(db, shop_a)
    start = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    await message(db, shop_a, cid, Direction.inbound, start, Actor("customer", shop_a.customer_id))
    c, s = await load(db, cid)
    assert (c.first_response_due_at, s.policy_id) == (start + timedelta(minutes=240), fallback)
    async with db.transaction() as session:
        await conversations.change_tags(
            session, shop_id=shop_a.id, actor=SYSTEM, conversation_id=cid, add=["VIP"], remove=[]
        )
    c, _ = await load(db, cid)
    assert c.first_response_due_at == start + timedelta(minutes=30)
    async with db.transaction() as session:
        await conversations.update_attributes(
            session,
            shop_id=shop_a.id,
            actor=SYSTEM,
            conversation_id=cid,
            changes={"priority": Priority.urgent},
        )
    c, _ = await load(db, cid)
    assert c.first_response_due_at == start + timedelta(minutes=15)


async def test_breach_job_reports_once_and_notifies(
    db: Database, shop_a: ShopWorld, shop_b: ShopWorld, client: httpx.AsyncClient, run_jobs: Any
) -> None:
    await policy(db, shop_a, first_response_minutes=60, business_hours=False)
    late = await conversation(db, shop_a, subject="Where is my parcel?")
    soon = await conversation(db, shop_a)
    now = utcnow().replace(microsecond=0)
    customer = Actor("customer", shop_a.customer_id)
    await message(db, shop_a, late, Direction.inbound, now - timedelta(hours=3), customer)
    await message(db, shop_a, soon, Direction.inbound, now - timedelta(minutes=30), customer)

    r = await client.get("/api/v1/sla/conversations", params={"state": "breached"}, headers=shop_a.h())
    assert r.status_code == 200
    body = r.json()
    assert [(i["conversation_id"], i["sla_state"]) for i in body["items"]] == [(late, "breached")]
    assert body["items"][0]["first_response_due_at"] == (now - timedelta(hours=2)).isoformat().replace(
        "+00:00", "Z"
    )
    r = await client.get(
        "/api/v1/sla/conversations", params={"state": "due_soon", "within_minutes": 60}, headers=shop_a.h()
    )
    assert [(i["conversation_id"], i["sla_state"]) for i in r.json()["items"]] == [(soon, "due_soon")]
    r = await client.get(
        "/api/v1/sla/conversations", params={"state": "due_soon", "within_minutes": 10}, headers=shop_a.h()
    )
    assert r.json()["items"] == []

    # the periodic job: scheduled once per slot, reports the breach, notifies the admin (unassigned)
    scheduler = PeriodicScheduler(db)
    assert await scheduler.tick() >= 1
    assert await PeriodicScheduler(db).tick() == 0  # another runner: the same slot is not scheduled twice
    await run_jobs()
    assert await sla_events(db, late) == [("sla.breached", "first_response", now - timedelta(hours=2))]
    async with db.transaction() as session:
        notes = (await session.execute(select(Notification).order_by(Notification.id))).scalars().all()
        assert [(n.shop_id, n.agent_id, n.kind, n.conversation_id) for n in notes] == [
            (shop_a.id, shop_a.agent_ids["admin"], "sla_breach", late)
        ]
        assert notes[0].text.startswith("SLA breached (first response): #1 Where is my parcel?")
        assert await sla.report_breaches(session, shop_id=shop_a.id) == 0  # reported once
    _, s = await load(db, late)
    assert (s.first_response_outcome, s.next_breach_at) == ("breached", None)

    # the late answer takes it out of the breached view and records nothing more
    await message(db, shop_a, late, Direction.outbound, now, Actor("agent", shop_a.agent_ids["agent"]))
    r = await client.get("/api/v1/sla/conversations", params={"state": "breached"}, headers=shop_a.h())
    assert r.json()["items"] == []
    assert len(await sla_events(db, late)) == 1

    # another shop sees nothing and cannot read this conversation's SLA
    r = await client.get("/api/v1/sla/conversations", params={"state": "due_soon"}, headers=shop_b.h())
    assert r.json()["items"] == []
    r = await client.get(f"/api/v1/sla/conversations/{soon}", headers=shop_b.h())
    assert r.status_code == 404
    r = await client.get(f"/api/v1/sla/conversations/{soon}", headers=shop_a.h("viewer"))
    assert (r.status_code, r.json()["sla_state"]) == (200, "due_soon")


async def test_policy_api_roles_validation_and_tenant_isolation(
    db: Database, shop_a: ShopWorld, shop_b: ShopWorld, client: httpx.AsyncClient
) -> None:
    body = {
        "name": "Email",
        "match_channel_kind": "email",
        "first_response_minutes": 240,
        "resolution_minutes": 2880,
    }
    for role in ("agent", "viewer"):
        r = await client.post("/api/v1/sla/policies", json=body, headers=shop_a.h(role))
        assert r.status_code == 403
    r = await client.post("/api/v1/sla/policies", json={"name": "Empty"}, headers=shop_a.h("admin"))
    assert (r.status_code, r.json()["error"]["details"]) == (422, {"field": "first_response_minutes"})
    r = await client.post(
        "/api/v1/sla/policies", json=body | {"match_priority": "meh"}, headers=shop_a.h("admin")
    )
    assert r.status_code == 422
    r = await client.post("/api/v1/sla/policies", json=body, headers=shop_a.h("admin"))
    assert r.status_code == 201
    created = r.json()
    assert {
        k: created[k] for k in ("name", "match_channel_kind", "first_response_minutes", "business_hours")
    } == {
        "name": "Email",
        "match_channel_kind": "email",
        "first_response_minutes": 240,
        "business_hours": True,
    }
    pid = created["id"]
    r = await client.post("/api/v1/sla/policies", json=body, headers=shop_a.h("admin"))
    assert r.status_code == 409

    # shop B: 404 on read, change and delete, and nothing changed
    assert (await client.get(f"/api/v1/sla/policies/{pid}", headers=shop_b.h("admin"))).status_code == 404
    r = await client.patch(
        f"/api/v1/sla/policies/{pid}", json={"name": "Hijacked"}, headers=shop_b.h("admin")
    )
    assert r.status_code == 404
    assert (await client.delete(f"/api/v1/sla/policies/{pid}", headers=shop_b.h("admin"))).status_code == 404
    assert (await client.get("/api/v1/sla/policies", headers=shop_b.h())).json() == []
    r = await client.get(f"/api/v1/sla/policies/{pid}", headers=shop_a.h("viewer"))
    assert r.json()["name"] == "Email"

    r = await client.patch(
        f"/api/v1/sla/policies/{pid}", json={"first_response_minutes": 60}, headers=shop_a.h("admin")
    )
    assert (r.status_code, r.json()["first_response_minutes"]) == (200, 60)
    assert (await client.delete(f"/api/v1/sla/policies/{pid}", headers=shop_a.h("admin"))).status_code == 204
    assert await count_rows(db, "sla_policies") == 0
    async with db.transaction() as session:
        types = (
            (
                await session.execute(
                    select(Event.type).where(Event.type.like("sla.policy%")).order_by(Event.id)
                )
            )
            .scalars()
            .all()
        )
    assert types == ["sla.policy_created", "sla.policy_updated", "sla.policy_deleted"]


def test_snapshot_labels() -> None:
    now = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    conv = Conversation(status=ConversationStatus.open)
    assert sla.snapshot(conv, None, now).state == "none"
    state = ConversationSla(policy_id=1, next_due_at=now + timedelta(minutes=30))
    assert sla.snapshot(conv, state, now).state == "due_soon"
    assert sla.snapshot(conv, state, now, timedelta(minutes=10)).state == "ok"
    state.next_due_at = now
    assert sla.snapshot(conv, state, now).state == "breached"
    state.next_due_at, state.paused_at = None, now
    assert sla.snapshot(conv, state, now).state == "paused"
    assert sla.snapshot(Conversation(status=ConversationStatus.resolved), state, now).state == "met"


async def test_switching_a_policy_off_stops_its_clocks(
    db: Database, shop_a: ShopWorld, client: httpx.AsyncClient
) -> None:
    pid = await policy(db, shop_a, first_response_minutes=30, business_hours=False)
    cid = await conversation(db, shop_a)
    await message(
        db,
        shop_a,
        cid,
        Direction.inbound,
        utcnow() - timedelta(hours=1),
        Actor("customer", shop_a.customer_id),
    )
    r = await client.get("/api/v1/sla/conversations", params={"state": "breached"}, headers=shop_a.h())
    assert [i["conversation_id"] for i in r.json()["items"]] == [cid]
    r = await client.patch(
        f"/api/v1/sla/policies/{pid}", json={"is_active": False}, headers=shop_a.h("admin")
    )
    assert r.status_code == 200
    c, s = await load(db, cid)
    assert (c.first_response_due_at, s.next_due_at, s.next_breach_at, s.policy_id) == (None, None, None, None)
    r = await client.get("/api/v1/sla/conversations", params={"state": "breached"}, headers=shop_a.h())
    assert r.json()["items"] == []
    async with db.transaction() as session:
        assert await sla.report_breaches(session, shop_id=shop_a.id) == 0
