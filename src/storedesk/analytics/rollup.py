"""The rollup job: event log (and orders mirror) → ``kpi_daily``, ``kpi_buyer_transitions``.

Incremental and idempotent:

1. Events with an id above the shop's watermark name the conversations that changed.
2. For each changed conversation (in chunks, one transaction each) all its events are read, its
   contribution recomputed (``analytics.facts``), and the difference to the stored one
   (``kpi_conversation_facts``) added to the rollup rows with an upsert. Running twice changes nothing.
3. Customers with new orders (order id above the shop's order watermark) get their buying days
   recomputed the same way. Later edits to older orders (a cancellation, a customer merge) are picked up
   by the nightly full pass (``kpi.rebuild_buyers``).

A transaction may take an event (or order) id and commit after a higher id is visible. The watermarks
therefore only advance to a maximum observed at least ``safety`` ago (longer than any storedesk
transaction); ids above them are looked at again on the next run (recomputing twice is harmless).
Each chunk takes a lock for its part and shop (conversations or buyers), so concurrent runs for one shop
serialise while one run works on both parts at once; the watermarks move at the end, under the lock of
the shop's ``kpi_rollup_state`` row.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import MetaData, Table, case, delete, func, literal, null, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.analytics import facts
from storedesk.analytics.metrics import METRICS
from storedesk.analytics.models import (
    ALL_ID,
    ALL_TEXT,
    GRAIN_DIMS,
    Grain,
    KpiBuyer,
    KpiBuyerTransition,
    KpiConversationFact,
    KpiDaily,
    KpiRollupState,
)
from storedesk.commerce.models import FinancialStatus, Order
from storedesk.conversations.models import Conversation
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.kit.time import ensure_aware, utcnow
from storedesk.shops.models import Shop
from storedesk.sla.calendar import BusinessCalendar

SAFETY = timedelta(minutes=2)
CONVERSATION_CHUNK = 2500
CUSTOMER_CHUNK = 5000
EVENT_PAGE = 50_000
DAILY: Table = cast(Table, KpiDaily.__table__)
FACTS: Table = cast(Table, KpiConversationFact.__table__)
BUYERS: Table = cast(Table, KpiBuyer.__table__)
TRANSITIONS: Table = cast(Table, KpiBuyerTransition.__table__)
DAILY_PK = ("shop_id", "grain", "day", "channel_id", "agent_id", "team_id", "language", "intent")


@dataclass
class RollupStats:
    events: int = 0
    conversations: int = 0
    customers: int = 0
    rows_changed: int = 0
    seconds: float = 0.0
    watermark: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def _lock_state(session: AsyncSession, shop_id: int) -> KpiRollupState:
    await session.execute(
        _insert(session)(KpiRollupState)
        .values(shop_id=shop_id, event_watermark=0, checkpoints={"recent": [], "orders": 0})
        .on_conflict_do_nothing(index_elements=["shop_id"])
    )
    stmt = select(KpiRollupState).where(KpiRollupState.shop_id == shop_id).with_for_update()
    state = (await session.execute(stmt)).scalar_one()
    await session.refresh(state)
    return state


_PARTS = {"conversations": 1, "buyers": 2}


async def _lock_part(session: AsyncSession, shop_id: int, part: str) -> None:
    """Serialise one part of the job for one shop across concurrent runs (until the transaction ends).
    PostgreSQL: an advisory lock per (part, shop); SQLite: ``BEGIN IMMEDIATE`` already admits one writer."""
    if session.get_bind().dialect.name == "postgresql":
        key = (0x4B50 << 48) | (_PARTS[part] << 40) | (shop_id & ((1 << 40) - 1))  # "KP", part, shop
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def shop_calendar(session: AsyncSession, shop_id: int) -> BusinessCalendar:
    shop = await session.get(Shop, shop_id)
    assert shop is not None
    return BusinessCalendar.from_config(shop.timezone, shop.business_hours)


# the per-transaction staging table for counter deltas (not part of the schema: a temporary table)
DELTA = Table("kpi_delta", MetaData(), *(c._copy() for c in DAILY.columns))
_DIMENSION_COLUMNS = (
    ("channel", "channel_id", ALL_ID),
    ("agent", "agent_id", ALL_ID),
    ("team", "team_id", ALL_ID),
    ("language", "language", ALL_TEXT),
    ("intent", "intent", ALL_TEXT),
)


def _grain_rows(source: Table, shop_id: int, grain: Grain, *conditions: Any) -> Any:
    """``SELECT`` the rows of ``grain`` summed from the full-breakdown rows of ``source``."""
    kept = GRAIN_DIMS[grain]
    keys = [source.c[col] if name in kept else literal(every) for name, col, every in _DIMENSION_COLUMNS]
    grouped = [source.c.day, *(source.c[col] for name, col, _ in _DIMENSION_COLUMNS if name in kept)]
    return (
        select(
            literal(shop_id),
            literal(int(grain)),
            source.c.day,
            *keys,
            *(func.sum(source.c[m]) for m in METRICS),
        )
        .where(source.c.shop_id == shop_id, *conditions)
        .group_by(*grouped)
    )


async def _delta_table(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("CREATE TEMPORARY TABLE IF NOT EXISTS kpi_delta (LIKE kpi_daily) ON COMMIT DELETE ROWS")
        )
    else:
        await session.execute(
            text("CREATE TEMPORARY TABLE IF NOT EXISTS kpi_delta AS SELECT * FROM kpi_daily WHERE 0")
        )
    await session.execute(delete(DELTA))


async def apply_daily(
    session: AsyncSession, shop_id: int, deltas: dict[tuple[facts.Dims, date], dict[str, int]]
) -> int:
    """Add counter deltas (per full breakdown and day) to ``kpi_daily``: the rows are staged in a temporary
    table and summed into every grain by the database (``INSERT … SELECT … GROUP BY … ON CONFLICT`` adds
    to existing rows). Returns how many full-breakdown deltas there were."""
    if not deltas:
        return 0
    await _delta_table(session)
    rows = []
    for (dims, day), values in deltas.items():
        row: dict[str, Any] = {
            "shop_id": shop_id,
            "grain": int(Grain.full),
            "day": day,
            "channel_id": dims.channel_id,
            "agent_id": dims.agent_id,
            "team_id": dims.team_id,
            "language": dims.language,
            "intent": dims.intent,
        }
        row.update({m: values.get(m, 0) for m in METRICS})
        rows.append(row)
    for start in range(0, len(rows), 5000):
        await session.execute(DELTA.insert(), rows[start : start + 5000])
    for grain in GRAIN_DIMS:
        insert = _insert(session)(DAILY).from_select(
            list(DAILY_PK) + list(METRICS), _grain_rows(DELTA, shop_id, grain)
        )
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=list(DAILY_PK), set_={m: DAILY.c[m] + insert.excluded[m] for m in METRICS}
            )
        )
    await session.execute(delete(DELTA))
    return len(rows)


# --- conversations ----------------------------------------------------------------------------------------


async def _changed_conversations(
    session: AsyncSession, shop_id: int, after_id: int, up_to: int
) -> tuple[list[int], int]:
    """Conversation ids with events in ``(after_id, up_to]``, and how many events that was."""
    ids: set[int] = set()
    count = 0
    cursor = after_id
    while cursor < up_to:
        stmt = (
            select(Event.id, Event.conversation_id)
            .where(Event.shop_id == shop_id, Event.id > cursor, Event.id <= up_to)
            .order_by(Event.id)
            .limit(EVENT_PAGE)
        )
        rows = (await session.execute(stmt)).all()
        if not rows:
            break
        count += len(rows)
        ids.update(int(cid) for _, cid in rows if cid is not None)
        cursor = int(rows[-1][0])
    return sorted(ids), count


# event types whose data the facts read in full; of the others only these keys are needed
_FULL_DATA = ("survey.answered",)
_KEYS = ("direction", "from", "to")


async def _events_for(
    session: AsyncSession, shop_id: int, conversation_ids: Sequence[int]
) -> dict[int, list[facts.EventRow]]:
    """The conversations' events, with just the JSON keys the facts read (decoding every event's full
    JSON document was most of the job's time)."""
    out: dict[int, list[facts.EventRow]] = defaultdict(list)
    full = case((Event.type.in_(_FULL_DATA), Event.data), else_=null())
    stmt = (
        select(
            Event.id,
            Event.conversation_id,
            Event.type,
            Event.occurred_at,
            Event.actor_type,
            Event.actor_id,
            *(Event.data[key].as_string() for key in _KEYS),
            full,
        )
        .where(
            Event.shop_id == shop_id,
            Event.conversation_id.in_(conversation_ids),
            # system bookkeeping (deliveries, survey scheduling…) matters to no KPI; anything a person or
            # the assistant did may (handling time counts every agent action)
            or_(Event.type.in_(facts.RELEVANT_EVENTS), Event.actor_type != "system"),
        )
        .order_by(Event.conversation_id, Event.id)
    )
    for eid, cid, etype, at, actor_type, actor_id, direction, before, after, data in (
        await session.execute(stmt)
    ).all():
        if data is None:
            data = {
                k: v for k, v in (("direction", direction), ("from", before), ("to", after)) if v is not None
            }
        out[int(cid)].append(facts.EventRow(int(eid), etype, ensure_aware(at), actor_type, actor_id, data))
    return out


