"""Benchmark: the KPI rollup refresh for one day of traffic (target: 10,000 conversations ≤ 5 s).

A shop gets ``--history-days`` of synthetic traffic, rolled up (not timed). Then one more day is written
— ``--per-day`` conversations with their events (answers, resolutions, reopens, SLA outcomes, surveys)
and ``--orders`` orders — and the incremental refresh that picks it up is timed: changed conversations
found from the event log, their events read, contributions recomputed, differences upserted into
kpi_daily, and the buyers of the day's orders recomputed.

    python bench/kpi_rollup.py --db postgresql           # a fresh database storedesk_kpi_rollup_bench
    python bench/kpi_rollup.py --reuse --url postgresql+psycopg://postgres@127.0.0.1:5432/storedesk_kpi_rollup_bench
    python bench/kpi_rollup.py --db sqlite

Synthetic traffic comes from tests/analytics/synthetic.py (bulk inserts shaped like the write paths).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from tests.analytics import synthetic  # noqa: E402

from storedesk.analytics.models import KpiRollupState  # noqa: E402
from storedesk.analytics.rollup import refresh_shop  # noqa: E402
from storedesk.db.migrate import upgrade  # noqa: E402
from storedesk.db.session import Database  # noqa: E402
from storedesk.shops.models import Shop  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url(kind: str, name: str) -> str:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="kpi-bench-")) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    return url


async def main(args: argparse.Namespace, url: str) -> None:
    """Days are simulated: each day's traffic is written with events up to an hour after its end, and
    the refresh runs "at" that time — so the day's orders fall inside the refresh's look-back exactly as
    they would in production."""
    db = Database(url)
    try:
        t0 = time.perf_counter()
        async with db.transaction() as session:
            existing = (
                await session.execute(select(Shop.id).where(Shop.slug == "bench"))
            ).scalar_one_or_none()
        if existing is not None and args.reuse:
            async with db.transaction() as session:
                state = await session.get(KpiRollupState, existing)
                assert state is not None and state.orders_watermark is not None
                bench_day = state.orders_watermark.date()
            tenant = await synthetic.tenant_of(db, existing)
            print(f"reusing the shop of an earlier run; next day {bench_day}")
        else:
            tenant = await synthetic.tenant(db, "bench", customers=args.customers)
            bench_day = datetime.now(UTC).date() - timedelta(days=30)
            for offset in range(args.history_days, 0, -1):
                day = bench_day - timedelta(days=offset)
                at = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
                    hours=1
                )
                await synthetic.generate(
                    db,
                    tenant,
                    first_day=day,
                    days=1,
                    per_day=args.per_day,
                    orders_per_day=args.orders,
                    seed=offset,
                    now=at,
                )
                await refresh_shop(db, tenant.shop_id, now=at, safety=timedelta(0))
            print(
                f"history: {args.history_days} days × {args.per_day} conversations written and rolled up "
                f"in {time.perf_counter() - t0:.0f}s"
            )
        at = datetime.combine(bench_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=1
        )
        n_day = await synthetic.generate(
            db,
            tenant,
            first_day=bench_day,
            days=1,
            per_day=args.per_day,
            orders_per_day=args.orders,
            seed=bench_day.toordinal(),
            now=at,
        )
        load = os.getloadavg()[0]
        cpu = time.process_time()
        stats = await refresh_shop(db, tenant.shop_id, now=at, safety=timedelta(0))
        cpu = time.process_time() - cpu
        again = await refresh_shop(db, tenant.shop_id, now=at, safety=timedelta(0))
        print(
            f"one day ({bench_day}): {n_day} conversations, {stats.events} events, {args.orders} orders "
            f"→ {stats.customers} buyers recomputed, {stats.rows_changed} rollup rows changed"
        )
        print(
            f"refresh: {stats.seconds:.2f} s wall (target ≤ 5 s), {cpu:.2f} s CPU in this process; "
            f"idle re-run {again.seconds:.3f} s"
        )
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} before the run; "
            f"database: {args.db}"
        )
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--name", default="storedesk_kpi_rollup_bench", help="PostgreSQL database to (re)create"
    )
    parser.add_argument("--per-day", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=15_000, help="orders per day")
    parser.add_argument("--history-days", type=int, default=3)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="add the next day to the shop of an earlier run")
    parser.add_argument("--url", default=None, help="with --reuse: the database of the earlier run")
    arguments = parser.parse_args()
    url = arguments.url if arguments.reuse and arguments.url else database_url(arguments.db, arguments.name)
    asyncio.run(main(arguments, url))
