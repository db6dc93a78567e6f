"""Benchmark: first page of the conversation list (GET /api/v1/conversations) with filters.

Target (issue 2): p95 ≤ 50 ms at 1M conversations. Runs a real `storedesk serve` against an existing
scale database (see bench/generate_scale.py) and times sequential requests over loopback.

    python bench/conversation_list.py --database-url postgresql://postgres@127.0.0.1:5432/storedesk_scale \
        --shop-slug scale --runs 60
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from storedesk.config import normalise_database_url  # noqa: E402
from storedesk.db.session import Database  # noqa: E402


async def token_for(url: str, slug: str) -> tuple[str, dict[str, int]]:
    from sqlalchemy import select

    from storedesk.agents.models import Agent
    from storedesk.agents.service import create_api_token
    from storedesk.channels.models import Channel
    from storedesk.shops.models import Shop

    db = Database(url)
    async with db.transaction() as s:
        shop = (await s.execute(select(Shop).where(Shop.slug == slug))).scalar_one()
        agent = (
            await s.execute(select(Agent).where(Agent.shop_id == shop.id).order_by(Agent.id).limit(1))
        ).scalar_one()
        channel_id = (
            await s.execute(select(Channel.id).where(Channel.shop_id == shop.id).limit(1))
        ).scalar_one()
        _, secret = await create_api_token(s, agent=agent, name="bench")
    await db.dispose()
    return secret, {"agent_id": agent.id, "channel_id": channel_id}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--shop-slug", default="scale")
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--port", type=int, default=0, help="default: a free loopback port")
    args = ap.parse_args()
    url = normalise_database_url(args.database_url)
    if not args.port:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = int(sock.getsockname()[1])
    token, ids = asyncio.run(token_for(url, args.shop_slug))
    env = {
        **os.environ,
        "STOREDESK_DATABASE_URL": url,
        "STOREDESK_DATA_DIR": tempfile.mkdtemp(prefix="sd-list-"),
        "STOREDESK_SECRET_KEY": "bench-secret",
        "STOREDESK_JOBS_MODE": "external",
        "STOREDESK_LOG_LEVEL": "warning",
        "STOREDESK_SMTP_PORT": "0",  # no email intake (its port may be taken)
    }
    exe = str(Path(sys.executable).with_name("storedesk"))
    server = subprocess.Popen([exe, "serve", "--port", str(args.port)], env=env)
    base = f"http://127.0.0.1:{args.port}"
    queries = {
        "all, newest activity": "",
        "open": "status=open",
        "open+pending": "status=open&status=pending",
        "mine": "assignee=me",
        "unassigned open": "assignee=none&status=open",
        "channel": f"channel_id={ids['channel_id']}",
        "language de": "language=de",
        "priority urgent": "priority=urgent",
        "tag damaged": "tag=damaged",
        "open + language + channel": f"status=open&language=de&channel_id={ids['channel_id']}",
    }
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            deadline = time.monotonic() + 120  # importing the app takes a while on a loaded machine
            while True:
                try:
                    if c.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not come up") from None
                    time.sleep(0.2)
            print(f"{'query':32} {'items':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            worst = 0.0
            for label, q in queries.items():
                times = []
                for i in range(args.runs + 3):
                    t = time.perf_counter()
                    r = c.get(f"/api/v1/conversations?limit=25&{q}")
                    dt = (time.perf_counter() - t) * 1000
                    r.raise_for_status()
                    if i >= 3:
                        times.append(dt)
                times.sort()
                p95 = times[int(len(times) * 0.95) - 1]
                worst = max(worst, p95)
                print(
                    f"{label:32} {len(r.json()['items']):>5} {statistics.median(times):>8.1f} {p95:>8.1f} {times[-1]:>8.1f}"
                )
            print(f"RESULT worst p95 = {worst:.1f} ms over {len(queries)} filters x {args.runs} requests")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
