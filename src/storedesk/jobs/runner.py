"""Runs due jobs: in-process (embedded shape) or in ``storedesk worker`` processes (production).

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so any number of workers on any number of
machines share one queue; SQLite's ``BEGIN IMMEDIATE`` serialises the claim in the single process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update

from storedesk.db.session import Database
from storedesk.jobs.models import Job, JobStatus
from storedesk.jobs.registry import JobContext, PermanentJobError, registry, wakeup
from storedesk.kit.time import utcnow

log = logging.getLogger("storedesk.jobs")

STALE_AFTER = timedelta(minutes=10)
_jobs = cast(Table, Job.__table__)
# the outcome of a job that succeeded (one shared object: :meth:`JobRunner.finish` groups them by identity)
_DONE: dict[str, Any] = {"status": JobStatus.done.value}


@dataclass(frozen=True)
class Claimed:
    id: int
    name: str
    payload: dict[str, Any]
    shop_id: int | None
    attempts: int
    max_attempts: int


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: attempt 1 → up to base, 2 → up to 2·base, …"""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return float(ceiling / 2 + random.random() * ceiling / 2)


class JobRunner:
    def __init__(self, db: Database, *, concurrency: int = 4, poll_interval: float = 1.0) -> None:
        self.db = db
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()
        wakeup.set()

    async def claim(self, limit: int) -> list[Claimed]:
        """Mark up to ``limit`` due jobs ``running`` for this worker, in one statement and transaction.

        Core statements on a connection (no ORM session, no bulk-update bookkeeping): the runner does
        this once per batch, on every worker, all day.
        """
        now = utcnow()
        due = (
            select(_jobs.c.id)
            .where(_jobs.c.status == JobStatus.queued.value, _jobs.c.run_at <= now)
            .order_by(_jobs.c.run_at, _jobs.c.id)
            .limit(limit)
        )
        if self.db.kind == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(_jobs)
            .where(_jobs.c.id.in_(due.scalar_subquery()))
            .values(
                status=JobStatus.running.value,
                locked_at=now,
                locked_by=self.worker_id,
                attempts=_jobs.c.attempts + 1,
            )
            .returning(
                _jobs.c.id,
                _jobs.c.name,
                _jobs.c.payload,
                _jobs.c.shop_id,
                _jobs.c.attempts,
                _jobs.c.max_attempts,
            )
        )
        async with self.db.engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [Claimed(*row) for row in rows]

    async def recover_stale(self) -> int:
        """Jobs left ``running`` by a crashed worker go back to the queue."""
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Job)
                .where(Job.status == JobStatus.running, Job.locked_at < utcnow() - STALE_AFTER)
                .values(status=JobStatus.queued, locked_at=None, locked_by=None)
                .returning(Job.id)
            )
            return len(result.all())

    async def execute(self, job: Claimed) -> None:
        """Run one claimed job and record its outcome."""
        await self.finish([(job, await self.run_job(job))])

    async def run_job(self, job: Claimed) -> dict[str, Any]:
        """Run a claimed job's handler; returns the job row's new values (see :meth:`finish`)."""
        spec = registry.get(job.name)
        error: str | None = None
        permanent = False
        if spec is None:
            error, permanent = f"no handler registered for job {job.name!r}", True
        else:
            ctx = JobContext(
                db=self.db,
                job_id=job.id,
                name=job.name,
                payload=job.payload,
                shop_id=job.shop_id,
                attempt=job.attempts,
                max_attempts=job.max_attempts,
            )
            try:
                await spec.handler(ctx)
            except PermanentJobError as exc:
                error, permanent = f"{type(exc).__name__}: {exc}", True
            except Exception as exc:
                error = "".join(traceback.format_exception_only(exc)).strip()
                log.warning("job %s #%s attempt %s failed: %s", job.name, job.id, job.attempts, error)
        if error is None:
            return _DONE
        if permanent or job.attempts >= job.max_attempts:
            return {"status": JobStatus.dead.value, "last_error": error}
        assert spec is not None
        delay = backoff_delay(job.attempts, spec.backoff_seconds, spec.backoff_cap_seconds)
        return {
            "status": JobStatus.queued.value,
            "run_at": utcnow() + timedelta(seconds=delay),
            "last_error": error,
        }

    async def finish(self, outcomes: list[tuple[Claimed, dict[str, Any]]]) -> None:
        """Record the outcomes of a batch in ONE transaction: every successful job in one ``UPDATE … WHERE
        id IN (…)``, each failed one (rare) in its own statement.

        A job whose handler committed but whose outcome is not recorded (the worker was killed in
        between) is run again after :data:`STALE_AFTER` — as before batching, handlers are idempotent.
        """
        if not outcomes:
            return
        now = utcnow()
        done = [job.id for job, values in outcomes if values is _DONE]
        async with self.db.engine.begin() as conn:
            if done:
                await conn.execute(
                    update(_jobs)
                    .where(_jobs.c.id.in_(done))
                    .values(
                        status=JobStatus.done.value,
                        finished_at=now,
                        last_error=None,
                        locked_at=None,
                        locked_by=None,
                    )
                )
            for job, values in outcomes:
                if values is _DONE:
                    continue
                final = values["status"] == JobStatus.dead.value
                await conn.execute(
                    update(_jobs)
                    .where(_jobs.c.id == job.id)
                    .values(
                        locked_at=None, locked_by=None, **values, **({"finished_at": now} if final else {})
                    )
                )

    async def run_once(self) -> int:
        """Claim and run one batch; returns how many jobs ran. The batch's outcomes are recorded together
        (:meth:`finish`): one claim and one bookkeeping transaction per batch, not per job."""
        claimed = await self.claim(self.concurrency)
        if claimed:
            outcomes = await asyncio.gather(*(self.run_job(j) for j in claimed))
            await self.finish(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Run until nothing is due (tests, CLI)."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            if not ran:
                break
            total += ran
        return total

    async def run_forever(self) -> None:
        from storedesk.jobs.periodic import PeriodicScheduler

        scheduler = PeriodicScheduler(self.db)
        await self.recover_stale()
        rounds = 0
        while not self._stop.is_set():
            # cleared before claiming, so a job committed during the claim is not missed
            wakeup.clear()
            try:
                await scheduler.tick()
                ran = await self.run_once()
            except Exception:
                log.exception("job runner loop failed; retrying")
                ran = 0
            rounds += 1
            if rounds % 600 == 0:
                await self.recover_stale()
            if ran:
                continue
            try:
                await asyncio.wait_for(wakeup.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass


async def listen_for_jobs(dsn: str) -> None:
    """PostgreSQL: wake this process's runner as soon as any process commits a job (LISTEN).

    Runs until cancelled; reconnects on failure. Polling stays on as a fallback.
    """
    import psycopg

    dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute("LISTEN storedesk_jobs")
                delay = 0.5
                async for _ in conn.notifies():
                    wakeup.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("job wake-up listener lost its connection; reconnecting", exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
