"""Benchmark: signed WhatsApp webhooks into a running storedesk on PostgreSQL (production shape).

Starts ``storedesk serve --workers 2`` (STOREDESK_JOBS_MODE=external) and ``storedesk worker`` processes
against a fresh PostgreSQL database, then:

1. **sustained** — a closed loop of ``--concurrency`` keep-alive connections for ``--seconds``: acks/s and
   ack latency (p50/p99), the API processes' CPU per ack; then how long the workers take to ingest
   everything. Two separate figures: the ack rate (the API) and the ingest rate (the workers: msgs/s while
   acks arrive, msgs/s draining the backlog, worker CPU per message), plus the end-to-end rate;
2. **paced** — an open loop at ``--rate`` webhooks/s for ``--paced-seconds``: ack p99 at that rate;
3. **burst** — ``--burst`` webhooks as fast as possible; when half are acknowledged one worker is killed
   with SIGKILL and a fresh one started. Its in-flight jobs are put back in the queue (what the runner's
   stale-job recovery does after 10 minutes) and the bench counts that every message was ingested exactly
   once: no loss, no duplicate — counted per acknowledged message id, not in bulk.

``--worker-nice 10`` starts the workers at a lower CPU priority: acknowledgements are latency-critical,
ingestion is a queue that catches up (docs/benchmarks.md has what that did on the shared bench machine).

Loopback only, bounded in count and time (``--max-minutes``); it stops everything it started.

    .venv/bin/python bench/webhook_ingest.py --pg postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
APP_SECRET = "bench-meta-app-secret"
PHONE_NUMBER_ID = "106540352242922"
SECRET_KEY = "bench-secret-key-for-storedesk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def body_for(
    n: int,
    senders: int,
    *,
    phone_number_id: str = PHONE_NUMBER_ID,
    prefix: str = "BENCH",
    text: str | None = None,
    sender_base: str = "49151",
) -> bytes:
    sender = f"{sender_base}{n % senders:08d}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [
                                {"profile": {"name": f"Bench Customer {n % senders}"}, "wa_id": sender}
                            ],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": f"wamid.{prefix}{n:09d}",
                                    "timestamp": str(1750000000 + n),
                                    "type": "text",
                                    "text": {"body": text if text is not None else f"Where is my order {n}?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def request_bytes(n: int, senders: int, port: int) -> bytes:
    body = body_for(n, senders)
    sig = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"X-Hub-Signature-256: {sig}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    sent: int = 0
    acked: list[int] = field(default_factory=list)

    def summary(self, seconds: float) -> dict[str, float]:
        lat = sorted(self.latencies)
        if not lat:
            return {"acks": 0}
        q = statistics.quantiles(lat, n=100, method="inclusive")
        return {
            "acks": len(lat),
            "seconds": round(seconds, 2),
            "acks_per_s": round(len(lat) / seconds, 1),
            "p50_ms": round(q[49] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(lat[-1] * 1000, 1),
            "errors": sum(self.errors.values()),
        }


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    writer.write(data)
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def closed_loop(
    port: int,
    numbers: range,
    senders: int,
    concurrency: int,
    stats: Stats,
    on_progress: object = None,
    deadline: float | None = None,
) -> None:
    it = iter(numbers)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in it:
                if deadline is not None and time.monotonic() > deadline:
                    return
                data = request_bytes(n, senders, port)
                t0 = time.perf_counter()
                status = await _exchange(reader, writer, data)
                dt = time.perf_counter() - t0
                stats.sent += 1
                if status == 200:
                    stats.latencies.append(dt)
                    stats.acked.append(n)
                else:
                    stats.errors[status] = stats.errors.get(status, 0) + 1
                if on_progress is not None:
                    on_progress()  # type: ignore[operator]
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def paced(port: int, numbers: range, senders: int, rate: float, stats: Stats, connections: int) -> None:
    """Open loop: request n is due at start + n/rate; latency counts from when it was due."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    start = time.perf_counter()

    async def one(i: int, n: int) -> None:
        due = start + i / rate
        conn = await pool.get()
        try:
            status = await _exchange(conn[0], conn[1], request_bytes(n, senders, port))
        finally:
            pool.put_nowait(conn)
        if status == 200:
            stats.latencies.append(time.perf_counter() - due)
        else:
            stats.errors[status] = stats.errors.get(status, 0) + 1

    tasks = []
    for i, n in enumerate(numbers):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, n)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait()[1].close()


