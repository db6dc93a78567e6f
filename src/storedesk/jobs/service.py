"""Inspecting and replaying jobs (``storedesk jobs``, ``/api/v1/jobs``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.db.session import after_commit
from storedesk.jobs.models import Job, JobStatus
from storedesk.jobs.registry import _wake
from storedesk.kit.errors import InvalidTransition, NotFound
from storedesk.kit.time import utcnow


async def list_jobs(
    session: AsyncSession, *, shop_id: int | None, status: JobStatus | None = None, limit: int = 100
) -> Sequence[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if shop_id is not None:
        stmt = stmt.where(Job.shop_id == shop_id)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    return (await session.execute(stmt)).scalars().all()


async def retry(session: AsyncSession, job_id: int, *, shop_id: int | None) -> Job:
    """Put a dead job back in the queue with a fresh attempt budget."""
    stmt = select(Job).where(Job.id == job_id)
    if shop_id is not None:
        stmt = stmt.where(Job.shop_id == shop_id)
    job = (await session.execute(stmt)).scalar_one_or_none()
    if job is None:
        raise NotFound("job", job_id)
    if job.status != JobStatus.dead:
        raise InvalidTransition(f"job {job_id} is {job.status}, only dead jobs can be retried")
    job.status = JobStatus.queued
    job.attempts = 0
    job.run_at = utcnow()
    job.finished_at = None
    after_commit(session, _wake)
    return job


async def retry_all_dead(session: AsyncSession, *, shop_id: int | None = None) -> int:
    stmt = (
        update(Job)
        .where(Job.status == JobStatus.dead)
        .values(status=JobStatus.queued, attempts=0, run_at=utcnow(), finished_at=None)
        .returning(Job.id)
    )
    if shop_id is not None:
        stmt = stmt.where(Job.shop_id == shop_id)
    count = len((await session.execute(stmt)).all())
    after_commit(session, _wake)
    return count


async def purge_done(session: AsyncSession, *, finished_before: datetime, limit: int = 5000) -> int:
    """Delete up to ``limit`` jobs that finished successfully before ``finished_before``.

    Only ``done`` rows go: ``dead`` jobs stay until someone retries them, ``queued`` and ``running`` ones
    are work still to do. Returns how many rows were deleted."""
    ids = (
        select(Job.id)
        .where(Job.status == JobStatus.done, Job.finished_at < finished_before)
        .order_by(Job.id)
        .limit(limit)
    )
    result = await session.execute(delete(Job).where(Job.id.in_(ids.scalar_subquery())).returning(Job.id))
    return len(result.all())
