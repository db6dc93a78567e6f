"""The jobs outbox: enqueued in the caller's transaction, retried with backoff, dead and replayable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from storedesk.db.session import Database
from storedesk.jobs.models import Job, JobStatus
from storedesk.jobs.registry import JobContext, PermanentJobError, enqueue, job
from storedesk.jobs.runner import JobRunner, backoff_delay
from storedesk.jobs.service import retry, retry_all_dead
from storedesk.kit.time import utcnow

pytestmark = pytest.mark.anyio

CALLS: list[tuple[str, int, int]] = []


@job("test.flaky", max_attempts=3, backoff_seconds=0.0)
async def flaky(ctx: JobContext) -> None:
    CALLS.append(("flaky", ctx.payload["n"], ctx.attempt))
    if ctx.attempt < ctx.payload["succeed_on"]:
        raise RuntimeError(f"boom {ctx.attempt}")


@job("test.permanent", max_attempts=5)
async def permanent(ctx: JobContext) -> None:
    CALLS.append(("permanent", ctx.payload["n"], ctx.attempt))
    raise PermanentJobError("cannot ever work")


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()


async def job_row(db: Database, job_id: int) -> Job:
    async with db.transaction() as s:
        return (await s.execute(select(Job).where(Job.id == job_id))).scalar_one()


async def test_enqueue_is_part_of_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await enqueue(s, "test.flaky", {"n": 1, "succeed_on": 1})
            raise RuntimeError("the caller's work failed")
    async with db.transaction() as s:
        assert (await s.execute(select(Job))).scalars().all() == []


async def test_retries_then_succeeds(db: Database) -> None:
    async with db.transaction() as s:
        j = await enqueue(s, "test.flaky", {"n": 7, "succeed_on": 2})
    runner = JobRunner(db)
    assert await runner.drain() == 2
    assert CALLS == [("flaky", 7, 1), ("flaky", 7, 2)]
    row = await job_row(db, j.id)
    assert row.status == JobStatus.done
    assert row.attempts == 2
    assert row.last_error is None


async def test_exhausted_retries_go_dead_and_can_be_replayed(db: Database) -> None:
    async with db.transaction() as s:
        j = await enqueue(s, "test.flaky", {"n": 3, "succeed_on": 99})
    await JobRunner(db).drain()
    row = await job_row(db, j.id)
    assert row.status == JobStatus.dead
    assert row.attempts == 3
    assert row.last_error == "RuntimeError: boom 3"
    assert [c[2] for c in CALLS] == [1, 2, 3]

    async with db.transaction() as s:
        await retry(s, j.id, shop_id=None)
    row = await job_row(db, j.id)
    assert (row.status, row.attempts) == (JobStatus.queued, 0)
    await JobRunner(db).drain()
    assert (await job_row(db, j.id)).status == JobStatus.dead
    assert len(CALLS) == 6


async def test_permanent_error_goes_dead_at_once(db: Database) -> None:
    async with db.transaction() as s:
        j = await enqueue(s, "test.permanent", {"n": 1})
        u = await enqueue(s, "test.unknown-job", {})
    await JobRunner(db).drain()
    row = await job_row(db, j.id)
    assert (row.status, row.attempts) == (JobStatus.dead, 1)
    assert row.last_error == "PermanentJobError: cannot ever work"
    unknown = await job_row(db, u.id)
    assert unknown.status == JobStatus.dead
    assert unknown.last_error == "no handler registered for job 'test.unknown-job'"
    async with db.transaction() as s:
        assert await retry_all_dead(s) == 2
    async with db.transaction() as s:
        statuses = (await s.execute(select(Job.status).order_by(Job.id))).scalars().all()
    assert statuses == [JobStatus.queued, JobStatus.queued]


async def test_future_jobs_wait_and_stale_running_jobs_recover(db: Database) -> None:
    async with db.transaction() as s:
        later = await enqueue(
            s, "test.flaky", {"n": 1, "succeed_on": 1}, run_at=utcnow() + timedelta(hours=1)
        )
        stuck = await enqueue(s, "test.flaky", {"n": 2, "succeed_on": 1})
    async with db.transaction() as s:
        await s.execute(
            update(Job)
            .where(Job.id == stuck.id)
            .values(
                status=JobStatus.running, locked_at=utcnow() - timedelta(hours=1), locked_by="dead-worker"
            )
        )
    runner = JobRunner(db)
    assert await runner.drain() == 0
    assert await runner.recover_stale() == 1
    assert await runner.drain() == 1
    assert CALLS == [("flaky", 2, 1)]
    assert (await job_row(db, later.id)).status == JobStatus.queued


async def test_dedupe_key_makes_enqueue_idempotent(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    async with db.transaction() as s:
        await enqueue(s, "test.flaky", {"n": 1, "succeed_on": 1}, dedupe_key="once")
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            await enqueue(s, "test.flaky", {"n": 1, "succeed_on": 1}, dedupe_key="once")


def test_backoff_grows_and_is_capped() -> None:
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)]:
        for _ in range(50):
            d = backoff_delay(attempt, 2.0, 60.0)
            assert ceiling / 2 <= d <= ceiling


async def test_two_runners_never_run_the_same_job(db: Database) -> None:
    import asyncio

    async with db.transaction() as s:
        for n in range(40):
            await enqueue(s, "test.flaky", {"n": n, "succeed_on": 1})
    r1, r2 = JobRunner(db, concurrency=3), JobRunner(db, concurrency=3)
    await asyncio.gather(r1.drain(), r2.drain())
    assert sorted(c[1] for c in CALLS) == list(range(40))


async def test_one_batch_records_each_jobs_own_outcome(db: Database) -> None:
    """A claimed batch is recorded in one transaction: successes done, a failure back in the queue with its
    error and attempt count, a permanent failure dead — each row with its own values."""
    async with db.transaction() as s:
        ok_1 = await enqueue(s, "test.flaky", {"n": 1, "succeed_on": 1})
        retried = await enqueue(s, "test.flaky", {"n": 2, "succeed_on": 2})
        ok_2 = await enqueue(s, "test.flaky", {"n": 3, "succeed_on": 1})
        dead = await enqueue(s, "test.permanent", {"n": 4})
    assert await JobRunner(db, concurrency=4).run_once() == 4
    assert sorted(CALLS) == [("flaky", 1, 1), ("flaky", 2, 1), ("flaky", 3, 1), ("permanent", 4, 1)]
    for j in (ok_1, ok_2):
        row = await job_row(db, j.id)
        assert (row.status, row.attempts, row.last_error, row.locked_by) == (JobStatus.done, 1, None, None)
        assert row.finished_at is not None
    row = await job_row(db, retried.id)
    assert (row.status, row.attempts, row.last_error) == (JobStatus.queued, 1, "RuntimeError: boom 1")
    assert (row.locked_at, row.locked_by, row.finished_at) == (None, None, None)
    row = await job_row(db, dead.id)
    assert (row.status, row.attempts) == (JobStatus.dead, 1)
    assert row.last_error == "PermanentJobError: cannot ever work"
    assert row.finished_at is not None and row.locked_by is None
