"""Property: for random event histories, the KPIs read from the rollups (built incrementally in two
runs, with a reassignment in between) equal a direct computation over the raw events
(tests/analytics/reference.py). Likewise retention and repeat purchase against plain set arithmetic."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, update

from storedesk.agents.models import Agent, Team
from storedesk.analytics import service as kpis
from storedesk.analytics.metrics import derive
from storedesk.analytics.repository import KpiFilter
from storedesk.analytics.rollup import refresh_shop
from storedesk.channels.models import Channel
from storedesk.commerce.models import Order
from storedesk.conversations.models import Conversation
from storedesk.customers.models import Customer
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.shops.models import DEFAULT_BUSINESS_HOURS, Shop
from storedesk.sla.calendar import BusinessCalendar
from tests.analytics.reference import Conv, Ev, totals

pytestmark = pytest.mark.anyio
BASE = datetime(2025, 3, 24, 0, 0, tzinfo=UTC)  # a fortnight around the DST change of 30 March
WINDOW_DAYS = 14
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
_slugs = itertools.count(1)

ACTIONS = (
    "in", "in", "agent", "agent", "assistant", "system", "note", "resolve_agent", "resolve_assistant",
    "close", "pending", "open", "assign", "sla_ok", "sla_bad", "csat", "ces", "nps",
)  # fmt: skip


@pytest.fixture
async def sdb(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_url, pool_size=1)
    yield database
    await database.dispose()


@dataclass
class World:
    shop_id: int
    channels: list[int]
    agents: list[int]
    teams: list[int]
    customer_id: int
    calendar: BusinessCalendar


async def new_world(db: Database) -> World:
    async with db.transaction() as session:
        shop = Shop(
            slug=f"p{next(_slugs)}",
            name="Prop",
            languages=["en", "de"],
            default_language="en",
            timezone="Europe/Berlin",
            business_hours=dict(DEFAULT_BUSINESS_HOURS, holidays=["2025-04-01"]),
            policies={},
        )
        session.add(shop)
        await session.flush()
        channels = [
            Channel(shop_id=shop.id, kind="api", name=f"c{i}", external_id=f"x{shop.id}-{i}")
            for i in range(2)
        ]
        agents = [Agent(shop_id=shop.id, email=f"a{i}@p{shop.id}.test", name=f"A{i}") for i in range(2)]
        teams = [Team(shop_id=shop.id, name="T")]
        customer = Customer(shop_id=shop.id, name="C")
        session.add_all([*channels, *agents, *teams, customer])
        await session.flush()
        cal = BusinessCalendar.from_config(shop.timezone, shop.business_hours)
        return World(
            shop.id, [c.id for c in channels], [a.id for a in agents], [t.id for t in teams], customer.id, cal
        )


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        steps = draw(
            st.lists(
                st.tuples(st.sampled_from(ACTIONS), st.integers(0, 900), st.integers(0, 10)),
                min_size=0,
                max_size=12,
            )
        )
        out.append(
            {
                "start": draw(st.integers(0, WINDOW_DAYS * 24 * 60 - 1)),
                "channel": draw(st.integers(0, 1)),
                "assignee": draw(st.sampled_from([None, 0, 1])),
                "team": draw(st.sampled_from([None, 0])),
                "language": draw(st.sampled_from([None, "de", "en"])),
                "intent": draw(st.sampled_from([None, "refund", "wismo"])),
                "steps": steps,
                "split": draw(st.integers(0, len(steps))),
                "reassign": draw(st.sampled_from([None, "none", 0, 1])),
            }
        )
    return out


def materialize(
    spec: dict[str, Any], w: World
) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, Any], dict[str, Any]]:
    """Events as ``(batch, row)``, the conversation's dimensions before and after the second batch."""
    dims = {
        "channel_id": w.channels[spec["channel"]],
        "assignee_id": None if spec["assignee"] is None else w.agents[spec["assignee"]],
        "team_id": None if spec["team"] is None else w.teams[spec["team"]],
        "language": spec["language"],
        "intent": spec["intent"],
    }
    final = dict(dims)
    t = BASE + timedelta(minutes=spec["start"])
    status = "open"
    rows: list[tuple[int, dict[str, Any]]] = []

    def ev(batch: int, type_: str, actor: str, actor_id: int | None = None, **data: Any) -> None:
        rows.append(
            (
                batch,
                {"type": type_, "occurred_at": t, "actor_type": actor, "actor_id": actor_id, "data": data},
            )
        )

    ev(1, "conversation.created", "system")
    for index, (action, gap, aux) in enumerate(spec["steps"]):
        batch = 1 if index < spec["split"] else 2
        t += timedelta(minutes=gap)
        agent = w.agents[aux % 2]
        if status == "closed" and action not in ("csat", "ces", "nps", "sla_ok", "sla_bad"):
            continue
        if action == "in":
            if status == "resolved":
                ev(batch, "conversation.status_changed", "customer", **{"from": "resolved", "to": "open"})
                status = "open"
            ev(batch, "message.received", "customer", direction="inbound")
        elif action in ("agent", "assistant", "system"):
            ev(batch, "message.created", action, agent if action == "agent" else None, direction="outbound")
        elif action == "note":
            ev(batch, "message.created", "agent", agent, direction="note")
        elif action in ("resolve_agent", "resolve_assistant", "close"):
            if status in ("open", "pending", "snoozed") or (action == "close" and status == "resolved"):
                to = "closed" if action == "close" else "resolved"
                actor = "assistant" if action == "resolve_assistant" else "agent"
                ev(
                    batch,
                    "conversation.status_changed",
                    actor,
                    agent if actor == "agent" else None,
                    **{"from": status, "to": to},
                )
                status = to
        elif action in ("pending", "open"):
            if status in ("open", "pending", "snoozed") and status != action:
                ev(batch, "conversation.status_changed", "agent", agent, **{"from": status, "to": action})
                status = action
        elif action == "assign":
            ev(batch, "conversation.assigned", "agent", agent)
        elif action in ("sla_ok", "sla_bad"):
            ev(
                batch,
                "sla.achieved" if action == "sla_ok" else "sla.breached",
                "system",
                target="first_response",
            )
        else:
            lo, hi = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}[action]
            ev(
                batch,
                "survey.answered",
                "customer",
                w.customer_id,
                kind=action,
                score=lo + aux % (hi - lo + 1),
                agent_id=dims["assignee_id"],
                team_id=dims["team_id"],
                channel_id=dims["channel_id"],
                language=dims["language"] or "en",
                intent=dims["intent"],
            )
    if spec["reassign"] is not None:
        final["assignee_id"] = None if spec["reassign"] == "none" else w.agents[spec["reassign"]]
        t += timedelta(minutes=1)
        ev(2, "conversation.assigned", "system")
    return rows, dims, final


