"""Periodic jobs: ``@periodic("kpi.rollup", every=timedelta(minutes=5))`` registers a job handler (as
``@job`` does) that is also enqueued once per time slot.

The runner calls :meth:`PeriodicScheduler.tick` in its loop. Each slot (``every`` aligned to the Unix
epoch, in UTC) becomes one row in the jobs table with the dedupe key ``periodic:<name>:<slot start>``,
inserted with ON CONFLICT DO NOTHING — so any number of runners on any number of machines schedule each
slot exactly once, and a slot missed while no runner was up is not replayed (only the current one runs).
The handler gets ``{"slot": "<ISO start of the slot>"}`` as payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from storedesk.config import get_settings
from storedesk.db.session import Database, after_commit
from storedesk.jobs.models import Job, JobStatus
from storedesk.jobs.registry import Handler, JobContext, job, wakeup
from storedesk.jobs.service import purge_done
from storedesk.kit.time import utcnow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    every: timedelta
    max_attempts: int


PERIODIC: dict[str, PeriodicSpec] = {}


def periodic(name: str, *, every: timedelta, max_attempts: int = 3) -> Callable[[Handler], Handler]:
    if every < timedelta(seconds=10):
        raise ValueError("periodic jobs run at most every 10 seconds")

    def register(fn: Handler) -> Handler:
        job(name, max_attempts=max_attempts)(fn)
        PERIODIC[name] = PeriodicSpec(name, every, max_attempts)
        return fn

    return register


def slot_start(now: datetime, every: timedelta) -> datetime:
    """The start of the slot ``now`` falls in (slots are aligned to the Unix epoch)."""
    elapsed = (now - EPOCH) // every
    return EPOCH + elapsed * every


@dataclass
class PeriodicScheduler:
    """Enqueues the current slot of every periodic job; remembers what it did so most ticks do nothing."""

    db: Database
    done: dict[str, datetime] = field(default_factory=dict)

    async def tick(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        due = [
            (spec, slot)
            for spec in PERIODIC.values()
            if self.done.get(spec.name) != (slot := slot_start(now, spec.every))
        ]
        if not due:
            return 0
        insert = postgresql.insert if self.db.kind == "postgresql" else sqlite.insert
        created = 0
        async with self.db.transaction() as session:
            for spec, slot in due:
                stmt = (
                    insert(Job)
                    .values(
                        name=spec.name,
                        payload={"slot": slot.isoformat()},
                        shop_id=None,
                        status=JobStatus.queued,
                        attempts=0,
                        max_attempts=spec.max_attempts,
                        run_at=slot,
                        dedupe_key=f"periodic:{spec.name}:{slot.isoformat()}",
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["dedupe_key"])
                    .returning(Job.id)
                )
                created += len((await session.execute(stmt)).all())
            if created:
                after_commit(session, wakeup.set)
        for spec, slot in due:
            self.done[spec.name] = slot
        return created


# --- retention: the jobs table keeps finished work for a while, not forever ------------------------------

PURGE_BATCH = 5000


async def purge_done_jobs(
    db: Database, *, keep_days: int, now: datetime | None = None, batch: int = PURGE_BATCH
) -> int:
    """Delete ``done`` jobs that finished more than ``keep_days`` ago, in batches of ``batch`` rows
    (one short transaction each, so neither SQLite's write lock nor PostgreSQL row locks are held long).
    ``dead``, ``queued`` and ``running`` jobs are never deleted. ``keep_days = 0`` keeps everything."""
    if keep_days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    total = 0
    while True:
        async with db.transaction() as session:
            deleted = await purge_done(session, finished_before=cutoff, limit=batch)
        total += deleted
        if deleted < batch:
            return total


@periodic("jobs.purge_done", every=timedelta(hours=1))
async def purge_done_handler(ctx: JobContext) -> None:
    """Hourly: finished jobs older than ``STOREDESK_JOBS_KEEP_DONE_DAYS`` (default 7) are deleted."""
    await purge_done_jobs(ctx.db, keep_days=get_settings().jobs_keep_done_days)
