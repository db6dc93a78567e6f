"""Benchmark: a customer's message → the agent's live event (SSE) → the agent's screen (Chromium).

Production shape on PostgreSQL, like bench/webhook_ingest.py: ``storedesk serve --workers 2`` and one
``storedesk worker``. An agent of the shop is signed in and
holds the live stream the agent UI uses (``GET /app/events``, SSE). Then:

1. **background** — another shop receives signed WhatsApp webhooks at ``--background-rate`` per second
   for the whole run (the API processes and the worker are busy, as on a real day);
2. **SSE** — ``--samples`` customer messages to the agent's shop, one after another, alternating a signed
   WhatsApp webhook (acknowledged, then ingested by the worker) and a chat widget message (stored in the
   request): the time from sending to the ``message.received`` event arriving on the agent's stream;
3. **screen** — ``--browser-samples`` WhatsApp messages while Chromium shows the conversation
   (``/app/c/{id}``, which re-fetches its timeline on the stream's event): the time from sending until the
   message's text is in the page's DOM (a MutationObserver stamps the moment).

Latencies are measured on one machine with one clock (``time.time()`` in Python and ``Date.now()`` in
the page). Loopback only, bounded in time (``--max-minutes``); it stops everything it started.

    .venv/bin/python bench/live_latency.py --samples 300 --browser-samples 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from webhook_ingest import (
    APP_SECRET,
    ROOT,
    add_whatsapp_shop,
    body_for,
    free_port,
    setup_database,
    start_processes,
    stop_processes,
)

BUSY_PHONE_NUMBER_ID = "106540352240000"
AGENT_EMAIL, AGENT_PASSWORD = "agent@bench.example", "correct-horse-battery"
CHROMIUM = "/usr/bin/chromium"


def seed_live(url: str) -> None:
    """The agent of the measured shop, and a second (busy) shop for the background traffic."""

    async def seed() -> None:
        from storedesk.agents.models import Role
        from storedesk.agents.service import create_agent
        from storedesk.db.session import Database
        from storedesk.kit.actor import SYSTEM

        db = Database(url.replace("postgresql://", "postgresql+psycopg://"))
        async with db.transaction() as session:
            await create_agent(
                session,
                shop_id=1,
                email=AGENT_EMAIL,
                name="Bench Agent",
                role=Role.agent,
                password=AGENT_PASSWORD,
                actor=SYSTEM,
            )
            await add_whatsapp_shop(session, "busy", BUSY_PHONE_NUMBER_ID)
        await db.dispose()

    asyncio.run(seed())


def signed(body: bytes) -> dict[str, str]:
    sig = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-hub-signature-256": sig}


def quantiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"n": len(values)}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(max(values), 1),
    }


async def sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/app/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no csrf token on the login page"
    r = await client.post(
        "/app/login", data={"email": AGENT_EMAIL, "password": AGENT_PASSWORD, "csrf_token": token.group(1)}
    )
    assert r.status_code in (200, 303), r.text[:300]
    assert "storedesk_session" in client.cookies, "not signed in"


async def read_stream(client: httpx.AsyncClient, out: asyncio.Queue[tuple[float, dict[str, Any]]]) -> None:
    """The agent UI's live stream: every ``inbox`` frame, stamped when its last line arrived."""
    async with client.stream("GET", "/app/events", timeout=None) as r:
        assert r.status_code == 200, r.status_code
        name = ""
        async for line in r.aiter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == "inbox":
                out.put_nowait((time.time(), json.loads(line[6:])))


async def next_received(
    events: asyncio.Queue[tuple[float, dict[str, Any]]], within: float
) -> tuple[float, dict[str, Any]] | None:
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            at, data = await asyncio.wait_for(events.get(), timeout=left)
        except TimeoutError:
            return None
        if data.get("type") == "message.received":
            return at, data
    return None


def drain(events: asyncio.Queue[tuple[float, dict[str, Any]]]) -> None:
    while not events.empty():
        events.get_nowait()


