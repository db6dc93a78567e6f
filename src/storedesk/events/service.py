"""The one way to write to the append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.events.models import Event
from storedesk.kit.actor import Actor
from storedesk.kit.time import utcnow
from storedesk.realtime import publish_after_commit


async def record(
    session: AsyncSession,
    *,
    shop_id: int,
    type: str,
    actor: Actor,
    conversation_id: int | None = None,
    customer_id: int | None = None,
    order_id: int | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    row = _row(shop_id, type, actor, conversation_id, customer_id, order_id, data, occurred_at)
    event = Event(**row)
    session.add(event)
    _publish(session, row)
    return event


def _row(
    shop_id: int,
    type: str,
    actor: Actor,
    conversation_id: int | None,
    customer_id: int | None,
    order_id: int | None,
    data: dict[str, Any] | None,
    occurred_at: datetime | None,
) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "type": type,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "order_id": order_id,
        "data": data or {},
        "occurred_at": occurred_at or utcnow(),
    }


def _publish(session: AsyncSession, row: dict[str, Any]) -> None:
    event = {
        "type": row["type"],
        "conversation_id": row["conversation_id"],
        "customer_id": row["customer_id"],
    }
    publish_after_commit(session, row["shop_id"], event)


_INSERT = insert(cast(Table, Event.__table__))


async def record_now(
    session: AsyncSession,
    *,
    shop_id: int,
    type: str,
    actor: Actor,
    conversation_id: int | None = None,
    customer_id: int | None = None,
    order_id: int | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """:func:`record` as one INSERT sent right away (SQLAlchemy Core), for hot write paths: no ORM object,
    no unit of work at commit. The event lands in the log before anything still pending in the session."""
    row = _row(shop_id, type, actor, conversation_id, customer_id, order_id, data, occurred_at)
    await session.execute(_INSERT, row)
    _publish(session, row)
