"""The process-wide SLA cache: reused while the shop's settings token is unchanged, reloaded at once
when another process (here: another engine) changes a policy or the business hours."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from storedesk.conversations import service as conversations
from storedesk.conversations.models import Conversation, Direction
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.time import utcnow
from storedesk.realtime import drain_notifications
from storedesk.shops.service import update_shop
from storedesk.sla import service as sla
from tests.conftest import ShopWorld
from tests.sla.test_sla import conversation, load, message, policy

pytestmark = pytest.mark.anyio


async def _due(db: Database, shop: ShopWorld, at: Any) -> Any:
    cid = await conversation(db, shop)
    await message(db, shop, cid, Direction.inbound, at, Actor("customer", shop.customer_id))
    async with db.transaction() as session:
        c = (await session.execute(select(Conversation).where(Conversation.id == cid))).scalar_one()
        return c.first_response_due_at


async def test_changes_made_elsewhere_apply_at_the_next_message(db: Database, shop_a: ShopWorld) -> None:
    at = utcnow().replace(microsecond=0)
    pid = await policy(db, shop_a, first_response_minutes=60, business_hours=False)
    assert await _due(db, shop_a, at) == at + timedelta(minutes=60)
    other = Database(db.url)  # another API process: its own engine, the same database
    try:
        async with other.transaction() as session:
            await sla.update_policy(
                session,
                shop_id=shop_a.id,
                actor=SYSTEM,
                policy_id=pid,
                changes={"first_response_minutes": 30},
            )
        assert await _due(db, shop_a, at) == at + timedelta(minutes=30)
        async with other.transaction() as session:
            await update_shop(session, shop_a.id, SYSTEM, {"timezone": "America/New_York"})
            await sla.update_policy(
                session, shop_id=shop_a.id, actor=SYSTEM, policy_id=pid, changes={"business_hours": True}
            )
        cached = sla._shop_cache[shop_a.id]
        assert await _due(db, shop_a, at) is not None
        assert sla._shop_cache[shop_a.id] is not cached
        assert sla._shop_cache[shop_a.id].calendar.timezone == "America/New_York"
        async with other.transaction() as session:
            await sla.delete_policy(session, shop_id=shop_a.id, actor=SYSTEM, policy_id=pid)
        assert await _due(db, shop_a, at) is None  # no stale policy (its id would not even exist)
    finally:
        await other.dispose()


async def test_a_reply_reads_no_policy_shop_or_channel_rows(db: Database, shop_a: ShopWorld) -> None:
    await policy(db, shop_a, first_response_minutes=60, next_response_minutes=60, business_hours=False)
    cid = await conversation(db, shop_a)
    await message(db, shop_a, cid, Direction.inbound, utcnow(), Actor("customer", shop_a.customer_id))
    statements: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        sql = " ".join(statement.split())
        tables = re.findall(r"\b(?:FROM|INTO|(?<!FOR )UPDATE) (\w+)", sql)
        verb = sql.split()[0]
        # a SELECT's outer FROM comes last; an UPDATE's or INSERT's table first (then RETURNING subqueries)
        table = (tables[0] if verb in ("UPDATE", "INSERT") else tables[-1]) if tables else ""
        statements.append(f"{verb} {table}".strip())

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await message(
            db, shop_a, cid, Direction.outbound, utcnow(), Actor("agent", shop_a.agent_ids["agent"])
        )
        await drain_notifications(db.engine)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    expected = [
        "UPDATE conversations",  # counts the reply and returns the row with the settings token and channel kind
        "INSERT messages",
        "SELECT sla_conversation_states",
        "INSERT events",  # the SLA outcome, before the message's event in the timeline
        "UPDATE sla_conversation_states",
        "INSERT events",
        "INSERT jobs",
    ]
    if db.kind == "sqlite":  # BEGIN IMMEDIATE travels with the first statement
        assert statements == expected
    else:  # one pg_notify for the events and the job, after the commit (storedesk.realtime.Notifier)
        assert statements == [*expected, "SELECT"]


async def test_shops_without_a_token_are_not_cached(db: Database, shop_a: ShopWorld) -> None:
    at = utcnow().replace(microsecond=0)
    await policy(db, shop_a, first_response_minutes=60, business_hours=False)
    async with db.engine.begin() as conn:  # rows written outside the services
        await conn.execute(text("UPDATE shops SET settings_token = NULL"))
        await conn.execute(text("UPDATE sla_policies SET first_response_minutes = 45"))
    assert await _due(db, shop_a, at) == at + timedelta(minutes=45)
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE sla_policies SET first_response_minutes = 15"))
    assert await _due(db, shop_a, at) == at + timedelta(minutes=15)


async def test_a_reply_in_the_same_transaction_as_the_policy_change(db: Database, shop_a: ShopWorld) -> None:
    at = utcnow().replace(microsecond=0)
    pid = await policy(db, shop_a, first_response_minutes=60, business_hours=False)
    cid = await conversation(db, shop_a)
    async with db.transaction() as session:
        await conversations.add_message(
            session,
            shop_id=shop_a.id,
            actor=Actor("customer", shop_a.customer_id),
            conversation_id=cid,
            direction=Direction.inbound,
            text="hi",
            created_at=at,
        )
        await sla.update_policy(
            session, shop_id=shop_a.id, actor=SYSTEM, policy_id=pid, changes={"first_response_minutes": 20}
        )
        await conversations.add_message(
            session,
            shop_id=shop_a.id,
            actor=Actor("customer", shop_a.customer_id),
            conversation_id=cid,
            direction=Direction.inbound,
            text="hello?",
            created_at=at + timedelta(minutes=1),
        )
    c, _ = await load(db, cid)
    assert c.first_response_due_at == at + timedelta(minutes=20)


async def test_a_time_zone_change_applies_to_later_writes_of_the_same_transaction(
    db: Database, shop_a: ShopWorld
) -> None:
    await policy(db, shop_a, first_response_minutes=60)
    cid = await conversation(db, shop_a)
    customer = Actor("customer", shop_a.customer_id)
    async with db.transaction() as session:
        for text_, tz in (("hi", None), ("hello?", "Asia/Tokyo")):
            if tz is not None:
                await update_shop(session, shop_a.id, SYSTEM, {"timezone": tz})
            await conversations.add_message(
                session,
                shop_id=shop_a.id,
                actor=customer,
                conversation_id=cid,
                direction=Direction.inbound,
                text=text_,
            )
            expected = tz or "Europe/Berlin"
            assert sla._shop_cache[shop_a.id].calendar.timezone == expected
