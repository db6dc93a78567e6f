"""Synthetic support traffic written straight into the tables (conversations, events, orders) in the
shape the write paths produce — for the dashboard's browser test and screenshot and the rollup
benchmark. Not a substitute for the demo seed: nothing here goes through the services."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from storedesk.agents.models import Agent, Team
from storedesk.channels.models import Channel
from storedesk.commerce.models import Order
from storedesk.conversations.models import Conversation
from storedesk.customers.models import Customer
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.shops.models import DEFAULT_BUSINESS_HOURS, Shop

INTENTS = (
    "where_is_my_order",
    "return_request",
    "refund_status",
    "change_address",
    "product_question",
    "cancel_order",
)
LANGUAGES = ("de", "en", "fr", "sv", "pl")


@dataclass
class Tenant:
    shop_id: int
    channels: list[int]
    agents: list[int]
    teams: list[int]
    customers: list[int]
    timezone: str


async def tenant(db: Database, slug: str, *, customers: int = 500, timezone: str = "Europe/Berlin") -> Tenant:
    """A shop with four channels, six agents in two teams and a pool of customers."""
    async with db.transaction() as session:
        shop = Shop(
            slug=slug,
            name=f"Shop {slug}",
            languages=list(LANGUAGES),
            default_language="de",
            timezone=timezone,
            business_hours=dict(DEFAULT_BUSINESS_HOURS),
            policies={},
        )
        session.add(shop)
        await session.flush()
        channels = [
            Channel(shop_id=shop.id, kind=kind, name=name, external_id=f"{slug}-{kind}")
            for kind, name in (
                ("email", "Email"),
                ("chat", "Chat"),
                ("whatsapp", "WhatsApp"),
                ("api", "Web form API"),
            )
        ]
        names = ("Anna Berg", "Ben Okafor", "Chiara Rossi", "Dawid Nowak", "Elin Holm", "Farid Haddad")
        agents = [Agent(shop_id=shop.id, email=f"{n.split()[0].lower()}@{slug}.test", name=n) for n in names]
        teams = [Team(shop_id=shop.id, name="Tier 1"), Team(shop_id=shop.id, name="Returns")]
        session.add_all([*channels, *agents, *teams])
        await session.flush()
        ids = (
            await session.execute(
                insert(Customer).returning(Customer.id),
                [
                    {"shop_id": shop.id, "name": f"Customer {i}", "consents": {}, "segments": []}
                    for i in range(customers)
                ],
            )
        ).scalars()
        return Tenant(
            shop.id,
            [c.id for c in channels],
            [a.id for a in agents],
            [t.id for t in teams],
            list(ids),
            timezone,
        )


async def tenant_of(db: Database, shop_id: int) -> Tenant:
    """The Tenant of a shop made by :func:`tenant` earlier."""
    async with db.transaction() as session:
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        channels = list(
            (
                await session.execute(
                    select(Channel.id).where(Channel.shop_id == shop_id).order_by(Channel.id)
                )
            ).scalars()
        )
        agents = list(
            (
                await session.execute(select(Agent.id).where(Agent.shop_id == shop_id).order_by(Agent.id))
            ).scalars()
        )
        teams = list(
            (
                await session.execute(select(Team.id).where(Team.shop_id == shop_id).order_by(Team.id))
            ).scalars()
        )
        customers = list(
            (await session.execute(select(Customer.id).where(Customer.shop_id == shop_id))).scalars()
        )
        return Tenant(shop_id, channels, agents, teams, customers, shop.timezone)


def _at_business_time(rng: random.Random, day: date, zone: ZoneInfo) -> datetime:
    hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 9, 10, 9, 8, 6, 5, 4, 4, 3, 2, 1]
    )[0]
    return datetime(
        day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=zone
    ).astimezone(UTC)


def conversation_events(
    rng: random.Random, t: Tenant, start: datetime, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One conversation's row values and its events (times never after ``now``)."""
    agent = rng.choice(t.agents)
    channel = rng.choices(t.channels, weights=[40, 30, 20, 10])[0]
    dims = {
        "channel_id": channel,
        "assignee_id": agent if rng.random() < 0.8 else None,
        "team_id": t.teams[0] if rng.random() < 0.7 else t.teams[1],
        "language": rng.choices(LANGUAGES, weights=[45, 25, 10, 10, 10])[0],
        "intent": rng.choice(INTENTS),
        "customer_id": rng.choice(t.customers),
    }
    events: list[dict[str, Any]] = []
    clock = start

    def ev(type_: str, actor: str, actor_id: int | None = None, **data: Any) -> bool:
        if clock > now:
            return False
        events.append(
            {"type": type_, "occurred_at": clock, "actor_type": actor, "actor_id": actor_id, "data": data}
        )
        return True

    ev("conversation.created", "system", channel_id=channel)
    ev("message.received", "customer", direction="inbound", channel_id=channel)
    if rng.random() < 0.03:  # still waiting for an answer (the backlog)
        return dims, events
    automated = rng.random() < 0.22
    responder, responder_id = ("assistant", None) if automated else ("agent", agent)
    clock += (
        timedelta(seconds=rng.randint(20, 90))
        if automated
        else timedelta(minutes=rng.lognormvariate(3.6, 1.1))
    )
    if not ev("message.created", responder, responder_id, direction="outbound"):
        return dims, events
    ev(
        "sla.achieved" if automated or clock - start < timedelta(hours=2) else "sla.breached",
        "system",
        target="first_response",
    )
    if not automated and rng.random() < 0.35:  # a back-and-forth before the resolution
        clock += timedelta(minutes=rng.lognormvariate(4.0, 1.0))
        ev("message.received", "customer", direction="inbound")
        clock += timedelta(minutes=rng.lognormvariate(2.5, 0.8))
        ev("message.created", "agent", agent, direction="outbound")
    clock += timedelta(minutes=rng.randint(1, 20)) if not automated else timedelta(seconds=30)
    if not ev("conversation.status_changed", responder, responder_id, **{"from": "open", "to": "resolved"}):
        return dims, events
    resolved_at = clock
    if rng.random() < 0.08:  # reopened
        clock += timedelta(hours=rng.uniform(2, 30))
        if ev("conversation.status_changed", "customer", **{"from": "resolved", "to": "open"}):
            ev("message.received", "customer", direction="inbound")
            clock += timedelta(minutes=rng.lognormvariate(3.0, 1.0))
            ev("message.created", "agent", agent, direction="outbound")
            clock += timedelta(minutes=2)
            ev("conversation.status_changed", "agent", agent, **{"from": "open", "to": "resolved"})
    answer_dims = {
        "agent_id": dims["assignee_id"] or (None if automated else agent),
        "team_id": dims["team_id"],
        "channel_id": channel,
        "language": dims["language"],
        "intent": dims["intent"],
    }
    if rng.random() < 0.3:
        clock = resolved_at + timedelta(minutes=rng.randint(5, 600))
        score = rng.choices([1, 2, 3, 4, 5], weights=[4, 4, 8, 30, 54])[0]
        ev("survey.answered", "customer", dims["customer_id"], kind="csat", score=score, **answer_dims)
        if rng.random() < 0.5:
            ces = rng.choices(range(1, 8), weights=[2, 3, 5, 10, 20, 30, 30])[0]
            ev("survey.answered", "customer", dims["customer_id"], kind="ces", score=ces, **answer_dims)
    elif rng.random() < 0.1:
        clock = resolved_at + timedelta(days=rng.randint(3, 9))
        nps = rng.choices(range(11), weights=[2, 1, 1, 2, 2, 4, 6, 10, 18, 26, 28])[0]
        ev("survey.answered", "customer", dims["customer_id"], kind="nps", score=nps, **answer_dims)
    return dims, events


