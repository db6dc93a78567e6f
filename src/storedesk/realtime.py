"""Real-time fan-out: ids of what changed, published after commit; clients re-read from the database.

Embedded shape: an in-memory broker, fed after each commit. Production shape (PostgreSQL): every
transaction that recorded events sends one ``pg_notify('storedesk_events', …)`` just before COMMIT —
PostgreSQL delivers it only if the transaction commits — and every API process LISTENs
(:class:`PgListener`) and feeds its own in-memory broker, so an agent connected to any process sees
changes made by any other process or worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("storedesk.realtime")

CHANNEL = "storedesk_events"
JOBS_CHANNEL = "storedesk_jobs"  # job wake-ups (storedesk.jobs.runner LISTENs)
NOTIFY_LIMIT = 7900  # PostgreSQL's payload limit is 8000 bytes


class Broker:
    def __init__(self) -> None:
        self._subscribers: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        # True while a PgListener feeds this process: then local after-commit publishing is off,
        # because every event comes back through NOTIFY (exactly once).
        self.fed_by_postgres = False
        # event type → handler: state that every process keeps in memory (e.g. who is viewing a
        # conversation) is sent through the broker like any event and applied here instead of queued
        self._handlers: dict[str, Callable[[int, dict[str, Any]], None]] = {}
        # see every event (caches that drop entries when what they hold changes), and hear when events may
        # have been missed (the PostgreSQL listener lost its connection)
        self._observers: list[Callable[[int, dict[str, Any]], None]] = []
        self._gap_observers: list[Callable[[], None]] = []

    def handle(self, event_type: str, handler: Callable[[int, dict[str, Any]], None]) -> None:
        self._handlers[event_type] = handler

    def observe(
        self, on_event: Callable[[int, dict[str, Any]], None], *, on_gap: Callable[[], None] | None = None
    ) -> None:
        """Call ``on_event`` for every published event (before delivery; it must not block), and
        ``on_gap`` when events may have been lost."""
        self._observers.append(on_event)
        if on_gap is not None:
            self._gap_observers.append(on_gap)

    def gap(self) -> None:
        for on_gap in list(self._gap_observers):
            on_gap()

    def subscribe(self, shop_id: int) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers[shop_id].add(queue)
        return queue

    def unsubscribe(self, shop_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers[shop_id].discard(queue)

    def publish(self, shop_id: int, event: dict[str, Any]) -> None:
        for observer in self._observers:
            observer(shop_id, event)
        handler = self._handlers.get(str(event.get("type", "")))
        if handler is not None:
            handler(shop_id, event)
            return
        for queue in list(self._subscribers.get(shop_id, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # a stuck client loses live events but catches up from the database on reconnect
                continue


broker = Broker()


def publish_after_commit(session: AsyncSession, shop_id: int, event: dict[str, Any]) -> None:
    pending: list[tuple[int, dict[str, Any]]] = session.info.setdefault("realtime", [])
    if not pending and not broker.fed_by_postgres:
        from storedesk.db.session import after_commit

        def _flush() -> None:
            for sid, ev in session.info.pop("realtime", []):
                broker.publish(sid, ev)

        after_commit(session, _flush)
    pending.append((shop_id, event))


async def notify_before_commit(session: AsyncSession) -> None:
    """On PostgreSQL, hand this transaction's events and job wake-up to NOTIFY in one statement
    (delivered on commit, dropped on rollback)."""
    pending: list[tuple[int, dict[str, Any]]] = session.info.get("realtime", [])
    jobs = bool(session.info.pop("notify_jobs", False))
    if (not pending and not jobs) or session.get_bind().dialect.name != "postgresql":
        return
    batches: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    size = 2
    for shop_id, event in pending:
        item = {"s": shop_id, **event}
        item_size = len(json.dumps(item, separators=(",", ":"))) + 1
        if batch and size + item_size > NOTIFY_LIMIT:
            batches.append(batch)
            batch, size = [], 2
        batch.append(item)
        size += item_size
    if batch:
        batches.append(batch)
    calls = [f"pg_notify('{JOBS_CHANNEL}', '')"] if jobs else []
    params: dict[str, str] = {}
    for i, b in enumerate(batches):
        calls.append(f"pg_notify('{CHANNEL}', :p{i})")
        params[f"p{i}"] = json.dumps(b, separators=(",", ":"))
    await session.execute(text("SELECT " + ", ".join(calls)), params)
    if broker.fed_by_postgres:
        session.info.pop("realtime", None)


class PgListener:
    """LISTENs on PostgreSQL and republishes every notification into this process's broker."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        broker.fed_by_postgres = True
        self._task = asyncio.create_task(self._run(), name="storedesk-pg-listener")
        try:
            await asyncio.wait_for(self.connected.wait(), timeout=10)
        except TimeoutError:
            log.warning("real-time listener not connected yet; retrying in the background")

    async def stop(self) -> None:
        broker.fed_by_postgres = False
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        import psycopg

        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    broker.gap()  # whatever happened while (re)connecting was not heard
                    delay = 0.5
                    async for notification in conn.notifies():
                        self._dispatch(notification.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.connected.clear()
                log.exception("real-time listener lost its connection; reconnecting")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    @staticmethod
    def _dispatch(payload: str) -> None:
        try:
            items = json.loads(payload)
        except ValueError:
            return
        for item in items:
            shop_id = item.pop("s", None)
            if isinstance(shop_id, int):
                broker.publish(shop_id, item)
