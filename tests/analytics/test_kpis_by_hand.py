"""KPIs of a small history built through the real write paths, against values computed by hand.

Shop: Europe/Berlin, Mon–Fri 09:00–17:00, an SLA policy "first response within 1 business hour".
Friday 28 March 2025 and Monday 31 March 2025, across the DST change of Sunday 30 March:

A  Fri 16:30 customer writes · Mon 09:30 agent answers (FRT 64 h wall clock — 65 on the clock face,
   but the clocks went forward an hour on Sunday — and 1 h business: 30 min Friday + 30 min Monday) · Mon 09:40 agent resolves · CSAT survey (German) answered 4 at 10:00.
B  Mon 10:00 customer writes · 10:00:30 assistant answers · 10:01 assistant resolves (automated).
C  Mon 11:00 customer writes · 11:20 agent answers · 11:30 resolves · 12:00 customer writes again
   (reopened) · 12:05 agent answers · 12:06 resolves.
D  Mon 13:00 customer writes, nobody answers: the first-response SLA (due 14:00) is breached.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from storedesk.analytics import service as kpis
from storedesk.analytics.repository import KpiFilter
from storedesk.analytics.rollup import derive_grains, refresh_shop
from storedesk.conversations import service as conversations
from storedesk.conversations.models import ConversationStatus, Direction, Message
from storedesk.db.session import Database
from storedesk.kit.actor import ASSISTANT, SYSTEM, Actor
from storedesk.kit.time import utcnow
from storedesk.shops.service import get_shop
from storedesk.sla import service as sla
from storedesk.surveys import service as surveys
from storedesk.surveys.models import Survey, SurveyKind
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio
BERLIN = ZoneInfo("Europe/Berlin")
FRI, MON = (2025, 3, 28), (2025, 3, 31)


def at(day: tuple[int, int, int], hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(*day, hh, mm, ss, tzinfo=BERLIN)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The write paths' "now" (status changes take no timestamp), set by each step of the story."""
    c = Clock()
    monkeypatch.setattr(conversations, "utcnow", c)
    monkeypatch.setattr(surveys, "utcnow", c)
    return c


async def build_history(db: Database, shop: ShopWorld, clock: Clock, run_jobs: Any) -> dict[str, int]:
    customer, agent = Actor("customer", shop.customer_id), Actor("agent", shop.agent_ids["agent"])
    ids: dict[str, int] = {}
    async with db.transaction() as session:
        await surveys.update_settings(
            session, shop_id=shop.id, actor=SYSTEM, changes={"after_resolve": ["csat"]}
        )
        await sla.create_policy(
            session, shop_id=shop.id, actor=SYSTEM, values={"name": "1h", "first_response_minutes": 60}
        )

    async def step(when: datetime, fn: Any) -> Any:
        clock.now = when
        async with db.transaction() as session:
            return await fn(session)

    async def open_(name: str, when: datetime, language: str | None = None) -> None:
        async def go(session: Any) -> None:
            c = await conversations.open_conversation(
                session,
                shop_id=shop.id,
                actor=SYSTEM,
                customer_id=shop.customer_id,
                channel_id=shop.channel_id,
                language=language,
                created_at=when,
            )
            await session.flush()
            ids[name] = c.id
            await conversations.add_message(
                session,
                shop_id=shop.id,
                actor=customer,
                conversation_id=c.id,
                direction=Direction.inbound,
                text="Hallo",
                created_at=when,
            )

        await step(when, go)

    def msg(name: str, who: Actor, when: datetime, direction: Direction = Direction.outbound) -> Any:
        return step(
            when,
            lambda s: conversations.add_message(
                s,
                shop_id=shop.id,
                actor=who,
                conversation_id=ids[name],
                direction=direction,
                text="…",
                created_at=when,
            ),
        )

    async def status(
        name: str, who: Actor, when: datetime, to: ConversationStatus = ConversationStatus.resolved
    ) -> None:
        await step(
            when,
            lambda s: conversations.change_status(
                s, shop_id=shop.id, actor=who, conversation_id=ids[name], status=to
            ),
        )
        await run_jobs()  # survey.after_resolve (and survey.send) at the time of the resolution

    await open_("A", at(FRI, 16, 30), language="de")
    await step(
        at(FRI, 16, 31),
        lambda s: conversations.assign(
            s,
            shop_id=shop.id,
            actor=SYSTEM,
            conversation_id=ids["A"],
            assignee_id=shop.agent_ids["agent"],
            team_id=None,
        ),
    )
    await msg("A", agent, at(MON, 9, 30))
    await status("A", agent, at(MON, 9, 40))  # → CSAT survey, in German

    await open_("B", at(MON, 10, 0))
    await msg("B", ASSISTANT, at(MON, 10, 0, 30))
    await status("B", ASSISTANT, at(MON, 10, 1))

    await open_("C", at(MON, 11, 0))
    await step(
        at(MON, 11, 1),
        lambda s: conversations.assign(
            s,
            shop_id=shop.id,
            actor=SYSTEM,
            conversation_id=ids["C"],
            assignee_id=shop.agent_ids["agent"],
            team_id=None,
        ),
    )
    await msg("C", agent, at(MON, 11, 20))
    await status("C", agent, at(MON, 11, 30))
    await msg("C", customer, at(MON, 12, 0), Direction.inbound)  # reopens
    await msg("C", agent, at(MON, 12, 5))
    await status("C", agent, at(MON, 12, 6))

    await open_("D", at(MON, 13, 0))
    clock.now = utcnow()
    await run_jobs()
    async with db.transaction() as session:
        assert await sla.report_breaches(session, shop_id=shop.id) == 1  # D: due Monday 14:00
    return ids


