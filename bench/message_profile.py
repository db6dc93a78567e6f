"""Per-request cost of creating a message through the API, in process: SQL statements, CPU and wall time.

Complements bench/api_messages.py (throughput under wrk): this one sends requests one after another
through the ASGI app (no network, no uvicorn), counts the SQL statements of every request with a
SQLAlchemy event listener and measures the process CPU time per request, which the load of other
processes on the machine does not inflate much.

    python bench/message_profile.py --db sqlite --requests 500
    python bench/message_profile.py --db postgresql --requests 500 --sla
    python bench/message_profile.py --db sqlite --requests 300 --pyinstrument /tmp/profile.html

``--sla`` gives the shop an active SLA policy and each conversation a customer message first (the SLA
clock then runs on every reply).
``--show-sql`` prints the statements of one request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_database  # noqa: E402
from tests.conftest import make_shop  # noqa: E402

from storedesk.api.app import create_app  # noqa: E402
from storedesk.config import Settings  # noqa: E402
from storedesk.db.session import Database  # noqa: E402


async def run(url: str, args: argparse.Namespace, tmp: Path) -> None:
    from storedesk.conversations.models import Direction
    from storedesk.conversations.service import add_message, open_conversation
    from storedesk.kit.actor import SYSTEM, Actor
    from storedesk.sla.service import create_policy

    db = Database(url)
    shop = await make_shop(db, "bench")
    conversation_ids: list[int] = []
    async with db.transaction() as s:
        if args.sla:
            await create_policy(
                s,
                shop_id=shop.id,
                actor=SYSTEM,
                values={
                    "name": "Default",
                    "first_response_minutes": 60,
                    "next_response_minutes": 120,
                    "resolution_minutes": 1440,
                    "business_hours": False,
                },
            )
        for _ in range(args.conversations):
            c = await open_conversation(
                s,
                shop_id=shop.id,
                actor=Actor("system"),
                customer_id=shop.customer_id,
                channel_id=shop.channel_id,
            )
            conversation_ids.append(c.id)
            if args.sla:  # a customer message starts each conversation's SLA clock
                await add_message(
                    s,
                    shop_id=shop.id,
                    actor=Actor("customer", shop.customer_id),
                    conversation_id=c.id,
                    direction=Direction.inbound,
                    text="Where is my parcel?",
                )
    await db.dispose()

    settings = Settings(
        data_dir=tmp,
        database_url=url,
        secret_key="bench-secret-key-0123456789",
        jobs_mode="external",
        smtp_port=0,
    )
    db = Database(url)
    app = create_app(settings, db=db, run_jobs=False, realtime_pg=False)
    statements: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    headers = {"Authorization": f"Bearer {shop.tokens['agent']}"}
    body = {"text": "Your parcel left our warehouse today and should arrive on Thursday."}
    per_request: list[int] = []
    walls: list[float] = []
    cpus: list[float] = []
    sample: list[str] = []
    profiler = None
    cprof = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(args.requests + args.warmup):
                if i == args.warmup and args.cprofile:
                    import cProfile

                    cprof = cProfile.Profile()
                    cprof.enable()
                if i == args.warmup and args.pyinstrument:
                    from pyinstrument import Profiler

                    profiler = Profiler(async_mode="enabled")
                    profiler.start()
                cid = conversation_ids[i % len(conversation_ids)]
                statements.clear()
                w0, c0 = time.perf_counter(), time.process_time()
                r = await client.post(f"/api/v1/conversations/{cid}/messages", json=body, headers=headers)
                w1, c1 = time.perf_counter(), time.process_time()
                assert r.status_code == 201, r.text
                if i >= args.warmup:
                    walls.append((w1 - w0) * 1000)
                    cpus.append((c1 - c0) * 1000)
                    per_request.append(len(statements))
                    if not sample:
                        sample = list(statements)
    if cprof is not None:
        cprof.disable()
    await db.dispose()
    if cprof is not None:
        import pstats

        cprof.dump_stats(os.environ.get("MSGPROF_DUMP", os.devnull))
        stats = pstats.Stats(cprof)
        stats.sort_stats(args.cprofile).print_stats(45)
        # a count of work that the machine's load does not change (the CPU figures below it does)
        print(f"Python function calls per request (main thread): {stats.total_calls / args.requests:.0f}")
    if profiler is not None:
        profiler.stop()
        html = profiler.output_html()
        await asyncio.to_thread(Path(args.pyinstrument).write_text, html)
        print(profiler.output_text(unicode=False, color=False, show_all=args.profile_all))

    kinds = Counter(s.split(None, 1)[0].upper() for s in sample)
    print(f"db={args.db} sla={'on' if args.sla else 'off'} requests={len(walls)}")
    print(
        f"statements per request: {statistics.median(per_request):.0f} (min {min(per_request)}, "
        f"max {max(per_request)}) {dict(kinds)}"
    )
    walls.sort()
    cpus.sort()
    print(f"wall ms: p50 {statistics.median(walls):.2f} p99 {walls[int(len(walls) * 0.99) - 1]:.2f}")
    print(f"process CPU ms per request: mean {statistics.fmean(cpus):.2f} p50 {statistics.median(cpus):.2f}")
    if args.show_sql:
        for s in sample:
            print("  ", " ".join(s.split())[:220])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--sla", action="store_true", help="the shop has an active SLA policy")
    ap.add_argument("--show-sql", action="store_true")
    ap.add_argument("--profile-all", action="store_true", help="--pyinstrument: show every frame")
    ap.add_argument(
        "--cprofile",
        metavar="SORT",
        help="profile the measured requests with cProfile (main thread), sorted by SORT (tottime, cumtime)",
    )
    ap.add_argument(
        "--pyinstrument", metavar="HTML", help="profile the measured requests (needs pyinstrument)"
    )
    args = ap.parse_args()
    with scratch_database(args.db, "msgprof") as (url, tmp):
        asyncio.run(run(url, args, tmp))


if __name__ == "__main__":
    main()
