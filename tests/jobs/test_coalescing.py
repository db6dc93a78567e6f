"""Coalesced jobs (``enqueue_unless_pending`` / ``release_key``): at most one job waits per key, and no
work falls between a job giving up its key and reading its work — on PostgreSQL a writer that found the
key taken holds the job's row until it commits, so the release waits for the writer's data."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from storedesk.db.session import Database
from storedesk.jobs.models import Job
from storedesk.jobs.registry import enqueue_unless_pending, release_key

pytestmark = pytest.mark.anyio

KEY = "test.coalesce:7"


async def _keys(db: Database) -> list[tuple[int, str | None]]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(Job.id, Job.dedupe_key).where(Job.name == "test.coalesce").order_by(Job.id)
        )
        return [(int(i), k) for i, k in rows.all()]


async def test_one_job_waits_per_key_and_a_released_key_queues_the_next(db: Database) -> None:
    for expected in (True, False, False):
        async with db.transaction() as s:
            assert (
                await enqueue_unless_pending(s, "test.coalesce", {"n": 1}, shop_id=None, dedupe_key=KEY)
                is expected
            )
    [(job_id, key)] = await _keys(db)
    assert key == KEY
    async with db.transaction() as s:
        await release_key(s, job_id)
    async with db.transaction() as s:
        assert await enqueue_unless_pending(s, "test.coalesce", {"n": 2}, shop_id=None, dedupe_key=KEY)
    assert [k for _, k in await _keys(db)] == [None, KEY]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_release_waits_for_a_writer_that_relied_on_the_waiting_job(db: Database) -> None:
    async with db.transaction() as s:
        await enqueue_unless_pending(s, "test.coalesce", {}, shop_id=None, dedupe_key=KEY)
    [(job_id, _)] = await _keys(db)
    writer = db.sessionmaker()
    # the ingest transaction: its message is covered by the waiting job (not yet committed)
    assert not await enqueue_unless_pending(writer, "test.coalesce", {}, shop_id=None, dedupe_key=KEY)

    async def release() -> None:
        async with db.transaction() as s:
            await release_key(s, job_id)

    task = asyncio.create_task(release())
    await asyncio.sleep(0.5)
    assert not task.done()  # the job cannot give up its key (and read its work) before the writer commits
    await writer.commit()
    await writer.close()
    await asyncio.wait_for(task, 10)
    assert await _keys(db) == [(job_id, None)]