async def test_kpis_match_hand_computed_values(
    db: Database, shop_a: ShopWorld, clock: Clock, run_jobs: Any, client: httpx.AsyncClient
) -> None:
    ids = await build_history(db, shop_a, clock, run_jobs)

    # the CSAT survey went out once (B and C were within the frequency window), in German, as a system
    # message with buttons (API channel) and a signed link
    async with db.transaction() as session:
        survey = (await session.execute(select(Survey))).scalar_one()
        assert (survey.conversation_id, survey.kinds, survey.language, survey.status) == (
            ids["A"],
            ["csat"],
            "de",
            "sent",
        )
        message = (await session.execute(select(Message).where(Message.id == survey.message_id))).scalar_one()
        assert message.text.startswith(
            "Wie zufrieden sind Sie mit der Hilfe von Shop shop-a?\n1 = Sehr unzufrieden"
        )
        assert [b["title"] for b in message.meta["buttons"]] == ["1", "2", "3", "4", "5"]
        result = await surveys.answer(
            session, survey=survey, answers={SurveyKind.csat: 4}, now=at(MON, 10, 0)
        )
        assert result.follow_up_conversation_id is None

    stats = await refresh_shop(db, shop_a.id, safety=__import__("datetime").timedelta(0))
    assert stats.conversations == 4

    async with db.transaction() as session:
        shop = await get_shop(session, shop_a.id)
        monday = await kpis.report(session, shop, kpis.KpiQuery(at(MON, 0, 0).date(), at(MON, 0, 0).date()))
        friday = await kpis.report(session, shop, kpis.KpiQuery(at(FRI, 0, 0).date(), at(FRI, 0, 0).date()))
        by_agent = await kpis.report(
            session, shop, kpis.KpiQuery(at(MON, 0, 0).date(), at(MON, 0, 0).date(), group_by="agent")
        )
        filtered = await kpis.report(
            session,
            shop,
            kpis.KpiQuery(
                at(FRI, 0, 0).date(),
                at(MON, 0, 0).date(),
                KpiFilter(agent_id=shop_a.agent_ids["agent"], language="de"),
            ),
        )

    t = monday["totals"]
    assert {
        k: t[k]
        for k in (
            "conversations",
            "messages_received",
            "backlog",
            "first_responses",
            "first_response_time",
            "first_response_time_business",
            "frt_distribution",
            "resolved",
            "resolution_time",
            "resolution_time_business",
            "reopened",
            "reopen_rate",
            "first_contact_resolution_rate",
            "automated",
            "automation_rate",
            "handled",
            "average_handling_time",
            "sla_achieved",
            "sla_breached",
            "sla_compliance_rate",
            "csat_responses",
            "csat",
            "csat_average",
            "nps",
            "ces_average",
        )
    } == {
        "conversations": 3,  # B, C, D (A was opened on Friday)
        "messages_received": 4,  # B, C twice, D
        "backlog": 1,  # D
        "first_responses": 3,  # A, B, C answered on Monday
        "first_response_time": (64 * 3600 + 30 + 20 * 60) / 3,
        "first_response_time_business": (3600 + 30 + 20 * 60) / 3,
        "frt_distribution": {
            "frt_le_15m": 1,
            "frt_le_1h": 1,
            "frt_le_4h": 0,
            "frt_le_24h": 0,
            "frt_gt_24h": 1,
        },
        "resolved": 3,
        "resolution_time": ((64 * 60 + 10) * 60 + 60 + 30 * 60) / 3,
        "resolution_time_business": (70 * 60 + 60 + 30 * 60) / 3,
        "reopened": 1,
        "reopen_rate": 1 / 3,
        "first_contact_resolution_rate": 2 / 3,  # A and B; C was reopened
        "automated": 1,
        "automation_rate": 1 / 3,
        # A: answer (capped 10 min after Friday's message) + resolve (10 min later) = 1200 s;
        # C: 600 (capped) + 600 + 300 (12:00 → 12:05) + 60 = 1560 s; B had no agent
        "handled": 2,
        "average_handling_time": (1200 + 1560) / 2,
        "sla_achieved": 3,
        "sla_breached": 1,
        "sla_compliance_rate": 0.75,
        "csat_responses": 1,
        "csat": 1.0,
        "csat_average": 4.0,
        "nps": None,
        "ces_average": None,
    }
    assert monday["previous"] == {"from": "2025-03-30", "to": "2025-03-30"}
    assert (monday["previous_totals"]["conversations"], monday["previous_totals"]["backlog"]) == (0, 1)
    assert monday["change"]["conversations"] == 3
    assert (
        friday["totals"]["conversations"],
        friday["totals"]["backlog"],
        friday["totals"]["first_responses"],
    ) == (1, 1, 0)

    rows = {g["label"]: g["kpis"] for g in by_agent["groups"]}
    assert sorted(rows) == ["Agent shop-a", "Unassigned"]
    agent = rows["Agent shop-a"]
    assert (
        agent["conversations"],
        agent["first_responses"],
        agent["resolved"],
        agent["csat_responses"],
        agent["backlog"],
    ) == (1, 2, 2, 1, 0)
    assert (
        rows["Unassigned"]["conversations"],
        rows["Unassigned"]["automated"],
        rows["Unassigned"]["backlog"],
    ) == (2, 1, 1)
    # only A is the agent's and German: Friday + Monday
    assert (filtered["totals"]["conversations"], filtered["totals"]["first_response_time_business"]) == (
        1,
        3600.0,
    )

    # the same through the API, and as CSV
    r = await client.get(
        "/api/v1/kpis", params={"from": "2025-03-31", "to": "2025-03-31"}, headers=shop_a.h("viewer")
    )
    assert r.status_code == 200
    assert r.json()["totals"]["first_response_time_business"] == (3600 + 30 + 20 * 60) / 3
    r = await client.get(
        "/api/v1/kpis.csv",
        params={"from": "2025-03-28", "to": "2025-03-31", "group_by": "day"},
        headers=shop_a.h(),
    )
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    lines = r.text.splitlines()
    assert lines[0].startswith("group,key,label,from,to,conversations,messages_received,backlog,")
    assert [line.split(",")[:8] for line in lines[1:]] == [
        ["day", "2025-03-28", "2025-03-28", "2025-03-28", "2025-03-28", "1", "1", "1"],
        ["day", "2025-03-29", "2025-03-29", "2025-03-29", "2025-03-29", "0", "0", "1"],
        ["day", "2025-03-30", "2025-03-30", "2025-03-30", "2025-03-30", "0", "0", "1"],
        ["day", "2025-03-31", "2025-03-31", "2025-03-31", "2025-03-31", "3", "4", "1"],
        ["total", "", "Total", "2025-03-28", "2025-03-31", "4", "5", "1"],
        ["previous", "", "Previous period", "2025-03-24", "2025-03-27", "0", "0", "0"],
    ]


async def test_rollup_is_idempotent_and_incremental(
    db: Database, shop_a: ShopWorld, clock: Clock, run_jobs: Any
) -> None:
    from datetime import timedelta

    from storedesk.analytics.models import KpiDaily

    await build_history(db, shop_a, clock, run_jobs)
    first = await refresh_shop(db, shop_a.id, safety=timedelta(0))
    async with db.transaction() as session:
        before = sorted(tuple(r) for r in (await session.execute(select(KpiDaily.__table__))).all())
    again = await refresh_shop(db, shop_a.id, safety=timedelta(0))
    assert (again.events, again.conversations, again.rows_changed) == (0, 0, 0)
    assert again.watermark == first.watermark
    async with db.transaction() as session:
        after = sorted(tuple(r) for r in (await session.execute(select(KpiDaily.__table__))).all())
    assert after == before
    # the coarser grains recomputed from the full breakdown in SQL are the ones the job wrote
    assert await derive_grains(db, shop_a.id) > 0
    async with db.transaction() as session:
        derived = sorted(tuple(r) for r in (await session.execute(select(KpiDaily.__table__))).all())
    assert [r for r in derived if any(r[8:])] == [r for r in before if any(r[8:])]
