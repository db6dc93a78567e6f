"""Long conversations open with the latest messages; earlier ones load on demand. The inbox's priority
sort walks its index (SQLite plan)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from storedesk.conversations import service as conversations
from storedesk.conversations.models import Direction, Priority
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.time import utcnow
from storedesk.web.views import TIMELINE_PAGE
from tests.conftest import ShopWorld
from tests.web.helpers import login

pytestmark = pytest.mark.anyio


async def test_the_latest_messages_first_and_earlier_ones_on_demand(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    start = utcnow() - timedelta(days=1)
    async with db.transaction() as session:
        c = await conversations.open_conversation(
            session,
            shop_id=shop_a.id,
            actor=SYSTEM,
            customer_id=shop_a.customer_id,
            channel_id=shop_a.channel_id,
            created_at=start,
        )
        for i in range(TIMELINE_PAGE + 20):
            await conversations.add_message(
                session,
                shop_id=shop_a.id,
                actor=Actor("customer", shop_a.customer_id),
                conversation_id=c.id,
                direction=Direction.inbound,
                text=f"message number {i}",
                created_at=start + timedelta(minutes=i),
            )
        cid = c.id
    await login(client, "agent@shop-a.test")
    page = await client.get(f"/app/c/{cid}")
    assert page.status_code == 200
    shown = [int(n) for n in re.findall(r'<p class="pre">message number (\d+)</p>', page.text)]
    assert shown == list(range(20, TIMELINE_PAGE + 20))
    assert f"Showing the latest {TIMELINE_PAGE} messages." in page.text
    assert f'href="/app/c/{cid}?earlier=1" data-earlier>Show earlier messages</a>' in page.text
    earlier = await client.get(f"/app/c/{cid}?earlier=1")
    shown = [int(n) for n in re.findall(r'<p class="pre">message number (\d+)</p>', earlier.text)]
    assert shown == list(range(TIMELINE_PAGE + 20))
    assert "Show earlier messages" not in earlier.text and "Showing the latest" not in earlier.text
    # the live refresh keeps what the agent chose to see: it only appends (the timeline/tail), never
    # re-renders the timeline
    for shown_page in (page, earlier):
        assert f'hx-get="/app/c/{cid}/timeline/tail"' in shown_page.text
        assert f'hx-get="/app/c/{cid}/timeline?' not in shown_page.text
    fragment = await client.get(f"/app/c/{cid}/timeline?earlier=1")
    assert len(re.findall(r'<p class="pre">message number \d+</p>', fragment.text)) == TIMELINE_PAGE + 20


async def test_the_priority_sort_uses_its_index_on_sqlite(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    if db.kind != "sqlite":
        pytest.skip("the plan is checked on SQLite; PostgreSQL chooses by statistics")
    ids = {}
    async with db.transaction() as session:
        for priority in (Priority.low, Priority.urgent, Priority.normal, Priority.high):
            c = await conversations.open_conversation(
                session,
                shop_id=shop_a.id,
                actor=SYSTEM,
                customer_id=shop_a.customer_id,
                channel_id=shop_a.channel_id,
                priority=priority,
                subject=f"prio {priority.value}",
            )
            ids[priority.value] = c.id
    await login(client, "agent@shop-a.test")
    page = await client.get("/app/inbox?sort=priority")
    order = re.findall(r"prio (urgent|high|normal|low)<", page.text)
    assert order == ["urgent", "high", "normal", "low"]
    from storedesk.conversations.repository import InboxFilter, InboxRepository

    async with db.transaction() as session:
        stmt = InboxRepository(session, shop_a.id).filtered(InboxFilter(status=["open"]))
        from sqlalchemy import literal_column

        from storedesk.conversations.models import PRIORITY_RANK_SQL, Conversation

        rank = literal_column(PRIORITY_RANK_SQL.replace("CASE priority", "CASE conversations.priority"))
        stmt = stmt.order_by(rank, Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(51)
        compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = (await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "USING INDEX ix_conv_shop_status_priority" in details and "TEMP B-TREE" not in details, details