async def refresh_conversations(
    session: AsyncSession, shop_id: int, conversation_ids: Sequence[int], calendar: BusinessCalendar
) -> int:
    """Recompute these conversations' contributions and apply the differences. Returns rows changed."""
    if not conversation_ids:
        return 0
    dims_rows = (
        await session.execute(
            select(
                Conversation.id,
                Conversation.channel_id,
                Conversation.assignee_id,
                Conversation.team_id,
                Conversation.language,
                Conversation.intent,
            ).where(Conversation.shop_id == shop_id, Conversation.id.in_(conversation_ids))
        )
    ).all()
    conv_dims = {int(r[0]): r[1:] for r in dims_rows}
    events = await _events_for(session, shop_id, conversation_ids)
    old_rows = (
        await session.execute(
            select(KpiConversationFact.conversation_id, KpiConversationFact.contributions).where(
                KpiConversationFact.shop_id == shop_id,
                KpiConversationFact.conversation_id.in_(conversation_ids),
            )
        )
    ).all()
    old = {int(cid): facts.decode(data) for cid, data in old_rows}
    deltas: dict[tuple[facts.Dims, date], Counter[str]] = {}
    new_rows: list[dict[str, Any]] = []
    now = utcnow()
    for cid in conversation_ids:
        evs = events.get(cid, [])
        if cid in conv_dims:
            channel_id, assignee_id, team_id, language, intent = conv_dims[cid]
            agent_id = assignee_id or facts.first_answering_agent(evs)
            dims = facts.Dims.of(channel_id, agent_id, team_id, language, intent)
            new = facts.contributions(evs, dims, calendar)
        else:
            # the conversation row is gone: its history stays counted as it was
            new = old.get(cid, {})
            dims = facts.Dims()
        if cid in old:
            facts.accumulate(deltas, old[cid], -1)
        facts.accumulate(deltas, new, +1)
        if new:
            new_rows.append(
                {
                    "conversation_id": cid,
                    "shop_id": shop_id,
                    "channel_id": dims.channel_id,
                    "agent_id": dims.agent_id,
                    "team_id": dims.team_id,
                    "language": dims.language,
                    "intent": dims.intent,
                    "contributions": facts.encode(new),
                    "computed_at": now,
                }
            )
    if old:
        await session.execute(
            delete(FACTS).where(
                KpiConversationFact.shop_id == shop_id, KpiConversationFact.conversation_id.in_(sorted(old))
            )
        )
    if new_rows:
        await session.execute(FACTS.insert(), new_rows)
    return await apply_daily(session, shop_id, facts.clean(deltas))


