"""Real-time fan-out: ids of what changed, published after commit; clients re-read from the database.

Embedded shape: an in-memory broker, fed after each commit. Production shape (PostgreSQL): what a
transaction recorded is handed, after its COMMIT, to the process's :class:`Notifier`, which sends one
``pg_notify('storedesk_events', …)`` statement for everything committed in the last few milliseconds
(ADR 0008) — and every API process LISTENs
(:class:`PgListener`) and feeds its own in-memory broker, so an agent connected to any process sees
changes made by any other process or worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

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


def notify_after_commit(session: AsyncSession) -> None:
    """On PostgreSQL, hand what a transaction just committed — its events and a job wake-up — to the
    process's coalescing notifier (:class:`Notifier`). Call right after the commit, before its hooks."""
    pending: list[tuple[int, dict[str, Any]]] = session.info.get("realtime", [])
    jobs = bool(session.info.pop("notify_jobs", False))
    if not pending and not jobs:
        return
    bind = session.bind
    if bind is None or bind.dialect.name != "postgresql":
        return
    engine = bind if isinstance(bind, AsyncEngine) else bind.engine
    notifier(engine).add(list(pending), jobs)
    if broker.fed_by_postgres:
        session.info.pop("realtime", None)  # they come back through LISTEN, exactly once


def _notify_statement(events: list[tuple[int, dict[str, Any]]], jobs: bool) -> tuple[str, dict[str, str]]:
    """One ``SELECT pg_notify(…), …``: the job wake-up and the events in batches under the payload limit."""
    batches: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    size = 2
    for shop_id, event in events:
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
    return "SELECT " + ", ".join(calls), params


NOTIFY_INTERVAL = 0.01  # seconds: at most ~100 NOTIFY statements a second per process, whatever the load


class Notifier:
    """The process's NOTIFYs (events for the live views, wake-ups for the job workers), sent after the
    commits, coalesced: one statement for everything committed in the last ``NOTIFY_INTERVAL``.

    A NOTIFY inside a transaction holds PostgreSQL's global notify lock from just before its commit until
    the commit is done, WAL flush included: NOTIFYing in every transaction made all writing transactions
    commit one after another (no group commit), and cost each a round trip. The price: what a process
    commits and then dies before notifying is not announced — live views catch up from the database on
    reconnect, job workers poll every second. Order is kept (one sender per process and engine)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.jobs = False
        self.task: asyncio.Task[None] | None = None

    def add(self, events: list[tuple[int, dict[str, Any]]], jobs: bool) -> None:
        self.events.extend(events)
        self.jobs = self.jobs or jobs
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._run(), name="storedesk-notify")

    async def _run(self) -> None:
        while self.events or self.jobs:
            events, jobs = self.events, self.jobs
            self.events, self.jobs = [], False
            sql, params = _notify_statement(events, jobs)
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(text(sql), params)
            except Exception:
                log.warning(
                    "NOTIFY failed (%d events; live views and workers catch up)", len(events), exc_info=True
                )
            await asyncio.sleep(NOTIFY_INTERVAL)

    async def drain(self) -> None:
        """Wait until everything handed over has been sent (before the engine is disposed)."""
        task = self.task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            await task


_notifiers: weakref.WeakKeyDictionary[Any, Notifier] = weakref.WeakKeyDictionary()


def notifier(engine: AsyncEngine) -> Notifier:
    found = _notifiers.get(engine.sync_engine)
    if found is None:
        found = _notifiers[engine.sync_engine] = Notifier(engine)
    return found


async def drain_notifications(engine: AsyncEngine) -> None:
    found = _notifiers.get(engine.sync_engine)
    if found is not None:
        await found.drain()


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