def cpu_seconds(procs: list[subprocess.Popen[bytes]]) -> float:
    """User+system CPU of these processes and all their children (uvicorn's worker processes)."""
    total = 0.0
    for proc in procs:
        try:
            root = psutil.Process(proc.pid)
            for p in [root, *root.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM inbound_events), "
            "(SELECT count(*) FROM inbound_events WHERE status='processed'), "
            "(SELECT count(*) FROM messages WHERE direction='inbound'), "
            "(SELECT count(*) FROM jobs WHERE status IN ('queued','running')), "
            "(SELECT count(*) FROM jobs WHERE status='dead'), "
            "(SELECT count(*) FROM customers), (SELECT count(*) FROM conversations)"
        ).fetchone()
    assert row is not None
    keys = ("events", "processed", "messages", "pending_jobs", "dead_jobs", "customers", "conversations")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def wait_ingested(url: str, expected: int, limit_s: float) -> tuple[float, dict[str, int]]:
    start = time.monotonic()
    while True:
        c = counts(url)
        if c["processed"] >= expected and c["pending_jobs"] == 0:
            return time.monotonic() - start, c
        if time.monotonic() - start > limit_s:
            return time.monotonic() - start, c
        time.sleep(0.5)


async def add_whatsapp_shop(session: Any, slug: str, phone_number_id: str) -> int:
    """A shop with a WhatsApp channel for ``phone_number_id``, signed with ``APP_SECRET``."""
    from storedesk.channels.models import ChannelKind
    from storedesk.channels.service import create_channel
    from storedesk.kit.actor import SYSTEM
    from storedesk.kit.crypto import SecretBox
    from storedesk.shops.service import create_shop

    shop = await create_shop(
        session, slug=slug, name=slug.title(), languages=["en"], default_language="en", country="DE"
    )
    await create_channel(
        session,
        shop_id=shop.id,
        actor=SYSTEM,
        box=SecretBox([SECRET_KEY]),
        kind=ChannelKind.whatsapp,
        name="WhatsApp",
        external_id=phone_number_id,
        credentials={"app_secret": APP_SECRET, "access_token": "unused"},
    )
    return int(shop.id)


def setup_database(admin_url: str, name: str, existing: int, suggestions: str = "default") -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    sys.path.insert(0, str(ROOT / "src"))
    from storedesk.db.migrate import upgrade

    upgrade(url.replace("postgresql://", "postgresql+psycopg://"))

    async def seed() -> None:
        from storedesk.db.session import Database

        db = Database(url.replace("postgresql://", "postgresql+psycopg://"))
        async with db.transaction() as session:
            shop_id = await add_whatsapp_shop(session, "bench", PHONE_NUMBER_ID)
            if suggestions == "off":
                from storedesk.shops.models import Shop

                shop = await session.get(Shop, shop_id)
                assert shop is not None
                shop.policies = {**shop.policies, "assistant": {"suggestions": False}}
        await db.dispose()

    asyncio.run(seed())
    # a shop that has been running a while: existing customers, and planner statistics that know it
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customers (shop_id, name, phone, consents, segments, created_at, updated_at) "
            "SELECT 1, 'Existing ' || g, '+4930' || lpad(g::text, 8, '0'), '{}', '[]', now(), now() "
            "FROM generate_series(1, %s) g",
            (existing,),
        )
        conn.execute(
            "INSERT INTO customer_identities (shop_id, customer_id, kind, value, created_at, updated_at) "
            "SELECT 1, id, 'phone', phone, now(), now() FROM customers"
        )
        conn.execute("ANALYZE")
    return url