async def load(db: Database, w: World, specs: list[dict[str, Any]]) -> list[Conv]:
    """Insert batch 1, roll up, apply the reassignments and batch 2, roll up again."""
    convs: list[tuple[int, list[tuple[int, dict[str, Any]]], dict[str, Any], dict[str, Any]]] = []
    async with db.transaction() as session:
        for number, spec in enumerate(specs, start=1):
            rows, dims, final = materialize(spec, w)
            created = rows[0][1]["occurred_at"]
            result = await session.execute(
                insert(Conversation).returning(Conversation.id),
                [
                    {
                        "shop_id": w.shop_id,
                        "number": number,
                        "customer_id": w.customer_id,
                        "status": "open",
                        "priority": "normal",
                        "last_activity_at": created,
                        "created_at": created,
                        "updated_at": created,
                        "reopened_count": 0,
                        "message_count": 0,
                        "resolved_by_assistant": False,
                        **dims,
                    }
                ],
            )
            convs.append((result.scalar_one(), rows, dims, final))
    out: list[Conv] = []
    next_id = [0]

    async def insert_batch(batch: int) -> None:
        async with db.transaction() as session:
            for cid, rows, _, final in convs:
                if batch == 2:
                    await session.execute(update(Conversation).where(Conversation.id == cid).values(**final))
                payload = [
                    {"shop_id": w.shop_id, "conversation_id": cid, "customer_id": w.customer_id, **row}
                    for b, row in rows
                    if b == batch
                ]
                if payload:
                    await session.execute(insert(Event), payload)

    await insert_batch(1)
    await refresh_shop(db, w.shop_id, safety=timedelta(0), orders=False)
    await insert_batch(2)
    await refresh_shop(db, w.shop_id, safety=timedelta(0), orders=False)
    for _cid, rows, _, final in convs:
        events = []
        for _, row in rows:
            next_id[0] += 1
            events.append(
                Ev(
                    next_id[0],
                    row["type"],
                    row["occurred_at"],
                    row["actor_type"],
                    row["actor_id"],
                    row["data"],
                )
            )
        out.append(
            Conv(
                final["channel_id"],
                final["assignee_id"],
                final["team_id"],
                final["language"],
                final["intent"],
                events,
            )
        )
    return out