# --- purchases --------------------------------------------------------------------------------------------


def _counts(
    order_rows: Iterable[tuple[datetime, datetime | None, str]], calendar: BusinessCalendar
) -> list[tuple[date, int]]:
    days: Counter[date] = Counter()
    for placed_at, cancelled_at, financial_status in order_rows:
        if cancelled_at is not None or financial_status == FinancialStatus.voided:
            continue
        days[calendar.local_date(ensure_aware(placed_at))] += 1
    return sorted(days.items())


async def refresh_buyers(
    session: AsyncSession, shop_id: int, customer_ids: Sequence[int], calendar: BusinessCalendar
) -> int:
    """Recompute these customers' buying days and apply the transition differences."""
    if not customer_ids:
        return 0
    orders: dict[int, list[tuple[datetime, datetime | None, str]]] = defaultdict(list)
    stmt = select(Order.customer_id, Order.placed_at, Order.cancelled_at, Order.financial_status).where(
        Order.shop_id == shop_id, Order.customer_id.in_(customer_ids)
    )
    for customer_id, placed_at, cancelled_at, status in (await session.execute(stmt)).all():
        if customer_id is not None:
            orders[int(customer_id)].append((placed_at, cancelled_at, str(status)))
    old_rows = (
        await session.execute(
            select(KpiBuyer.customer_id, KpiBuyer.days).where(
                KpiBuyer.shop_id == shop_id, KpiBuyer.customer_id.in_(customer_ids)
            )
        )
    ).all()
    old = {int(cid): [(date.fromisoformat(d), int(n)) for d, n in days] for cid, days in old_rows}
    delta: Counter[tuple[str, date, date]] = Counter()
    new_rows = []
    for cid in customer_ids:
        days = _counts(orders.get(cid, []), calendar)
        delta.update(facts.buyer_transitions(days))
        delta.subtract(facts.buyer_transitions(old.get(cid, [])))
        if days:
            new_rows.append(
                {"shop_id": shop_id, "customer_id": cid, "days": [[d.isoformat(), n] for d, n in days]}
            )
    if old:
        await session.execute(
            delete(BUYERS).where(KpiBuyer.shop_id == shop_id, KpiBuyer.customer_id.in_(sorted(old)))
        )
    if new_rows:
        await session.execute(BUYERS.insert(), new_rows)
    changes = sorted((k, n) for k, n in delta.items() if n)
    if changes:
        transitions = TRANSITIONS
        insert = _insert(session)(transitions)
        stmt2 = insert.on_conflict_do_update(
            index_elements=["shop_id", "kind", "day", "ref_day"],
            set_={"customers": transitions.c.customers + insert.excluded.customers},
        )
        params = [
            {"shop_id": shop_id, "kind": kind, "day": day, "ref_day": ref, "customers": n}
            for (kind, day, ref), n in changes
        ]
        for start in range(0, len(params), 2000):
            await session.execute(stmt2, params[start : start + 2000])
    return len(changes)


