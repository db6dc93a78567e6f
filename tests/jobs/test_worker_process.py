"""`storedesk worker` as a real process on PostgreSQL: woken by NOTIFY, runs the job, exits on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from storedesk.db.session import Database
from storedesk.jobs.models import Job, JobStatus
from storedesk.jobs.registry import enqueue

pytestmark = pytest.mark.anyio


async def test_worker_runs_jobs_committed_by_another_process(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the production shape runs workers on PostgreSQL")
    env = {
        **os.environ,
        "STOREDESK_DATABASE_URL": db_url,
        "STOREDESK_DATA_DIR": str(tmp_path),
        "STOREDESK_SECRET_KEY": "worker-test-secret",
        "STOREDESK_LOG_LEVEL": "warning",
    }
    worker = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("storedesk")), "worker", env=env
    )
    try:
        await asyncio.sleep(2.0)  # let it start and LISTEN
        async with db.transaction() as s:
            job = await enqueue(s, "no.such.job", {"n": 1})
        deadline = time.monotonic() + 20
        status = JobStatus.queued
        while time.monotonic() < deadline:
            async with db.transaction() as s:
                status = (await s.execute(select(Job.status).where(Job.id == job.id))).scalar_one()
            if status != JobStatus.queued and status != JobStatus.running:
                break
            await asyncio.sleep(0.2)
        # the worker claimed it and, knowing no handler, parked it as dead with the reason
        assert status == JobStatus.dead
        async with db.transaction() as s:
            row = (await s.execute(select(Job).where(Job.id == job.id))).scalar_one()
        assert row.last_error == "no handler registered for job 'no.such.job'"
        assert row.locked_by is None
    finally:
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), timeout=20) == 0
