"""Benchmark: the KPI dashboard over 12 months at 1,000,000 conversations (target p95 ≤ 500 ms).

The dashboard reads only the rollup tables, so what matters is their size. Unless ``--reuse`` finds
them filled, this builds them for one big synthetic shop: 1M conversations over 12 months (skewed
channels, 60 agents in 8 teams, 8 languages, 24 intents, first responses, resolutions, reopens,
automation, SLA outcomes, CSAT/CES/NPS answers) turned into contributions and rollup rows by the real
``storedesk.analytics.facts`` functions, loaded with COPY at the full breakdown and summed into the other
grains by the rollup's own SQL (``derive_grains``); ~2.5M orders from 800k customers are turned into buyer
transitions the same way. (The event-log → rollup path is measured by
bench/kpi_rollup.py.) Then it times, each ``--runs`` times:

* ``dashboard``: ``analytics.service.dashboard`` for the last 12 months — everything /app/kpis computes;
* ``GET /app/kpis``: the page over HTTP (uvicorn, loopback), HTML included;
* ``GET /api/v1/kpis`` 12 months by month, by agent, filtered by channel and broken down by agent (a
  two-dimension grain), filtered by channel and agent and broken down by language (three dimensions: the
  full breakdown), filtered by agent by week.

    python bench/kpi_dashboard.py                          # builds storedesk_kpi_dashboard_bench
    python bench/kpi_dashboard.py --reuse --runs 50
    python bench/kpi_dashboard.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/storedesk_scale \\
        --shop scale --email admin@scale.scale.test --password scale-password-1 --rollup-first
        # bench/generate_scale.py's shop: its rollups rebuilt from the event log, then timed
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402
from tests.analytics.wiring import wired_app  # noqa: E402
from tests.servers import serve_in_thread  # noqa: E402

from storedesk.agents.models import Agent, Role, Team  # noqa: E402
from storedesk.agents.service import create_agent  # noqa: E402
from storedesk.analytics import facts  # noqa: E402
from storedesk.analytics import service as kpis  # noqa: E402
from storedesk.analytics.metrics import METRICS, frt_bucket  # noqa: E402
from storedesk.analytics.models import Grain  # noqa: E402
from storedesk.analytics.repository import KpiFilter  # noqa: E402
from storedesk.analytics.rollup import derive_grains, rebuild_shop  # noqa: E402
from storedesk.channels.models import Channel  # noqa: E402
from storedesk.config import Settings  # noqa: E402
from storedesk.db.migrate import upgrade  # noqa: E402
from storedesk.db.session import Database  # noqa: E402
from storedesk.kit.actor import SYSTEM  # noqa: E402
from storedesk.shops.models import DEFAULT_BUSINESS_HOURS, Shop  # noqa: E402
from storedesk.sla.calendar import BusinessCalendar  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SLUG = "kpi-bench"
PASSWORD = "correct-horse-battery"
CHANNELS = (
    ("email", 38),
    ("chat", 27),
    ("whatsapp", 18),
    ("messenger", 6),
    ("instagram", 4),
    ("sms", 4),
    ("api", 3),
)
LANGUAGES = (("de", 40), ("en", 20), ("fr", 10), ("es", 8), ("pl", 7), ("sv", 6), ("nb", 5), ("hu", 4))


def fresh_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    return url


async def make_shop(db: Database) -> tuple[int, list[int], list[int], list[tuple[int, int]]]:
    async with db.transaction() as session:
        shop = Shop(
            slug=SLUG,
            name="KPI bench shop",
            languages=[code for code, _ in LANGUAGES],
            default_language="de",
            timezone="Europe/Berlin",
            business_hours=dict(DEFAULT_BUSINESS_HOURS),
            policies={},
        )
        session.add(shop)
        await session.flush()
        channels = [
            Channel(shop_id=shop.id, kind=k, name=k.title(), external_id=f"bench-{k}") for k, _ in CHANNELS
        ]
        teams = [Team(shop_id=shop.id, name=f"Team {i + 1}") for i in range(8)]
        session.add_all([*channels, *teams])
        await session.flush()
        agents = [
            Agent(shop_id=shop.id, email=f"agent{i}@bench.test", name=f"Agent {i:02d}") for i in range(60)
        ]
        session.add_all(agents)
        await session.flush()
        await create_agent(
            session,
            shop_id=shop.id,
            email="lead@bench.test",
            name="Lead",
            role=Role.admin,
            password=PASSWORD,
            actor=SYSTEM,
        )
        return (
            shop.id,
            [c.id for c in channels],
            [t.id for t in teams],
            [(a.id, teams[i % 8].id) for i, a in enumerate(agents)],
        )


def synthetic_contributions(
    rng: random.Random, created: datetime, dims: facts.Dims, cal: BusinessCalendar
) -> facts.Contributions:
    """One conversation's contributions, shaped like analytics.facts would compute them."""
    out: dict[tuple[facts.Dims, date], Counter[str]] = {}

    def add(at: datetime, **values: int) -> None:
        out.setdefault((dims, cal.local_date(at)), Counter()).update(values)

    add(created, conversations=1, backlog_delta=1, messages_received=1)
    if rng.random() < 0.35:
        add(created + timedelta(hours=rng.uniform(0.5, 20)), messages_received=1)
    if rng.random() < 0.97:
        automated = rng.random() < 0.2
        frt = rng.randint(20, 90) if automated else int(rng.lognormvariate(7.8, 1.2))
        answered = created + timedelta(seconds=frt)
        add(
            answered,
            first_responses=1,
            frt_seconds=frt,
            frt_business_seconds=int(frt * 0.6),
            **{frt_bucket(frt): 1},
        )
        add(answered, **({"sla_achieved": 1} if frt < 4 * 3600 else {"sla_breached": 1}))
        if rng.random() < 0.95:
            resolution = frt + (60 if automated else int(rng.lognormvariate(8.0, 1.0)))
            resolved = created + timedelta(seconds=resolution)
            reopened = rng.random() < 0.07
            handle = 0 if automated else rng.randint(120, 1800)
            one_touch = rng.random() < 0.7
            values = {
                "resolved": 1,
                "resolution_seconds": resolution,
                "resolution_business_seconds": int(resolution * 0.55),
                "reopened": int(reopened),
                "fcr_eligible": 1,
                "fcr": int(one_touch and not reopened),
                "automated": int(automated and not reopened),
                "backlog_delta": -1,
            }
            if handle:
                values.update(handled=1, handle_seconds=handle)
            add(resolved, **values)
            if reopened:
                add(resolved + timedelta(hours=rng.uniform(2, 40)), backlog_delta=0)
            if rng.random() < 0.25:
                score = rng.choices((1, 2, 3, 4, 5), weights=(4, 4, 8, 30, 54))[0]
                add(
                    resolved + timedelta(hours=2),
                    csat_responses=1,
                    csat_score_sum=score,
                    csat_satisfied=int(score >= 4),
                )
            if rng.random() < 0.08:
                ces = rng.randint(1, 7)
                add(resolved + timedelta(hours=2), ces_responses=1, ces_score_sum=ces, ces_easy=int(ces >= 5))
            if rng.random() < 0.05:
                nps = rng.randint(0, 10)
                add(
                    resolved + timedelta(days=3),
                    nps_responses=1,
                    nps_promoters=int(nps >= 9),
                    nps_passives=int(7 <= nps <= 8),
                    nps_detractors=int(nps <= 6),
                )
    return out


