"""Server time of the agent workspace's heaviest pages: the inbox at scale and a long conversation.

    .venv/bin/python bench/ui_pages.py --conversations 1000000            # builds storedesk_uibench once
    .venv/bin/python bench/ui_pages.py --database postgresql://postgres@127.0.0.1/storedesk_scale

Without ``--database`` it creates (once) a PostgreSQL database ``storedesk_uibench`` (other sizes:
``storedesk_uibench_<n>``) holding one shop
with ``--conversations`` conversations (10 % open, spread over agents, channels, priorities and
languages; one message each) plus one conversation with 500 messages, generated in SQL. Pages are
requested in process through the ASGI app (no network), so the figures are server time: routing,
authentication, queries and template rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.conversations.models import PRIORITY_RANK_SQL
from storedesk.db.migrate import upgrade
from storedesk.kit.pagination import encode_cursor
from storedesk.web.views import PAGE_SIZE

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "storedesk_uibench"
PASSWORD = "bench-password-1"


def _exists(name: str) -> bool:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def build(n: int) -> str:
    name = BENCH_DB if n == 1_000_000 else f"{BENCH_DB}_{n}"
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    if _exists(name):
        upgrade(url.replace("postgresql://", "postgresql+psycopg://"), "heads")  # newer migrations
        return url
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(url.replace("postgresql://", "postgresql+psycopg://"), "heads")
    from storedesk.agents.security import hash_password

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO shops (slug, name, languages, default_language, currency, timezone, order_number_pattern,"
            " business_hours, policies, conversation_seq, created_at, updated_at) VALUES ('bench', 'Bench shop',"
            " '[\"en\",\"de\"]', 'en', 'EUR', 'Europe/Berlin', '#?\\d{4,8}', '{}', '{}', %s, now(), now())",
            (n + 1,),
        )
        conn.execute(
            "INSERT INTO agents (shop_id, email, name, password_hash, role, languages, is_active, failed_logins,"
            " created_at, updated_at) SELECT 1, 'agent' || g || '@bench.test', 'Agent ' || g, %s,"
            " CASE WHEN g = 1 THEN 'admin' ELSE 'agent' END, '[]', true, 0, now(), now()"
            " FROM generate_series(1, 20) g",
            (hash_password(PASSWORD),),
        )
        conn.execute(
            "INSERT INTO channels (shop_id, kind, name, external_id, settings, is_active, created_at, updated_at)"
            " SELECT 1, k, initcap(k), 'bench-' || k, '{}', true, now(), now()"
            " FROM unnest(ARRAY['email','chat','whatsapp','sms']) k"
        )
        conn.execute(
            "INSERT INTO customers (shop_id, name, email, language, country, consents, segments, created_at,"
            " updated_at) SELECT 1, 'Customer ' || g, 'c' || g || '@example.com', CASE WHEN mod(g, 3) = 0 THEN 'de'"
            " ELSE 'en' END, 'DE', '{}', '[]', now(), now() FROM generate_series(1, %s) g",
            (max(1, n // 5),),
        )
        conn.execute(
            "INSERT INTO conversations (shop_id, number, customer_id, channel_id, subject, status, priority,"
            " assignee_id, language, last_activity_at, waiting_since, last_message_at, reopened_count,"
            " message_count, resolved_by_assistant, created_at, updated_at)"
            " SELECT 1, g, 1 + (mod(g, %s)), 1 + (mod(g, 4)), 'Question about order ' || (100000 + g),"
            " CASE WHEN mod(g, 10) = 0 THEN 'open' WHEN mod(g, 10) = 1 THEN 'pending' ELSE 'resolved' END,"
            " (ARRAY['low','normal','normal','high','urgent'])[1 + mod(g, 5)],"
            " CASE WHEN mod(g, 7) = 0 THEN NULL ELSE 1 + (mod(g, 20)) END, CASE WHEN mod(g, 3) = 0 THEN 'de' ELSE 'en' END,"
            " now() - (g || ' seconds')::interval, CASE WHEN mod(g, 10) = 0 THEN now() - (g || ' seconds')::interval"
            " END, now() - (g || ' seconds')::interval, 0, 1, false, now() - (g || ' seconds')::interval,"
            " now() FROM generate_series(1, %s) g",
            (max(1, n // 5), n),
        )
        conn.execute(
            "INSERT INTO messages (shop_id, conversation_id, channel_id, direction, author_type, text, attachments,"
            " meta, delivery_status, created_at) SELECT 1, c.id, c.channel_id, 'inbound', 'customer',"
            " 'Hello, where is my order ' || (100000 + c.number) || '? It has been a few days.', '[]', '{}',"
            " 'received', c.created_at FROM conversations c"
        )
        conn.execute(
            "INSERT INTO conversations (shop_id, number, customer_id, channel_id, subject, status, priority,"
            " language, last_activity_at, reopened_count, message_count, resolved_by_assistant, created_at,"
            " updated_at) VALUES (1, %s, 1, 1, 'A very long thread', 'open', 'high', 'en', now(), 0, 500,"
            " false, now(), now())",
            (n + 1,),
        )
        conn.execute(
            "INSERT INTO messages (shop_id, conversation_id, channel_id, direction, author_type, author_agent_id,"
            " text, attachments, meta, delivery_status, created_at)"
            " SELECT 1, (SELECT id FROM conversations WHERE number = %s), 1,"
            " CASE WHEN mod(g, 2) = 0 THEN 'inbound' ELSE 'outbound' END,"
            " CASE WHEN mod(g, 2) = 0 THEN 'customer' ELSE 'agent' END, CASE WHEN mod(g, 2) = 0 THEN NULL ELSE 1 END,"
            " 'Message ' || g || ': ' || repeat('lorem ipsum dolor sit amet ', 8), '[]', '{}',"
            " CASE WHEN mod(g, 2) = 0 THEN 'received' ELSE 'delivered' END, now() - ((500 - g) || ' minutes')::interval"
            " FROM generate_series(1, 500) g",
            (n + 1,),
        )
        conn.execute("ANALYZE")
    print(f"built {n} conversations in {time.perf_counter() - started:.0f} s")
    return url


DEEP_PAGE = 500  # keyset paging: as cheap as page 1 (the offset paging before stopped at page 200)
_DEEP_SQL = {
    "activity": "SELECT last_activity_at, id FROM conversations WHERE status = 'open'"
    " ORDER BY last_activity_at DESC, id DESC OFFSET %s LIMIT 1",
    "priority": f"SELECT ({PRIORITY_RANK_SQL}), last_activity_at, id FROM conversations WHERE status = 'open'"
    f" ORDER BY ({PRIORITY_RANK_SQL}), last_activity_at DESC, id DESC OFFSET %s LIMIT 1",
    "waiting": "SELECT waiting_since, id FROM conversations WHERE status = 'open'"
    " ORDER BY waiting_since ASC NULLS LAST, id OFFSET %s LIMIT 1",
}


def _deep_cursor(conn: Any, sort: str, page: int) -> str | None:
    """The cursor the "Next" link of page ``page - 1`` carries (the last row before the page), found once
    with OFFSET so the run does not have to click through every page."""
    row = conn.execute(_DEEP_SQL[sort], ((page - 1) * PAGE_SIZE - 1,)).fetchone()
    if row is None:
        return None
    values = [v.isoformat() if hasattr(v, "isoformat") else v for v in row]
    return encode_cursor([sort, "n", *values])


def _deep_path(sort: str, deep: dict[str, str | None]) -> str:
    cursor = deep.get(sort)
    return f"/app/inbox?sort={sort}&cursor={cursor}" if cursor else ""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(
    url: str,
    runs: int,
    email: str,
    password: str,
    sql_times: bool = False,
    extra: dict[str, str] | None = None,
    only: str | None = None,
) -> dict[str, Any]:
    settings = Settings(
        data_dir=Path("/tmp/storedesk-uibench"),
        database_url=url,
        secret_key="bench-secret-key-0123456789",
        jobs_mode="external",
    )
    app = create_app(settings, run_jobs=False)
    results: dict[str, Any] = {}
    timings_sql: list[tuple[float, str]] = []
    if sql_times:
        from sqlalchemy import event

        engine = app.state.db.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            timings_sql.append(((time.perf_counter() - conn.info["t0"]) * 1000, " ".join(statement.split())))

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            page = await client.get("/app/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            r = await client.post(
                "/app/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
            )
            assert r.status_code == 303, r.text[:500]
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
                row = conn.execute(
                    "SELECT id FROM conversations WHERE message_count = 500 ORDER BY id DESC LIMIT 1"
                ).fetchone()
                long_id = int(row[0]) if row else None  # scale databases have none: page skipped
                total = conn.execute("SELECT count(*) FROM conversations").fetchone()
                deep = {
                    sort: _deep_cursor(conn, sort, DEEP_PAGE) for sort in ("activity", "priority", "waiting")
                }
            pages = {
                "inbox (all open, last activity)": "/app/inbox",
                "inbox (mine, waiting longest)": "/app/inbox?view=mine&sort=waiting",
                "inbox (unassigned, priority)": "/app/inbox?view=unassigned&sort=priority",
                "inbox (any status, German)": "/app/inbox?status=any&lang=de",
                "conversation (500 messages)": f"/app/c/{long_id}" if long_id else "",
                f"inbox page {DEEP_PAGE} (all open, activity)": _deep_path("activity", deep),
                f"inbox page {DEEP_PAGE} (all open, priority)": _deep_path("priority", deep),
                f"inbox page {DEEP_PAGE} (all open, waiting)": _deep_path("waiting", deep),
                "search (order number)": "/app/search?q=100500",
                "search (word)": "/app/search?q=lorem",
                **(extra or {}),
            }
            for name, path in pages.items():
                if not path or (only and only not in name):
                    continue
                r = await client.get(path)
                assert r.status_code == 200, (path, r.status_code)
                if sql_times:
                    timings_sql.clear()
                    await client.get(path)
                    print(
                        f"--- {name}: {len(timings_sql)} statements, {sum(t for t, _ in timings_sql):.1f} ms"
                    )
                    for t, sql in timings_sql:
                        print(f"  {t:7.1f} ms  {sql[:300]}")
                timings, cpu = [], []
                for _ in range(runs):
                    t0, c0 = time.perf_counter(), time.process_time()
                    r = await client.get(path)
                    timings.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                    assert r.status_code == 200
                results[name] = {
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": round(pct(timings, 95), 1),
                    "cpu_p50_ms": round(statistics.median(cpu), 1),
                    "rows": len(re.findall(r"data-row data-id=", r.text)),
                    "bytes": len(r.content),
                }
            results["conversations"] = int(total[0]) if total else 0
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", help="an existing storedesk PostgreSQL database (e.g. storedesk_scale)")
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--email", default="agent1@bench.test", help="scale databases: agent1@scale.scale.test"
    )
    parser.add_argument("--password", default=PASSWORD, help="scale databases: scale-password-1")
    parser.add_argument(
        "--sql-times", action="store_true", help="print each page's statements with their time"
    )
    parser.add_argument(
        "--page", action="append", default=[], metavar="NAME=PATH", help="also measure this page (repeatable)"
    )
    parser.add_argument("--only", help="measure only the pages whose name contains this text")
    args = parser.parse_args()
    url = args.database or build(args.conversations)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    url = url.replace("postgresql://", "postgresql+psycopg://")
    extra = dict(p.split("=", 1) for p in args.page)
    results = asyncio.run(
        measure(url, args.runs, args.email, args.password, args.sql_times, extra, args.only)
    )
    print(f"{results.pop('conversations')} conversations; {args.runs} requests per page")
    print(f"load average before the run: {load}")
    print(f"{'page':44} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'rows':>5} {'KB':>6}")
    for name, r in results.items():
        print(
            f"{name:44} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['cpu_p50_ms']:8.1f} {r['rows']:5}"
            f" {r['bytes'] / 1024:6.0f}"
        )
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