async def _buyers_to_refresh(
    session: AsyncSession, shop_id: int, after_id: int | None, up_to: int
) -> list[int]:
    """Customers with orders whose id is in ``(after_id, up_to]`` (``after_id=None``: every buyer)."""
    stmt = select(Order.customer_id).where(Order.shop_id == shop_id, Order.customer_id.is_not(None))
    if after_id is not None:
        stmt = stmt.where(Order.id > after_id, Order.id <= up_to)
    return sorted({int(c) for c in (await session.execute(stmt.distinct())).scalars() if c is not None})


@dataclass
class _Marks:
    """The watermarks kept in ``kpi_rollup_state.checkpoints`` (JSON): recent observations of the highest
    event and order ids, and the order-id watermark (the event one has its own column)."""

    recent: list[tuple[datetime, int, int]]
    orders: int

    @classmethod
    def load(cls, raw: Any) -> _Marks:
        if isinstance(raw, dict):
            recent = [(datetime.fromisoformat(a), int(e), int(o)) for a, e, o in raw.get("recent", [])]
            return cls(recent, int(raw.get("orders", 0)))
        return cls([(datetime.fromisoformat(a), int(e), 0) for a, e, *_ in raw or []], 0)

    def dump(self) -> dict[str, Any]:
        return {"recent": [[a.isoformat(), e, o] for a, e, o in self.recent], "orders": self.orders}


