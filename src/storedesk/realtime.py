"""Real-time fan-out: ids of what changed, published after commit; clients re-read from the database.

Embedded shape: an in-memory broker. Production shape: PostgreSQL LISTEN/NOTIFY feeds the same broker
in every API process (see storedesk.realtime_pg).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


class Broker:
    def __init__(self) -> None:
        self._subscribers: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self, shop_id: int) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers[shop_id].add(queue)
        return queue

    def unsubscribe(self, shop_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers[shop_id].discard(queue)

    def publish(self, shop_id: int, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(shop_id, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # a stuck client loses live events but catches up from the database on reconnect
                continue


broker = Broker()


def publish_after_commit(session: AsyncSession, shop_id: int, event: dict[str, Any]) -> None:
    pending: list[tuple[int, dict[str, Any]]] = session.info.setdefault("realtime", [])
    if not pending:
        from storedesk.db.session import after_commit

        def _flush() -> None:
            for sid, ev in session.info.pop("realtime", []):
                broker.publish(sid, ev)

        after_commit(session, _flush)
    pending.append((shop_id, event))
