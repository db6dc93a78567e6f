"""Job registry and the transactional enqueue.

Handlers are registered with ``@job("delivery.send")`` and receive a :class:`JobContext`. They must be
idempotent: a job may run again after a crash between its work and its bookkeeping.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, false, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.db.session import Database, after_commit
from storedesk.jobs.models import Job
from storedesk.kit.time import utcnow


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help: the job goes straight to ``dead``."""


@dataclass
class JobContext:
    db: Database
    job_id: int
    name: str
    payload: dict[str, Any]
    shop_id: int | None
    attempt: int
    max_attempts: int

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


Handler = Callable[[JobContext], Awaitable[None]]


@dataclass
class JobSpec:
    name: str
    handler: Handler
    max_attempts: int = 8
    backoff_seconds: float = 2.0
    backoff_cap_seconds: float = 3600.0


@dataclass
class Registry:
    specs: dict[str, JobSpec] = field(default_factory=dict)

    def get(self, name: str) -> JobSpec | None:
        return self.specs.get(name)


registry = Registry()


class Wakeup:
    """Wakes the in-process job runner after a commit that enqueued work (workers on PostgreSQL also
    LISTEN). One asyncio.Event per event loop: a process normally has one loop, but tests and embedded
    servers may run several (each in its own thread), and an Event may only be awaited on one loop."""

    def __init__(self) -> None:
        self._events: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def _event(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        with self._lock:
            event = self._events.get(loop)
            if event is None:
                event = self._events[loop] = asyncio.Event()
        return event

    def set(self) -> None:
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        with self._lock:
            pairs = list(self._events.items())
        for loop, event in pairs:
            if loop is current:
                event.set()
            elif not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # closed meanwhile
                    continue

    def clear(self) -> None:
        self._event().clear()

    async def wait(self) -> None:
        await self._event().wait()


wakeup = Wakeup()


def job(
    name: str, *, max_attempts: int = 8, backoff_seconds: float = 2.0, backoff_cap_seconds: float = 3600.0
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        registry.specs[name] = JobSpec(name, fn, max_attempts, backoff_seconds, backoff_cap_seconds)
        return fn

    return register


async def enqueue(
    session: AsyncSession,
    name: str,
    payload: dict[str, Any],
    *,
    shop_id: int | None = None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Add a job to the caller's transaction: it exists if and only if the caller's data commits."""
    job_row = Job(**_row(name, payload, shop_id, run_at, dedupe_key, max_attempts))
    session.add(job_row)
    _announce(session)
    return job_row


def _row(
    name: str,
    payload: dict[str, Any],
    shop_id: int | None,
    run_at: datetime | None,
    dedupe_key: str | None,
    max_attempts: int | None,
) -> dict[str, Any]:
    spec = registry.get(name)
    now = utcnow()
    return {
        "name": name,
        "payload": payload,
        "shop_id": shop_id,
        "run_at": run_at or now,
        "dedupe_key": dedupe_key,
        "max_attempts": max_attempts or (spec.max_attempts if spec else 8),
        "created_at": now,
    }


def _announce(session: AsyncSession) -> None:
    # on PostgreSQL, LISTENing workers are woken by a NOTIFY after the commit (storedesk.realtime.Notifier)
    session.info["notify_jobs"] = True
    after_commit(session, _wake)


_INSERT = insert(cast(Table, Job.__table__))


async def enqueue_now(
    session: AsyncSession,
    name: str,
    payload: dict[str, Any],
    *,
    shop_id: int | None = None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> None:
    """:func:`enqueue` as one INSERT sent right away (SQLAlchemy Core), for hot write paths. Same row,
    same transaction, same wake-ups."""
    await session.execute(_INSERT, _row(name, payload, shop_id, run_at, dedupe_key, max_attempts))
    _announce(session)


async def enqueue_unless_pending(
    session: AsyncSession,
    name: str,
    payload: dict[str, Any],
    *,
    shop_id: int | None,
    dedupe_key: str,
    run_at: datetime | None = None,
) -> bool:
    """:func:`enqueue` unless a job holding ``dedupe_key`` exists; then that job covers the caller's work.
    Returns whether a job was added.

    A handler that coalesces work under one key gives the key up with :func:`release_key` when it starts
    and then reads the work to do. No work falls between the two: on PostgreSQL a conflicting insert locks
    the holder's row until the caller commits (``ON CONFLICT DO UPDATE … WHERE false``: nothing updated,
    the row locked), so the release waits for the caller's data and reads it; an insert after the release
    adds a new job. SQLite has one writer at a time, which orders them the same way."""
    values = _row(name, payload, shop_id, run_at, dedupe_key, None)
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(Job).values(**values)
        stmt: Any = pg.on_conflict_do_update(
            index_elements=["dedupe_key"], set_={"dedupe_key": pg.excluded.dedupe_key}, where=false()
        )
    else:
        stmt = sqlite.insert(Job).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    added = (await session.execute(stmt.returning(Job.id))).first() is not None
    if added:
        _announce(session)
    return added


async def release_key(session: AsyncSession, job_id: int) -> None:
    """Give up a job's dedupe key in the caller's transaction (see :func:`enqueue_unless_pending`): from
    its commit on, work under the same key queues a new job instead of relying on this one. Read the work
    after this statement."""
    await session.execute(update(Job).where(Job.id == job_id).values(dedupe_key=None))


def _wake() -> None:
    wakeup.set()