# --- the run ----------------------------------------------------------------------------------------------


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def refresh_shop(
    db: Database,
    shop_id: int,
    *,
    now: datetime | None = None,
    safety: timedelta = SAFETY,
    orders: bool = True,
    all_buyers: bool = False,
) -> RollupStats:
    """One incremental run for one shop (see the module docstring)."""
    started = time.perf_counter()
    now = now or utcnow()
    stats = RollupStats()
    async with db.transaction() as session:
        state = await _lock_state(session, shop_id)
        after = int(state.event_watermark)
        up_to = int(
            (await session.execute(select(func.max(Event.id)).where(Event.shop_id == shop_id))).scalar_one()
            or 0
        )
        changed, stats.events = await _changed_conversations(session, shop_id, after, up_to)
        marks = _Marks.load(state.checkpoints)
        orders_up_to = int(
            (await session.execute(select(func.max(Order.id)).where(Order.shop_id == shop_id))).scalar_one()
            or 0
        )
        buyers = []
        if orders:
            since = None if all_buyers else marks.orders
            buyers = await _buyers_to_refresh(session, shop_id, since, orders_up_to)
        calendar = await shop_calendar(session, shop_id)

    async def conversations_part() -> None:
        for chunk in _chunks(changed, CONVERSATION_CHUNK):
            async with db.transaction() as session:
                await _lock_part(session, shop_id, "conversations")
                stats.rows_changed += await refresh_conversations(session, shop_id, chunk, calendar)
            stats.conversations += len(chunk)

    async def buyers_part() -> None:
        for chunk in _chunks(buyers, CUSTOMER_CHUNK):
            async with db.transaction() as session:
                await _lock_part(session, shop_id, "buyers")
                stats.rows_changed += await refresh_buyers(session, shop_id, chunk, calendar)
            stats.customers += len(chunk)

    if db.kind == "postgresql":
        # disjoint tables: Python works on one while the database works on the other
        await asyncio.gather(conversations_part(), buyers_part())
    else:
        await conversations_part()
        await buyers_part()
    async with db.transaction() as session:
        state = await _lock_state(session, shop_id)
        marks = _Marks.load(state.checkpoints)
        marks.recent.append((now, up_to, orders_up_to if orders else marks.orders))
        final = [(e, o) for at, e, o in marks.recent if at <= now - safety]
        watermark = max([int(state.event_watermark), *(e for e, _ in final)])
        marks.orders = max([marks.orders, *(o for _, o in final)])
        marks.recent = [m for m in marks.recent if m[0] > now - safety]
        state.event_watermark = watermark
        state.checkpoints = marks.dump()
        if orders:
            state.orders_watermark = now
        state.last_run_at = now
        state.last_run_seconds = round(time.perf_counter() - started, 3)
        stats.watermark = watermark
    stats.seconds = time.perf_counter() - started
    return stats


async def rebuild_shop(db: Database, shop_id: int) -> RollupStats:
    """Forget everything rolled up for the shop and build it again from the event log and orders (after
    a change of business hours or time zone, or a new KPI definition)."""
    async with db.transaction() as session:
        await _lock_state(session, shop_id)
        for model in (KpiDaily, KpiConversationFact, KpiBuyer, KpiBuyerTransition):
            await session.execute(delete(model).where(model.shop_id == shop_id))  # type: ignore[attr-defined]
        await session.execute(delete(KpiRollupState).where(KpiRollupState.shop_id == shop_id))
    return await refresh_shop(db, shop_id, all_buyers=True)


async def derive_grains(db: Database, shop_id: int) -> int:
    """Recompute every coarser grain of the shop's ``kpi_daily`` from its full breakdown, in SQL — after a
    grain was added, without replaying the event log. Returns the rows written."""
    written = 0
    async with db.transaction() as session:
        await _lock_state(session, shop_id)
        await session.execute(
            delete(DAILY).where(DAILY.c.shop_id == shop_id, DAILY.c.grain != int(Grain.full))
        )
        for grain in GRAIN_DIMS:
            if grain == Grain.full:
                continue
            source = _grain_rows(DAILY, shop_id, grain, DAILY.c.grain == int(Grain.full))
            await session.execute(DAILY.insert().from_select(list(DAILY_PK) + list(METRICS), source))
        written = (
            await session.execute(
                select(func.count())
                .select_from(DAILY)
                .where(DAILY.c.shop_id == shop_id, DAILY.c.grain != int(Grain.full))
            )
        ).scalar_one()
    return int(written)


async def all_shop_ids(db: Database) -> list[int]:
    async with db.transaction() as session:
        return sorted(int(i) for i in (await session.execute(select(Shop.id))).scalars())