async def generate(
    db: Database,
    t: Tenant,
    *,
    first_day: date,
    days: int,
    per_day: int,
    seed: int = 7,
    orders_per_day: int = 0,
    now: datetime | None = None,
    batch: int = 2000,
) -> int:
    """Insert ``per_day`` conversations (and their events) for each of ``days`` days; returns how many."""
    rng = random.Random(seed)
    zone = ZoneInfo(t.timezone)
    now = now or datetime.now(UTC)
    async with db.transaction() as session:
        number = int(
            (
                await session.execute(
                    select(func.max(Conversation.number)).where(Conversation.shop_id == t.shop_id)
                )
            ).scalar_one()
            or 0
        )
    total = 0
    pending: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    async def flush() -> None:
        nonlocal number
        if not pending:
            return
        async with db.transaction() as session:
            rows = []
            for dims, events in pending:
                number += 1
                created = events[0]["occurred_at"]
                rows.append(
                    {
                        "shop_id": t.shop_id,
                        "number": number,
                        "status": "open",
                        "priority": "normal",
                        "last_activity_at": events[-1]["occurred_at"],
                        "created_at": created,
                        "updated_at": created,
                        "reopened_count": 0,
                        "message_count": 0,
                        "resolved_by_assistant": False,
                        **dims,
                    }
                )
            ids = list(
                (await session.execute(insert(Conversation).returning(Conversation.id), rows)).scalars()
            )
            payload = [
                {"shop_id": t.shop_id, "conversation_id": cid, "customer_id": dims["customer_id"], **e}
                for cid, (dims, events) in zip(ids, pending, strict=True)
                for e in events
            ]
            await session.execute(insert(Event), payload)
        pending.clear()

    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for _ in range(per_day):
            start = _at_business_time(rng, day, zone)
            if start > now:
                continue
            pending.append(conversation_events(rng, t, start, now))
            total += 1
            if len(pending) >= batch:
                await flush()
        if orders_per_day:
            placed = [_at_business_time(rng, day, zone) for _ in range(orders_per_day)]
            rows = [
                {
                    "shop_id": t.shop_id,
                    "number": f"{day:%y%m%d}{i:05d}",
                    "customer_id": rng.choice(t.customers),
                    "currency": "EUR",
                    "financial_status": "paid",
                    "fulfillment_status": "fulfilled",
                    "subtotal_minor": 4900,
                    "total_minor": 4900,
                    "placed_at": p,
                    "created_at": p,
                    "updated_at": p,
                }
                for i, p in enumerate(placed)
                if p <= now
            ]
            # early in the day every order may still lie ahead: an empty executemany would insert one
            # row of defaults
            if rows:
                async with db.transaction() as session:
                    await session.execute(insert(Order), rows)
    await flush()
    return total