QUERY = st.tuples(
    st.integers(0, WINDOW_DAYS),  # start offset (days)
    st.integers(0, WINDOW_DAYS),  # length
    st.sampled_from(["none", "day", "week", "month", "channel", "agent", "team", "language", "intent"]),
    st.sampled_from(
        [None, "channel", "agent", "team", "language", "intent", "agent+language", "channel+team"]
    ),
    st.integers(0, 2),  # which value to filter on
)


def _filter(kind: str | None, pick: int, w: World) -> tuple[KpiFilter, dict[int, Any]]:
    """A filter, and the same as conditions on reference keys (index → value)."""
    values: dict[str, Any] = {}
    for part in (kind or "").split("+"):
        if part == "channel":
            values["channel_id"] = w.channels[pick % 2]
        elif part == "agent":
            values["agent_id"] = [0, *w.agents][pick]
        elif part == "team":
            values["team_id"] = [0, w.teams[0]][pick % 2]
        elif part == "language":
            values["language"] = ["", "de", "en"][pick]
        elif part == "intent":
            values["intent"] = ["", "refund", "wismo"][pick]
    index = {"channel_id": 0, "agent_id": 1, "team_id": 2, "language": 3, "intent": 4}
    return KpiFilter(**values), {index[k]: v for k, v in values.items()}


@SETTINGS
@given(specs=histories(), queries=st.lists(QUERY, min_size=1, max_size=3))
async def test_rollups_equal_direct_computation(
    sdb: Database, specs: list[dict[str, Any]], queries: list[Any]
) -> None:
    w = await new_world(sdb)
    convs = await load(sdb, w, specs)
    first_day = BASE.date() - timedelta(days=1)
    async with sdb.transaction() as session:
        shop = await session.get(Shop, w.shop_id)
        assert shop is not None
        for offset, length, group_by, filter_kind, pick in queries:
            start = first_day + timedelta(days=offset)
            end = start + timedelta(days=length)
            flt, conditions = _filter(filter_kind, pick, w)
            report = await kpis.report(session, shop, kpis.KpiQuery(start, end, flt, group_by), orders=False)

            def keep(
                key: tuple[Any, ...], extra: dict[int, Any] | None = None, base: dict[int, Any] = conditions
            ) -> bool:
                wanted = {**base, **(extra or {})}
                return all(key[i] == v for i, v in wanted.items())

            sums, backlog = totals(convs, w.calendar, keep, start, end)
            assert report["totals"] == derive(sums, backlog=backlog)
            prev_start, prev_end = start - timedelta(days=length + 1), start - timedelta(days=1)
            psums, pbacklog = totals(convs, w.calendar, keep, prev_start, prev_end)
            assert report["previous_totals"] == derive(psums, backlog=pbacklog)
            for group in report["groups"]:
                if group_by in kpis.TIME_GROUPS:
                    g_start, g_end = date.fromisoformat(group["from"]), date.fromisoformat(group["to"])
                    gsums, gbacklog = totals(convs, w.calendar, keep, g_start, g_end)
                else:
                    position = {"channel": 0, "agent": 1, "team": 2, "language": 3, "intent": 4}[group_by]
                    value: Any = group["key"] if position >= 3 else int(group["key"])
                    gsums, gbacklog = totals(
                        convs, w.calendar, lambda k, p=position, v=value: keep(k, {p: v}), start, end
                    )
                assert group["kpis"] == derive(gsums, backlog=gbacklog), group["key"]


