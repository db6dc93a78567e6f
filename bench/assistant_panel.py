"""Server cost of the assistant in the conversation view: the timeline fragment with and without assistant
turns, and the tone check of a draft.

    .venv/bin/python bench/assistant_panel.py [--messages 200] [--runs 30]

Builds a fresh SQLite file (migrated) with one shop and one conversation of ``--messages`` customer
messages, each with a stored assistant turn, then requests ``/app/c/{id}/timeline`` in process through the
ASGI app (no network) as a signed-in agent: once with the turns (the newest 100 are shown, collapsed) and
once after deleting them. Prints median wall-clock and process CPU time per request and the page size,
then the CPU time of one tone check (``assistant.tone.check`` + the translated flags) on a 57-word and a
3-word draft.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import delete, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers build the shop and sign in

from tests.conftest import TEST_SECRET, make_shop  # noqa: E402
from tests.web.helpers import login, seed_conversation  # noqa: E402

from storedesk.api.app import create_app  # noqa: E402
from storedesk.assistant import tone  # noqa: E402
from storedesk.assistant.models import AssistantTurn  # noqa: E402
from storedesk.config import Settings  # noqa: E402
from storedesk.conversations import service as conversations  # noqa: E402
from storedesk.conversations.models import Direction, Message  # noqa: E402
from storedesk.db.migrate import upgrade  # noqa: E402
from storedesk.db.session import Database  # noqa: E402
from storedesk.kit.actor import Actor  # noqa: E402
from storedesk.web.assistant_routes import tone_flags  # noqa: E402

DRAFT = (
    "Hallo Frau Müller, vielen Dank für Ihre Nachricht! Ihre Bestellung 100234 ist unterwegs und kommt "
    "morgen an. Die Sendungsnummer lautet JJD000390007, den Link finden Sie unten. Viele Grüße, Alex"
) * 2


async def _seed(url: str, messages: int) -> int:
    db = Database(url)
    try:
        shop = await make_shop(db, "bench")
        seeded = await seed_conversation(db, shop.id, shop.customer_id, shop.channel_id)
        cid = seeded.conversation_id
        async with db.transaction() as s:
            for i in range(messages - 1):
                await conversations.add_message(
                    s,
                    shop_id=shop.id,
                    actor=Actor("customer", shop.customer_id),
                    conversation_id=cid,
                    direction=Direction.inbound,
                    text=f"Where is my order {i}? " * 3,
                )
            await s.flush()
            ids = (await s.execute(select(Message.id).where(Message.conversation_id == cid))).scalars().all()
            for mid in ids:
                s.add(
                    AssistantTurn(
                        shop_id=shop.id,
                        conversation_id=cid,
                        message_id=mid,
                        status="done",
                        language="en",
                        intent="track_order",
                        confidence=0.9,
                        decision="answer",
                        outcome="answered",
                        entities={"order_number": "100234"},
                        facts={
                            "order": {"number": "100234", "status": "in_transit"},
                            "shipment": {"carrier": "DHL", "tracking_number": "JJD1"},
                        },
                        policy_check={"verification": "owner_or_email"},
                    )
                )
        return cid
    finally:
        await db.dispose()


async def _pages(root: Path, url: str, cid: int, runs: int) -> None:
    db = Database(url)
    settings = Settings(
        data_dir=root / "data", database_url=url, secret_key=TEST_SECRET, jobs_mode="external", smtp_port=0
    )
    app = create_app(settings, db=db, run_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await login(client, "agent@bench.test")

            async def measure(label: str) -> None:
                for _ in range(3):
                    await client.get(f"/app/c/{cid}/timeline")
                walls, cpus, size, shown = [], [], 0, 0
                for _ in range(runs):
                    w0, c0 = time.perf_counter(), time.process_time()
                    r = await client.get(f"/app/c/{cid}/timeline")
                    walls.append((time.perf_counter() - w0) * 1000)
                    cpus.append((time.process_time() - c0) * 1000)
                    assert r.status_code == 200
                    size, shown = len(r.content), r.text.count("data-turn-status")
                print(
                    f"{label:<28} wall p50 {statistics.median(walls):6.1f} ms   "
                    f"CPU p50 {statistics.median(cpus):5.1f} ms   {size // 1024:4d} KB   turns shown {shown}"
                )

            await measure("timeline with turns")
            async with db.transaction() as s:
                await s.execute(delete(AssistantTurn))
            await measure("timeline without turns")
    await db.dispose()


def _tone() -> None:
    for text in (DRAFT, "NO IDEA. WAIT!!"):
        n = 2000
        c0 = time.process_time()
        for _ in range(n):
            tone_flags(tone.check(text, "de"))
        per = (time.process_time() - c0) / n * 1e6
        print(f"tone check, {len(text.split()):2d} words: {per:5.0f} µs CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="storedesk-panel-"))
    url = f"sqlite+aiosqlite:///{root}/bench.db"
    upgrade(url)
    cid = asyncio.run(_seed(url, args.messages))
    print(f"{args.messages} customer messages, one assistant turn each")
    asyncio.run(_pages(root, url, cid, args.runs))
    _tone()


if __name__ == "__main__":
    main()
