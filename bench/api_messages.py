"""Benchmark: creating messages through the API (POST /api/v1/conversations/{id}/messages).

Targets (issue 2): ≥ 500 msg/s on SQLite, ≥ 1,000 msg/s on PostgreSQL with 2 API processes,
p99 ≤ 30 ms. Drives a real `storedesk serve` with wrk (Debian package) over loopback, bounded in time.

    python bench/api_messages.py --db sqlite --duration 20
    python bench/api_messages.py --db postgresql --workers 2 --duration 20

Jobs run in a separate `storedesk worker` (STOREDESK_JOBS_MODE=external) unless --no-worker, so the
figure is the API's own cost of accepting a reply: auth, checks, the message, the conversation's KPI
fields, the event and the outbox row, committed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_shop  # noqa: E402

from storedesk.db.migrate import upgrade  # noqa: E402
from storedesk.db.session import Database  # noqa: E402

LUA = """
local n = %(n)d
local first = %(first)d
request = function()
  local id = first + math.random(0, n - 1)
  return wrk.format("POST", "/api/v1/conversations/" .. id .. "/messages", nil,
    '{"text": "Your parcel left our warehouse today and should arrive on Thursday."}')
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def prepare(url: str, conversations: int) -> tuple[str, int]:
    db = Database(url)
    shop = await make_shop(db, "bench")
    from storedesk.conversations.service import open_conversation
    from storedesk.kit.actor import Actor

    first = 0
    async with db.transaction() as s:
        for _ in range(conversations):
            c = await open_conversation(
                s,
                shop_id=shop.id,
                actor=Actor("system"),
                customer_id=shop.customer_id,
                channel_id=shop.channel_id,
            )
            first = first or c.id
    await db.dispose()
    return shop.tokens["agent"], first


def _cpu_seconds(server: psutil.Process) -> float:
    """CPU time (user + system) of the API server and its worker processes: unlike wall-clock figures,
    hardly affected by what else runs on the machine."""
    total = 0.0
    for p in [server, *server.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def wait_up(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not come up")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--workers", type=int, default=1, help="API processes")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=int, default=20, help="seconds (bounded)")
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--no-worker", action="store_true", help="do not run a job worker alongside")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install wrk")

    tmp = Path(tempfile.mkdtemp(prefix="sd-bench-"))
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    else:
        name = f"storedesk_bench_{os.getpid()}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    upgrade(url)
    token, first = asyncio.run(prepare(url, args.conversations))

    port = free_port()
    env = {
        **os.environ,
        "STOREDESK_DATABASE_URL": url,
        "STOREDESK_DATA_DIR": str(tmp),
        "STOREDESK_SECRET_KEY": "bench-secret",
        "STOREDESK_JOBS_MODE": "external",
        "STOREDESK_LOG_LEVEL": "warning",
        "STOREDESK_SMTP_PORT": "0",  # no email intake (its port may be taken)
    }
    exe = str(Path(sys.executable).with_name("storedesk"))
    procs = [subprocess.Popen([exe, "serve", "--port", str(port), "--workers", str(args.workers)], env=env)]
    if not args.no_worker:
        procs.append(subprocess.Popen([exe, "worker", "--concurrency", "8"], env=env))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base)
        server = psutil.Process(procs[0].pid)
        cpu_before = _cpu_seconds(server)
        script = tmp / "post.lua"
        script.write_text(LUA % {"n": args.conversations, "first": first})
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(args.connections),
                "-d",
                f"{args.duration}s",
                "--latency",
                "-s",
                str(script),
                "-H",
                f"Authorization: Bearer {token}",
                "-H",
                "Content-Type: application/json",
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=args.duration + 30,
        ).stdout
        cpu_used = _cpu_seconds(server) - cpu_before
        print(out)
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)  # type: ignore[union-attr]
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(
            f"RESULT db={args.db} api_workers={args.workers} connections={args.connections} "
            f"rps={rps:.0f} p99={p99} non2xx={non2xx.group(1) if non2xx else 0} "
            f"server_cpu_ms_per_request={cpu_used / total * 1000:.2f}"
        )
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
        if args.db == "postgresql":
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
