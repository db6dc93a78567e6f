"""Real-time fan-out: in memory on SQLite; through PostgreSQL LISTEN/NOTIFY across processes."""

from __future__ import annotations

import asyncio

import pytest

from storedesk.conversations.models import ConversationStatus
from storedesk.conversations.service import change_status, open_conversation
from storedesk.db.session import Database
from storedesk.kit.actor import Actor
from storedesk.realtime import PgListener, broker
from tests.conftest import make_shop

pytestmark = pytest.mark.anyio


async def drain(queue: asyncio.Queue, n: int, wait: float = 5.0) -> list[dict]:
    out = []
    for _ in range(n):
        out.append(await asyncio.wait_for(queue.get(), wait))
    return out


async def test_events_reach_subscribers_after_commit_only(db: Database, db_url: str) -> None:
    shop = await make_shop(db, "live")
    listener = PgListener(db_url) if db_url.startswith("postgresql") else None
    if listener:
        await listener.start()
    queue = broker.subscribe(shop.id)
    other = broker.subscribe(shop.id + 1000)
    try:
        # a rolled-back transaction publishes nothing
        with pytest.raises(RuntimeError):
            async with db.transaction() as s:
                await open_conversation(
                    s,
                    shop_id=shop.id,
                    actor=Actor("system"),
                    customer_id=shop.customer_id,
                    channel_id=shop.channel_id,
                )
                raise RuntimeError("rollback")
        # a second Database object stands for another process writing to the same database
        writer = Database(db.url)
        async with writer.transaction() as s:
            conv = await open_conversation(
                s,
                shop_id=shop.id,
                actor=Actor("system"),
                customer_id=shop.customer_id,
                channel_id=shop.channel_id,
            )
            await change_status(
                s,
                shop_id=shop.id,
                actor=Actor("system"),
                conversation_id=conv.id,
                status=ConversationStatus.pending,
            )
        await writer.dispose()
        got = await drain(queue, 2)
        assert got == [
            {"type": "conversation.created", "conversation_id": conv.id, "customer_id": shop.customer_id},
            {
                "type": "conversation.status_changed",
                "conversation_id": conv.id,
                "customer_id": shop.customer_id,
            },
        ]
        await asyncio.sleep(0.2)
        assert queue.empty()
        assert other.empty()
    finally:
        broker.unsubscribe(shop.id, queue)
        broker.unsubscribe(shop.id + 1000, other)
        if listener:
            await listener.stop()