async def copy_rows(db: Database, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    url = db.url.replace("postgresql+psycopg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(url) as conn:
        async with conn.cursor() as cur:
            async with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
        await conn.commit()


async def build(db: Database, conversations: int, months: int, customers: int, orders: int) -> int:
    t0 = time.perf_counter()
    shop_id, channels, teams, agents = await make_shop(db)
    cal = BusinessCalendar.from_config("Europe/Berlin", DEFAULT_BUSINESS_HOURS)
    rng = random.Random(42)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30 * months)
    span = (end - start).total_seconds()
    intents = [f"intent_{i:02d}" for i in range(24)]
    intent_weights = [1 / (i + 1) for i in range(24)]
    channel_weights = [w for _, w in CHANNELS]
    deltas: dict[tuple[facts.Dims, date], Counter[str]] = {}
    url = db.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE UNLOGGED TABLE IF NOT EXISTS kpi_bench_staging (LIKE kpi_daily)")
        conn.execute("TRUNCATE kpi_bench_staging")
    columns = ["shop_id", "grain", "day", "channel_id", "agent_id", "team_id", "language", "intent", *METRICS]

    async def flush() -> None:
        rows = [
            (shop_id, int(Grain.full), day, d.channel_id, d.agent_id, d.team_id, d.language, d.intent,
             *(int(v.get(m, 0)) for m in METRICS))
            for (d, day), v in deltas.items()
        ]  # fmt: skip
        await copy_rows(db, "kpi_bench_staging", columns, rows)
        deltas.clear()

    for n in range(conversations):
        created = start + timedelta(seconds=rng.random() * span)
        if rng.random() < 0.15:
            agent_id, team_id = 0, rng.choice(teams)
        else:
            agent_id, team_id = rng.choice(agents)
        dims = facts.Dims(
            rng.choices(channels, weights=channel_weights)[0],
            agent_id,
            team_id,
            rng.choices([c for c, _ in LANGUAGES], weights=[w for _, w in LANGUAGES])[0],
            rng.choices(intents, weights=intent_weights)[0],
        )
        facts.accumulate(deltas, synthetic_contributions(rng, created, dims, cal), +1)
        if len(deltas) > 400_000:
            await flush()
        if n and n % 100_000 == 0:
            print(f"  {n} conversations… {time.perf_counter() - t0:.0f}s", flush=True)
    await flush()
    with psycopg.connect(url, autocommit=True) as conn:
        sums = ", ".join(f"SUM({m})" for m in METRICS)
        keys = "shop_id, grain, day, channel_id, agent_id, team_id, language, intent"
        conn.execute(
            f"INSERT INTO kpi_daily ({keys}, {', '.join(METRICS)}) SELECT {keys}, {sums} FROM kpi_bench_staging GROUP BY {keys}"
        )
        conn.execute("DROP TABLE kpi_bench_staging")
    await derive_grains(db, shop_id)  # the other 16 grains, by the rollup's own SQL
    # purchases: customers' buying days → transitions (the rollup's own function)
    per_customer: dict[int, Counter[date]] = {}
    for _ in range(orders):
        # half the orders from anyone (mostly one-time buyers), half from a loyal 15 %
        customer = rng.randrange(customers) if rng.random() < 0.5 else rng.randrange(customers * 15 // 100)
        placed = start + timedelta(seconds=rng.random() * span)
        per_customer.setdefault(customer, Counter())[cal.local_date(placed)] += 1
    transitions: Counter[tuple[str, date, date]] = Counter()
    for days in per_customer.values():
        transitions.update(facts.buyer_transitions(days.items()))
    await copy_rows(
        db,
        "kpi_buyer_transitions",
        ["shop_id", "kind", "day", "ref_day", "customers"],
        [(shop_id, k, d, r, n) for (k, d, r), n in transitions.items()],
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE kpi_daily")
        conn.execute("ANALYZE kpi_buyer_transitions")
        conn.execute(
            "INSERT INTO kpi_rollup_state (shop_id, event_watermark, checkpoints, last_run_at) VALUES (%s, 0, '{}', now()) ON CONFLICT (shop_id) DO UPDATE SET last_run_at = now()",
            (shop_id,),
        )
        rows = conn.execute("SELECT count(*), count(*) FILTER (WHERE grain = 9) FROM kpi_daily").fetchone()
        trans = conn.execute("SELECT count(*) FROM kpi_buyer_transitions").fetchone()
    assert rows is not None and trans is not None
    print(
        f"built: {conversations} conversations → {rows[0]} kpi_daily rows ({rows[1]} full-breakdown), "
        f"{orders} orders of {len(per_customer)} customers → {trans[0]} buyer-transition rows, "
        f"in {time.perf_counter() - t0:.0f}s"
    )
    return shop_id


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"{name:48s} p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
        f"max {ordered[-1] * 1000:7.1f} ms   (n={len(ordered)})"
    )


async def time_service(db: Database, shop_id: int, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        async with db.sessionmaker() as session:
            shop = await session.get(Shop, shop_id)
            assert shop is not None
            today = kpis.default_period(shop)[1]
            t = time.perf_counter()
            await kpis.dashboard(session, shop, today - timedelta(days=364), today, KpiFilter())
            samples.append(time.perf_counter() - t)
    return samples


def time_http(
    base: str, shop_slug: str, runs: int, agent: int, channel: int, email: str, password: str
) -> dict[str, list[float]]:
    with httpx.Client(base_url=base, timeout=60) as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": email, "password": password, "shop": shop_slug}
        )
        assert login.status_code == 200, login.text
        today = date.today()
        year = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
        cases = {
            "GET /app/kpis (12 months, HTML page)": ("/app/kpis", year),
            "GET /api/v1/kpis 12 months by month": ("/api/v1/kpis", {**year, "group_by": "month"}),
            "GET /api/v1/kpis 12 months by agent": ("/api/v1/kpis", {**year, "group_by": "agent"}),
            "GET /api/v1/kpis 12 months, channel filter, by agent": (
                "/api/v1/kpis",
                {**year, "channel": str(channel), "group_by": "agent"},
            ),
            "GET /api/v1/kpis 12 months, channel + agent filters, by language (full breakdown)": (
                "/api/v1/kpis",
                {**year, "channel": str(channel), "agent": str(agent), "group_by": "language"},
            ),
            "GET /api/v1/kpis 12 months, agent filter, by week": (
                "/api/v1/kpis",
                {**year, "agent": str(agent), "group_by": "week"},
            ),
        }
        out: dict[str, list[float]] = {}
        for name, (path, params) in cases.items():
            client.get(path, params=params)  # warm
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                r = client.get(path, params=params)
                samples.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text[:300]
            out[name] = samples
        return out


async def prepare(args: argparse.Namespace) -> tuple[str, int, int, int]:
    url = args.database_url or (
        PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{args.name}"
    )
    db = Database(url)
    try:
        shop_id = None
        try:
            async with db.transaction() as session:
                shop_id = (
                    await session.execute(select(Shop.id).where(Shop.slug == args.shop))
                ).scalar_one_or_none()
                filled = (
                    shop_id is not None
                    and (
                        await session.execute(
                            text("SELECT count(*) FROM kpi_daily WHERE shop_id = :s"), {"s": shop_id}
                        )
                    ).scalar_one()
                )
        except Exception:
            filled = False
        if args.rollup_first and shop_id is not None:
            stats = await rebuild_shop(db, shop_id)
            print(
                f"rollups rebuilt from the event log: {stats.conversations} conversations in {stats.seconds:.0f}s"
            )
        elif not (args.reuse and filled):
            await db.dispose()
            url = await asyncio.to_thread(fresh_database, args.name)
            db = Database(url)
            shop_id = await build(db, args.conversations, args.months, args.customers, args.orders)
        assert shop_id is not None
        async with db.transaction() as session:
            agent = (
                (await session.execute(select(Agent.id).where(Agent.shop_id == shop_id).order_by(Agent.id)))
                .scalars()
                .first()
            )
            channel = (
                (
                    await session.execute(
                        select(Channel.id).where(Channel.shop_id == shop_id).order_by(Channel.id)
                    )
                )
                .scalars()
                .first()
            )
        assert agent is not None and channel is not None
        return url, shop_id, agent, channel
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--name", default="storedesk_kpi_dashboard_bench")
    parser.add_argument("--shop", default=SLUG)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--customers", type=int, default=800_000)
    parser.add_argument("--orders", type=int, default=2_500_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the rollups of an earlier run")
    parser.add_argument("--email", default="lead@bench.test", help="an agent of the shop to sign in as")
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument(
        "--rollup-first", action="store_true", help="rebuild the shop's rollups from its events"
    )
    args = parser.parse_args()
    url, shop_id, agent, channel = asyncio.run(prepare(args))
    settings = Settings(
        database_url=url, secret_key="kpi-bench-secret", jobs_mode="external", data_dir=Path("/tmp/kpi-bench")
    )

    async def service_runs() -> list[float]:
        db = Database(url)
        try:
            return await time_service(db, shop_id, args.runs)
        finally:
            await db.dispose()

    results = {"dashboard() — everything /app/kpis computes, 12 months": asyncio.run(service_runs())}
    with serve_in_thread(wired_app(settings, None, realtime_pg=False)) as base:
        results.update(time_http(base, args.shop, args.runs, agent, channel, args.email, args.password))
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"
    )
    for name, samples in results.items():
        print(summary(name, samples))


if __name__ == "__main__":
    main()