async def background(base: str, rate: float, stop: asyncio.Event, sent: list[int], failed: list[str]) -> None:
    """Open loop: signed WhatsApp webhooks to the busy shop at ``rate`` per second."""
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        start, n = time.monotonic(), 0
        tasks: set[asyncio.Task[Any]] = set()

        async def one(i: int) -> None:
            body = body_for(i, 500, phone_number_id=BUSY_PHONE_NUMBER_ID, prefix="BUSY", sender_base="49170")
            try:
                r = await client.post("/webhooks/whatsapp", content=body, headers=signed(body))
            except httpx.HTTPError as exc:  # a keep-alive connection closed under us: counted
                failed.append(type(exc).__name__)
                return
            if r.status_code == 200:
                sent.append(i)
            else:
                failed.append(str(r.status_code))

        while not stop.is_set():
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks, return_exceptions=True)


async def measure(base: str, args: argparse.Namespace, report: dict[str, Any]) -> None:
    events: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
    agent = httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False)
    customers = httpx.AsyncClient(base_url=base, timeout=30)
    await sign_in(agent)
    reader = asyncio.create_task(read_stream(agent, events))
    stop = asyncio.Event()
    background_sent: list[int] = []
    background_failed: list[str] = []
    busy = asyncio.create_task(
        background(base, args.background_rate, stop, background_sent, background_failed)
    )
    try:
        await asyncio.sleep(2.0)  # the stream is open, the background traffic flowing
        # every visitor writes from its own loopback address, as visitors do from their own networks
        browsers = [
            httpx.AsyncClient(
                base_url=base,
                timeout=30,
                transport=httpx.AsyncHTTPTransport(local_address=f"127.0.0.{10 + v}"),
            )
            for v in range(args.visitors)
        ]
        visitors = []
        for client in browsers:
            r = await client.post("/widget/bench/session", json={"token": None, "language": "en"})
            assert r.status_code == 200, r.text
            visitors.append(r.json()["token"])
        limited = 0
        sse: dict[str, list[float]] = {"whatsapp": [], "widget": []}
        answer: dict[str, list[float]] = {"whatsapp": [], "widget": []}
        lost: dict[str, int] = {"whatsapp": 0, "widget": 0}
        mismatched = 0
        conversation_of: dict[int, int] = {}
        load0 = os.getloadavg()
        t_start = time.monotonic()

        def summary() -> dict[str, Any]:
            return {
                "all": quantiles(sse["whatsapp"] + sse["widget"]),
                "whatsapp_webhook": quantiles(sse["whatsapp"]),
                "widget_message": quantiles(sse["widget"]),
                "whatsapp_ack": quantiles(answer["whatsapp"]),
                "widget_response": quantiles(answer["widget"]),
                "no_event_within_timeout": lost,
                "event_for_another_conversation": mismatched,
                "widget_rate_limited_not_counted": limited,
                "seconds": round(time.monotonic() - t_start, 1),
                "load_average_before": load0,
                "load_average_after": os.getloadavg(),
            }

        for i in range(args.samples):
            kind = "whatsapp" if i % 2 == 0 else "widget"
            drain(events)
            t0 = time.time()
            if kind == "whatsapp":
                sender = i // 2 % args.senders
                body = body_for(sender, args.senders, prefix=f"LIVE{i:04d}x", text=f"Live check {i}")
                r = await customers.post("/webhooks/whatsapp", content=body, headers=signed(body))
                assert r.status_code == 200, r.text
                expected = conversation_of.get(sender)
            else:
                v = i // 2 % len(visitors)
                r = await browsers[v].post(
                    "/widget/bench/messages",
                    json={"token": visitors[v], "text": f"Live check {i}", "client_id": f"live-{i:06d}"},
                )
                if r.status_code == 429:  # the widget's per-IP/visitor limits: not a sample
                    limited += 1
                    await asyncio.sleep(float(r.json()["error"]["details"]["retry_after"]))
                    continue
                assert r.status_code == 201, r.text
                expected = int(r.json()["conversation_id"])
            answer[kind].append((time.time() - t0) * 1000)
            got = await next_received(events, args.timeout)
            if got is None:
                lost[kind] += 1
                continue
            at, data = got
            sse[kind].append((at - t0) * 1000)
            if kind == "whatsapp" and expected is None:
                conversation_of[i // 2 % args.senders] = int(data["conversation_id"])
            elif expected is not None and data.get("conversation_id") != expected:
                mismatched += 1
            report["sse"] = summary()  # kept if the run is cut short (--max-minutes)
            await asyncio.sleep(args.gap)
        report["sse"] = summary()
        print("sse", json.dumps(report["sse"]), flush=True)

        if args.browser_samples and conversation_of:
            sender, conversation_id = next(iter(conversation_of.items()))
            report["screen"] = await screen(base, args, customers, events, sender, conversation_id)
            print("screen", json.dumps(report["screen"]), flush=True)
    finally:
        stop.set()
        await busy
        report["background"] = {
            "rate_per_s": args.background_rate,
            "acknowledged": len(background_sent),
            "failed": {k: background_failed.count(k) for k in sorted(set(background_failed))},
        }
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await reader
        await agent.aclose()
        await customers.aclose()


OBSERVER = """
window.__seen = {};
window.__wanted = new Set();
new MutationObserver(() => {
  const text = document.body.innerText;
  for (const w of window.__wanted) {
    if (text.includes(w)) { window.__seen[w] = Date.now(); window.__wanted.delete(w); }
  }
}).observe(document.body, {childList: true, subtree: true, characterData: true});
"""


async def screen(
    base: str,
    args: argparse.Namespace,
    customers: httpx.AsyncClient,
    events: asyncio.Queue[tuple[float, dict[str, Any]]],
    sender: int,
    conversation_id: int,
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    dom: list[float] = []
    sse: list[float] = []
    missed = 0
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{base}/app/login")
            await page.fill("input[name=email]", AGENT_EMAIL)
            await page.fill("input[name=password]", AGENT_PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(re.compile(r".*/app(/.*)?$"))
            await page.goto(f"{base}/app/c/{conversation_id}")
            await page.wait_for_selector("[data-timeline]")
            await page.evaluate(OBSERVER)
            await asyncio.sleep(1.0)  # the page's own live stream is connected
            for j in range(args.browser_samples):
                text = f"Screen check {j} {uuid.uuid4().hex[:8]}"
                await page.evaluate("w => window.__wanted.add(w)", text)
                drain(events)
                body = body_for(sender, args.senders, prefix=f"SCREEN{j:03d}x", text=text)
                t0 = time.time()
                r = await customers.post("/webhooks/whatsapp", content=body, headers=signed(body))
                assert r.status_code == 200, r.text
                got = await next_received(events, args.timeout)
                if got is not None:
                    sse.append((got[0] - t0) * 1000)
                try:
                    await page.wait_for_function(
                        "w => window.__seen[w] !== undefined", arg=text, timeout=args.timeout * 1000
                    )
                except Exception:
                    missed += 1
                    continue
                seen = await page.evaluate("w => window.__seen[w]", text)
                dom.append(float(seen) - t0 * 1000)
                await asyncio.sleep(args.gap + 1.0)  # past htmx's throttles, as a person reading
        finally:
            await browser.close()
    return {
        "dom": quantiles(dom),
        "sse_same_messages": quantiles(sse),
        "not_on_screen_within_timeout": missed,
        "load_average_after": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pg", default=os.environ.get("STOREDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--database", default="storedesk_bench_live")
    parser.add_argument("--samples", type=int, default=300, help="measured messages (SSE)")
    parser.add_argument("--browser-samples", type=int, default=30, help="measured messages (DOM); 0: skip")
    parser.add_argument(
        "--background-rate",
        type=float,
        default=5.0,
        help="another shop's webhooks per second (18,000 an hour)",
    )
    parser.add_argument("--senders", type=int, default=20, help="WhatsApp customers of the measured shop")
    parser.add_argument("--visitors", type=int, default=10, help="chat widget visitors of the measured shop")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between measured messages")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for one event")
    parser.add_argument("--worker-nice", type=int, default=0, help="CPU priority offset of the worker")
    parser.add_argument("--existing-customers", type=int, default=20_000)
    parser.add_argument("--max-minutes", type=float, default=12.0)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "live_latency.json")
    args = parser.parse_args()
    url = setup_database(args.pg, args.database, args.existing_customers)
    seed_live(url)
    port = free_port()
    api, workers, _env = start_processes(url, port, 1, 8, args.worker_nice)
    report: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores",
        "load_average_at_start": os.getloadavg(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    try:
        asyncio.run(
            asyncio.wait_for(measure(f"http://127.0.0.1:{port}", args, report), args.max_minutes * 60)
        )
    except TimeoutError:
        report["cut_short_after_minutes"] = args.max_minutes
    except Exception as exc:  # what was measured so far is still reported
        report["failed"] = repr(exc)
    finally:
        stop_processes([api, *workers])
        report["load_average_at_end"] = os.getloadavg()
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 1 if "failed" in report else 0


if __name__ == "__main__":
    raise SystemExit(main())
