"""Per-item cost of the webhook path, in process: SQL statements, CPU and wall time per ack and per ingest.

Complements bench/webhook_ingest.py (throughput and latency through uvicorn and worker processes): this
one sends signed WhatsApp webhooks one after another through the ASGI app (no network, no uvicorn) and
then runs the ``channels.ingest`` jobs they enqueued one at a time in the same process. For both it
counts the SQL statements (a SQLAlchemy event listener) and measures the process CPU time per item,
which the load of other processes on the machine does not inflate much.

    python bench/webhook_profile.py --db postgresql --requests 500
    python bench/webhook_profile.py --db sqlite --requests 300 --show-sql
    python bench/webhook_profile.py --db postgresql --phase ingest --cprofile tottime

``--senders`` distinct customers write in (round robin): with fewer senders than requests most
messages land in an existing open conversation, as in a shop's day.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import hmac
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.scratch import scratch_database  # noqa: E402
from webhook_ingest import APP_SECRET, PHONE_NUMBER_ID, body_for  # noqa: E402

from storedesk.api.app import create_app  # noqa: E402
from storedesk.config import Settings  # noqa: E402
from storedesk.db.session import Database  # noqa: E402

SECRET_KEY = "bench-secret-key-0123456789"


def _summary(name: str, walls: list[float], cpus: list[float], counts: list[int], sample: list[str]) -> None:
    if not walls:
        print(f"{name}: nothing measured")
        return
    kinds = Counter(s.split(None, 1)[0].upper() for s in sample)
    walls, cpus = sorted(walls), sorted(cpus)
    print(
        f"{name}: n={len(walls)} statements {statistics.median(counts):.0f} (min {min(counts)}, "
        f"max {max(counts)}) {dict(kinds)}"
    )
    print(f"  wall ms: p50 {statistics.median(walls):.2f} p99 {walls[int(len(walls) * 0.99) - 1]:.2f}")
    print(f"  process CPU ms: mean {statistics.fmean(cpus):.2f} p50 {statistics.median(cpus):.2f}")


async def run(url: str, args: argparse.Namespace, tmp: Path) -> None:
    from storedesk.channels.models import ChannelKind
    from storedesk.channels.service import create_channel
    from storedesk.jobs.models import Job, JobStatus
    from storedesk.jobs.runner import JobRunner
    from storedesk.kit.actor import SYSTEM
    from storedesk.kit.crypto import SecretBox
    from storedesk.shops.service import create_shop

    db = Database(url)
    async with db.transaction() as s:
        shop = await create_shop(
            s, slug="bench", name="Bench", languages=["en"], default_language="en", country="DE"
        )
        if args.suggestions == "off":
            shop.policies = {**shop.policies, "assistant": {"suggestions": False}}
        await create_channel(
            s,
            shop_id=shop.id,
            actor=SYSTEM,
            box=SecretBox([SECRET_KEY]),
            kind=ChannelKind.whatsapp,
            name="WhatsApp",
            external_id=PHONE_NUMBER_ID,
            credentials={"app_secret": APP_SECRET, "access_token": "unused"},
        )
    await db.dispose()

    settings = Settings(
        data_dir=tmp, database_url=url, secret_key=SECRET_KEY, jobs_mode="external", smtp_port=0
    )
    db = Database(url)
    app = create_app(settings, db=db, run_jobs=False, realtime_pg=False)
    statements: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    total = args.requests + args.warmup
    profiler = None

    def start_profile() -> None:
        nonlocal profiler
        if args.cprofile:
            # --cprofile-cpu: process CPU time (what a worker pays), not wall time (which counts the waits
            # for PostgreSQL and the other processes on a loaded machine)
            profiler = cProfile.Profile(time.process_time) if args.cprofile_cpu else cProfile.Profile()
            profiler.enable()

    def stop_profile() -> None:
        nonlocal profiler
        if profiler is not None:
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats(args.cprofile).print_stats(args.cprofile_lines)
            profiler = None

    walls: list[float] = []
    cpus: list[float] = []
    counts: list[int] = []
    sample: list[str] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(total):
                if i == args.warmup and args.phase == "ack":
                    start_profile()
                body = body_for(i, args.senders)
                sig = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
                headers = {"content-type": "application/json", "x-hub-signature-256": sig}
                statements.clear()
                w0, c0 = time.perf_counter(), time.process_time()
                r = await client.post("/webhooks/whatsapp", content=body, headers=headers)
                w1, c1 = time.perf_counter(), time.process_time()
                assert r.status_code == 200, r.text
                if i >= args.warmup:
                    walls.append((w1 - w0) * 1000)
                    cpus.append((c1 - c0) * 1000)
                    counts.append(len(statements))
                    sample = list(statements)  # the last one: the steady state
    if args.phase == "ack":
        stop_profile()
    _summary("ack (POST /webhooks/whatsapp)", walls, cpus, counts, sample)
    if args.show_sql:
        for s in sample:
            print("  ", " ".join(s.split())[:220])

    # the ingest jobs as a worker runs them (claim → handlers → bookkeeping), --batch at a time (a worker's
    # --concurrency); per-job figures are a batch's divided by its jobs
    runner = JobRunner(db, concurrency=args.batch)
    async with db.transaction() as s:
        queued = len((await s.execute(select(Job.id).where(Job.status == JobStatus.queued))).all())
    assert queued == total, f"{queued} jobs queued, expected {total}"
    walls, cpus, counts, sample = [], [], [], []
    i = 0
    while i < total:
        if i >= args.warmup and args.phase == "ingest" and profiler is None:
            start_profile()
        # the warm-up one at a time (the shop's first conversation creates its number sequence: concurrent
        # first messages would race on it and retry later)
        runner.concurrency = 1 if i < args.warmup else min(args.batch, total - i)
        statements.clear()
        w0, c0 = time.perf_counter(), time.process_time()
        ran = await runner.run_once()
        w1, c1 = time.perf_counter(), time.process_time()
        assert ran >= 1
        if i >= args.warmup:
            walls += [(w1 - w0) * 1000 / ran] * ran
            cpus += [(c1 - c0) * 1000 / ran] * ran
            counts += [round(len(statements) / ran)] * ran
            sample = list(statements)  # the last batch: known senders, open conversations
        i += ran
    if args.phase == "ingest":
        stop_profile()
    async with db.transaction() as s:
        done = len((await s.execute(select(Job.id).where(Job.status == JobStatus.done))).all())
    assert done == total, f"{done} of {total} ingest jobs done"
    _summary("ingest job (claim + channels.ingest + done)", walls, cpus, counts, sample)
    if args.show_sql:
        for s in sample:
            print("  ", " ".join(s.split())[:220])
    ingest_cpu = sum(cpus)
    measured_ingest = len(cpus)

    # what the ingested messages queued (the assistant's triage/suggestion jobs), until the queue is empty;
    # delayed jobs (a debounce) are made due now
    from sqlalchemy import update

    async with db.transaction() as s:
        await s.execute(update(Job).where(Job.status == JobStatus.queued).values(run_at=Job.created_at))
    from storedesk.assistant import service as assistant

    assistant.warm(["en"])  # as `storedesk worker` does at start
    follow: Counter[str] = Counter()
    walls, cpus, counts, sample = [], [], [], []
    if args.phase == "followup":
        start_profile()
    while True:
        statements.clear()
        w0, c0 = time.perf_counter(), time.process_time()
        ran = await runner.run_once()
        w1, c1 = time.perf_counter(), time.process_time()
        if not ran:
            break
        walls.append((w1 - w0) * 1000)
        cpus.append((c1 - c0) * 1000)
        counts.append(len(statements))
        sample = list(statements)
    if args.phase == "followup":
        stop_profile()
    async with db.transaction() as s:
        for name, n in (await s.execute(select(Job.name, func.count()).group_by(Job.name))).all():
            follow[name] = n
    _summary("follow-up jobs (assistant.handle …)", walls, cpus, counts, sample)
    print(f"  jobs by name: {dict(follow)}")
    print(
        f"worker CPU per ingested message (ingest + follow-up jobs): "
        f"{ingest_cpu / measured_ingest + sum(cpus) / total:.2f} ms "
        f"(ingest {ingest_cpu / measured_ingest:.2f}, follow-up {sum(cpus) / total:.2f})"
    )
    await db.dispose()
    print(f"load average: {os.getloadavg()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--senders", type=int, default=100, help="distinct customers (round robin)")
    ap.add_argument(
        "--phase", choices=["ack", "ingest", "followup"], default="ack", help="what --cprofile profiles"
    )
    ap.add_argument(
        "--suggestions",
        choices=["default", "off"],
        default="default",
        help="the bench shop's assistant policy: default (suggest only, as a new shop) or off",
    )
    ap.add_argument(
        "--batch",
        type=int,
        default=1,
        help="ingest jobs claimed and run per round (a worker's --concurrency)",
    )
    ap.add_argument("--show-sql", action="store_true")
    ap.add_argument(
        "--cprofile",
        choices=["cumulative", "tottime"],
        help="profile one phase (--phase) with cProfile and print the top functions in this order",
    )
    ap.add_argument("--cprofile-lines", type=int, default=45)
    ap.add_argument(
        "--cprofile-cpu", action="store_true", help="profile process CPU time instead of wall time"
    )
    args = ap.parse_args()
    with scratch_database(args.db, "whprof") as (url, tmp):
        asyncio.run(run(url, args, tmp))


if __name__ == "__main__":
    main()