def start_processes(
    url: str, port: int, workers: int, worker_concurrency: int, nice: int
) -> tuple[subprocess.Popen[bytes], list[subprocess.Popen[bytes]], dict[str, str]]:
    env = {
        **os.environ,
        "STOREDESK_DATABASE_URL": url,
        "STOREDESK_JOBS_MODE": "external",
        "STOREDESK_SECRET_KEY": SECRET_KEY,
        "STOREDESK_LOG_LEVEL": "warning",
        "STOREDESK_DATA_DIR": str(ROOT / "bench" / "out" / "data"),
    }
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    log = (ROOT / "bench" / "out" / "webhook_ingest.api.log").open("wb")
    api = subprocess.Popen(
        [str(VENV_BIN / "storedesk"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    procs = [start_worker(env, worker_concurrency, nice) for _ in range(workers)]
    # both API processes answer (a loaded machine may need a while to start them)
    deadline, healthy = time.monotonic() + 120, 0
    while time.monotonic() < deadline and healthy < 6:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                healthy += r.status == 200
        except OSError:
            time.sleep(0.3)
    return api, procs, env


def start_worker(env: dict[str, str], concurrency: int, nice: int = 0) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(VENV_BIN / "storedesk"), "worker", "--concurrency", str(concurrency)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,
    )


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, then SIGKILL what has not stopped within 15 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def requeue_jobs_of(url: str, pid: int) -> int:
    """What the runner's stale-job recovery does for a dead worker (after 10 minutes), done now."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(
            "UPDATE jobs SET status='queued', locked_at=NULL, locked_by=NULL "
            "WHERE status='running' AND locked_by LIKE %s RETURNING id",
            (f"%:{pid}:%",),
        )
        return len(cur.fetchall())


def verify(url: str, acked: list[int], first: int, last: int) -> dict[str, Any]:
    """Every acknowledged message of the burst is stored exactly once: counted per provider id."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT provider_message_id, count(*) FROM messages WHERE channel_id = 1 "
            "AND provider_message_id BETWEEN %s AND %s GROUP BY provider_message_id",
            (f"wamid.BENCH{first:09d}", f"wamid.BENCH{last:09d}"),
        ).fetchall()
        events = conn.execute(
            "SELECT dedupe_key, status FROM inbound_events WHERE dedupe_key BETWEEN %s AND %s",
            (f"1:wamid.BENCH{first:09d}", f"1:wamid.BENCH{last:09d}"),
        ).fetchall()
        jobs = conn.execute(
            "SELECT name, status, count(*) FROM jobs GROUP BY name, status ORDER BY name, status"
        ).fetchall()
    stored = {str(pid): int(n) for pid, n in rows}
    status = {str(key).split(":", 1)[1]: str(st) for key, st in events}
    ids = [f"wamid.BENCH{n:09d}" for n in acked]
    return {
        "acknowledged": len(ids),
        "events": len(status),
        "events_processed": sum(1 for st in status.values() if st == "processed"),
        # acknowledged, yet no raw event stored: lost at the door
        "acknowledged_without_event": sum(1 for i in ids if i not in status),
        # stored and still waiting for a worker (not lost: the bench stopped waiting)
        "not_yet_ingested": sum(1 for i in ids if status.get(i) == "received"),
        "messages": sum(stored.values()),
        "missing": sum(1 for i in ids if i not in stored),
        "duplicates": sum(n - 1 for n in stored.values()),
        "stored_but_not_acknowledged": len(set(stored) - set(ids)),
        # every job of the database by name and status (all done: none lost, none dead)
        "jobs": {f"{name}:{st}": int(c) for name, st, c in jobs},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pg", default=os.environ.get("STOREDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--database", default="storedesk_bench_ingest")
    parser.add_argument("--workers", type=int, default=2, help="storedesk worker processes")
    parser.add_argument("--worker-concurrency", type=int, default=8)
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="CPU priority offset of the workers (e.g. 10; 0: as the API)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="open connections (closed loop)")
    parser.add_argument("--seconds", type=float, default=20.0, help="sustained phase length")
    parser.add_argument("--rate", type=float, default=1000.0, help="paced phase: webhooks per second")
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=50_000)
    parser.add_argument("--senders", type=int, default=1000, help="distinct customers")
    parser.add_argument(
        "--existing-customers", type=int, default=20_000, help="customers the shop already has"
    )
    parser.add_argument("--max-minutes", type=float, default=20.0)
    parser.add_argument(
        "--phases",
        default="sustained,paced,burst",
        help="which phases to run, comma-separated (e.g. burst: only the burst with the worker kill)",
    )
    parser.add_argument(
        "--suggestions",
        choices=["default", "off"],
        default="default",
        help="the bench shop's assistant: default (suggest only, as a new shop) or off",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "webhook_ingest.json")
    args = parser.parse_args()
    hard_deadline = time.monotonic() + args.max_minutes * 60
    url = setup_database(args.pg, args.database, args.existing_customers, args.suggestions)
    port = free_port()
    api, workers, env = start_processes(url, port, args.workers, args.worker_concurrency, args.worker_nice)
    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_average_at_start": os.getloadavg(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    try:
        phases = set(args.phases.split(","))
        n = 0
        # 1. sustained, closed loop
        if "sustained" in phases:
            stats = Stats()
            api_cpu0, worker_cpu0 = cpu_seconds([api]), cpu_seconds(workers)
            t0 = time.monotonic()
            asyncio.run(
                closed_loop(
                    port,
                    range(n, 10_000_000),
                    args.senders,
                    args.concurrency,
                    stats,
                    deadline=t0 + args.seconds,
                )
            )
            elapsed = time.monotonic() - t0
            api_cpu, worker_cpu_acks = cpu_seconds([api]) - api_cpu0, cpu_seconds(workers) - worker_cpu0
            load_during = os.getloadavg()
            n = stats.sent
            during = counts(url)["processed"]
            report["sustained"] = stats.summary(elapsed) | {
                "api_cpu_ms_per_ack": round(api_cpu * 1000 / max(1, len(stats.latencies)), 2),
                "api_cpu_cores_busy": round(api_cpu / elapsed, 2),
                "load_average_after_acks": load_during,
            }
            drain_s, c = wait_ingested(url, n, max(1.0, hard_deadline - time.monotonic()))
            worker_cpu = cpu_seconds(workers) - worker_cpu0
            report["sustained"] |= {
                "ingested": c["processed"],
                "ingest_msgs_per_s_while_acking": round(during / elapsed, 1),
                "ingest_msgs_per_s_draining": round((c["processed"] - during) / max(drain_s, 0.001), 1),
                "worker_cpu_ms_per_msg": round(worker_cpu * 1000 / max(1, c["processed"]), 1),
                "worker_cpu_share_while_acking": round(worker_cpu_acks / max(worker_cpu, 0.001), 2),
                "ingest_done_s_after_last_ack": round(drain_s, 1),
                "end_to_end_msgs_per_s": round(c["processed"] / (elapsed + drain_s), 1),
            }
            print("sustained", json.dumps(report["sustained"]), flush=True)

        # 2. paced, open loop
        if "paced" in phases:
            stats = Stats()
            count = int(args.rate * args.paced_seconds)
            t0 = time.monotonic()
            asyncio.run(
                paced(
                    port,
                    range(n, n + count),
                    args.senders,
                    args.rate,
                    stats,
                    connections=args.concurrency * 2,
                )
            )
            report["paced"] = {"target_per_s": args.rate} | stats.summary(time.monotonic() - t0)
            n += count
            drain_s, c = wait_ingested(url, n, max(1.0, hard_deadline - time.monotonic()))
            print("paced", json.dumps(report["paced"]), flush=True)

        # 3. burst with a worker killed halfway
        if "burst" in phases:
            first = n
            stats = Stats()
            killed: dict[str, int] = {}

            def progress() -> None:
                if not killed and len(stats.latencies) >= args.burst // 2:
                    victim = workers[0]
                    victim.send_signal(signal.SIGKILL)
                    killed["pid"] = victim.pid
                    workers[0] = start_worker(env, args.worker_concurrency, args.worker_nice)

            t0 = time.monotonic()
            asyncio.run(
                closed_loop(
                    port,
                    range(first, first + args.burst),
                    args.senders,
                    args.concurrency * 2,
                    stats,
                    on_progress=progress,
                    deadline=hard_deadline,
                )
            )
            elapsed = time.monotonic() - t0
            n = first + stats.sent
            workers[0].poll()
            requeued = requeue_jobs_of(url, killed.get("pid", -1))
            drain_s, c = wait_ingested(url, n, max(1.0, hard_deadline - time.monotonic()))
            report["burst"] = (
                stats.summary(elapsed)
                | {
                    "killed_worker_pid": killed.get("pid"),
                    "jobs_requeued_from_killed_worker": requeued,
                    "ingest_done_s_after_last_ack": round(drain_s, 1),
                    "end_to_end_msgs_per_s": round(stats.sent / (elapsed + drain_s), 1),
                    "dead_jobs": c["dead_jobs"],
                }
                | {"check": verify(url, stats.acked, first, first + args.burst - 1)}
            )
            print("burst", json.dumps(report["burst"]), flush=True)
        report["totals"] = counts(url)
    finally:
        stop_processes([api, *workers])
        report["load_average_at_end"] = os.getloadavg()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    check = report.get("burst", {}).get("check", {}) if isinstance(report.get("burst"), dict) else {}
    return 0 if check and check.get("missing") == 0 and check.get("duplicates") == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
