"""Retention of the jobs table: finished jobs older than the configured days go; dead, queued and running
jobs never do. On SQLite and PostgreSQL (the ``db`` fixture runs each test on both)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from storedesk.config import get_settings
from storedesk.db.session import Database
from storedesk.jobs.models import Job, JobStatus
from storedesk.jobs.periodic import PERIODIC, purge_done_jobs
from storedesk.jobs.registry import enqueue
from storedesk.jobs.runner import JobRunner
from storedesk.kit.time import utcnow

pytestmark = pytest.mark.anyio

DAY = timedelta(days=1)


async def add(
    db: Database,
    name: str,
    status: JobStatus,
    finished: datetime | None,
    created: datetime,
    run_at: datetime | None = None,
) -> int:
    async with db.transaction() as s:
        result = await s.execute(
            insert(Job)
            .values(
                name=name,
                payload={},
                shop_id=None,
                status=status,
                attempts=1,
                max_attempts=3,
                run_at=run_at or created,
                created_at=created,
                finished_at=finished,
                dedupe_key=f"{name}:{created.isoformat()}",
            )
            .returning(Job.id)
        )
        return int(result.scalar_one())


async def remaining(db: Database) -> list[str]:
    async with db.transaction() as s:
        return sorted((await s.execute(select(Job.name))).scalars())


async def history(db: Database, now: datetime) -> None:
    old = now - 30 * DAY
    await add(db, "done.old", JobStatus.done, now - 8 * DAY, old)
    await add(db, "done.just_kept", JobStatus.done, now - 7 * DAY + timedelta(seconds=1), old)
    await add(db, "done.recent", JobStatus.done, now - DAY, now - DAY)
    await add(db, "dead.old", JobStatus.dead, now - 20 * DAY, old)  # waits for a retry, forever
    await add(db, "queued.old", JobStatus.queued, None, old, now + DAY)  # created long ago, due tomorrow
    await add(db, "running.old", JobStatus.running, None, old)


async def test_purge_keeps_dead_pending_and_recent(db: Database) -> None:
    now = utcnow()
    await history(db, now)
    assert await purge_done_jobs(db, keep_days=7, now=now) == 1
    assert await remaining(db) == ["dead.old", "done.just_kept", "done.recent", "queued.old", "running.old"]
    assert await purge_done_jobs(db, keep_days=7, now=now) == 0  # idempotent
    assert await purge_done_jobs(db, keep_days=0, now=now + 365 * DAY) == 0  # 0 = keep everything
    assert await purge_done_jobs(db, keep_days=1, now=now) == 1
    assert await remaining(db) == ["dead.old", "done.recent", "queued.old", "running.old"]


async def test_purge_works_in_batches(db: Database) -> None:
    now = utcnow()
    for i in range(7):
        await add(db, f"done.{i}", JobStatus.done, now - (10 + i) * DAY, now - 20 * DAY)
    await add(db, "dead.x", JobStatus.dead, now - 30 * DAY, now - 40 * DAY)
    assert await purge_done_jobs(db, keep_days=7, now=now, batch=3) == 7  # 3 + 3 + 1
    assert await remaining(db) == ["dead.x"]


async def test_the_periodic_job_uses_the_configured_days(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert PERIODIC["jobs.purge_done"].every == timedelta(hours=1)
    now = utcnow()
    await history(db, now)
    monkeypatch.setenv("STOREDESK_JOBS_KEEP_DONE_DAYS", "2")
    get_settings.cache_clear()
    try:
        assert get_settings().jobs_keep_done_days == 2
        async with db.transaction() as s:
            await enqueue(s, "jobs.purge_done", {"slot": now.isoformat()})
        assert await JobRunner(db).drain() == 1
    finally:
        get_settings.cache_clear()
    # the purge job itself is done now (finished a moment ago): kept, like the recent one
    assert await remaining(db) == ["dead.old", "done.recent", "jobs.purge_done", "queued.old", "running.old"]