# --- purchases -------------------------------------------------------------------------------------------


@SETTINGS
@given(
    orders=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 60 * 24 * 60), st.booleans()), min_size=0, max_size=25
    ),
    cancel=st.lists(st.integers(0, 24), max_size=4),
    periods=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30)), min_size=1, max_size=3),
)
async def test_retention_and_repeat_purchase_equal_set_arithmetic(
    sdb: Database, orders: list[tuple[int, int, bool]], cancel: list[int], periods: list[tuple[int, int]]
) -> None:
    w = await new_world(sdb)
    start_of = datetime(2025, 2, 1, tzinfo=UTC)
    async with sdb.transaction() as session:
        customers = [Customer(shop_id=w.shop_id, name=f"c{i}") for i in range(5)]
        session.add_all(customers)
        await session.flush()
        rows = []
        for n, (who, minute, voided) in enumerate(orders):
            placed = start_of + timedelta(minutes=minute)
            rows.append(
                {
                    "shop_id": w.shop_id,
                    "number": f"{n}",
                    "customer_id": customers[who].id,
                    "currency": "EUR",
                    "financial_status": "voided" if voided else "paid",
                    "fulfillment_status": "fulfilled",
                    "subtotal_minor": 100,
                    "total_minor": 100,
                    "placed_at": placed,
                    "created_at": placed,
                    "updated_at": placed,
                }
            )
    # new orders arrive in two batches, each picked up incrementally (order-id watermark)
    ids: list[int] = []
    half = len(rows) // 2
    for batch in (rows[:half], rows[half:]):
        if batch:
            async with sdb.transaction() as session:
                ids += list((await session.execute(insert(Order).returning(Order.id), batch)).scalars())
        await refresh_shop(sdb, w.shop_id, safety=timedelta(0))
    cancelled = {ids[i] for i in cancel if i < len(ids)}
    if cancelled:  # cancellations afterwards: the rebuild subtracts what those orders had added
        async with sdb.transaction() as session:
            await session.execute(update(Order).where(Order.id.in_(cancelled)).values(cancelled_at=start_of))
        await refresh_shop(sdb, w.shop_id, safety=timedelta(0), all_buyers=True)

    def day_of(minute: int) -> date:
        return w.calendar.local_date(start_of + timedelta(minutes=minute))

    valid = [
        (customers[who].id, day_of(minute))
        for n, (who, minute, voided) in enumerate(orders)
        if not voided and ids[n] not in cancelled
    ]

    def buyers(a: date, b: date) -> set[int]:
        return {c for c, d in valid if a <= d <= b}

    async with sdb.transaction() as session:
        shop = await session.get(Shop, w.shop_id)
        assert shop is not None
        for offset, length in periods:
            a = date(2025, 2, 1) + timedelta(days=offset)
            b = a + timedelta(days=length)
            report = await kpis.report(session, shop, kpis.KpiQuery(a, b), previous=False)
            now = buyers(a, b)
            before = buyers(a - timedelta(days=length + 1), a - timedelta(days=1))
            repeat = {c for c in now if sum(1 for cc, d in valid if cc == c and d <= b) >= 2}
            t = report["totals"]
            assert (t["buyers"], t["repeat_buyers"], t["retained_buyers"], t["previous_period_buyers"]) == (
                len(now),
                len(repeat),
                len(now & before),
                len(before),
            )
            assert t["repeat_purchase_rate"] == (len(repeat) / len(now) if now else None)
            assert t["customer_retention_rate"] == (len(now & before) / len(before) if before else None)
