"""Server time of the customer sidebar with order actions and the action history, and of one order action
from the sidebar (form → preview → confirm) on the demo store.

    .venv/bin/python bench/order_sidebar.py                  # SQLite file in a temporary directory
    .venv/bin/python bench/order_sidebar.py --postgres       # a fresh PostgreSQL database (dropped after)

One shop; the customer has ``--orders`` orders (three lines each, every other one shipped with two
tracking events) in a connected demo store and ``--history`` audit events spread over them. Requests go
in process through the ASGI app (no network), so the figures are server time: routing, session, CSRF,
queries and rendering. Statements are counted per request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from storedesk.agents.models import Role, TokenKind
from storedesk.agents.service import _issue_token, create_agent
from storedesk.api.app import create_app
from storedesk.channels.models import ChannelKind
from storedesk.channels.service import create_channel
from storedesk.commerce.models import Order, OrderLine, Shipment, Store, TrackingEvent
from storedesk.config import Settings
from storedesk.conversations import service as conversations
from storedesk.customers.service import create_customer
from storedesk.db.migrate import upgrade
from storedesk.db.session import Database
from storedesk.events.service import record
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.crypto import SecretBox
from storedesk.kit.time import utcnow
from storedesk.shops.service import create_shop

SECRET = "bench-secret-key-0123456789abcdef0123456789"


async def seed(db: Database, orders: int, history: int) -> dict[str, Any]:
    now = utcnow()
    async with db.transaction() as s:
        shop = await create_shop(
            s,
            slug="bench",
            name="Bench",
            languages=["en"],
            default_language="en",
            country="DE",
            timezone="UTC",
        )
        agent = await create_agent(
            s,
            shop_id=shop.id,
            email="a@bench.test",
            name="Agent",
            role=Role.agent,
            password=None,
            actor=SYSTEM,
        )
        channel = await create_channel(
            s, shop_id=shop.id, actor=SYSTEM, box=SecretBox([SECRET]), kind=ChannelKind.api, name="API",
            external_id="api",
        )  # fmt: skip
        customer = await create_customer(
            s, shop_id=shop.id, actor=SYSTEM, name="Ada", email="ada@example.com"
        )
        conv = await conversations.open_conversation(
            s, shop_id=shop.id, actor=SYSTEM, customer_id=customer.id, channel_id=channel.id
        )
        store = Store(shop_id=shop.id, platform="demo", name="Demo store", status="active", sync_state={})
        s.add(store)
        await s.flush()
        ids = []
        for i in range(orders):
            shipped = i % 2 == 1
            o = Order(
                shop_id=shop.id, store_id=store.id, external_id=f"x{i}", number=str(5000 + i),
                customer_id=customer.id, email="ada@example.com", currency="EUR", financial_status="paid",
                fulfillment_status="fulfilled" if shipped else "unfulfilled", subtotal_minor=6000,
                shipping_minor=490, total_minor=6490, placed_at=now - timedelta(days=i),
                platform_updated_at=now, tags=[],
                shipping_address={"name": "Ada", "address1": "Main 1", "city": "Berlin", "zip": "10115",
                                  "country_code": "DE"},
            )  # fmt: skip
            s.add(o)
            await s.flush()
            ids.append(o.id)
            for n in range(3):
                s.add(
                    OrderLine(
                        shop_id=shop.id, order_id=o.id, external_id=f"x{i}-{n}", title=f"Item {n}",
                        quantity=1 + n, unit_price_minor=1000, total_minor=1000 * (1 + n),
                    )
                )  # fmt: skip
            if shipped:
                sh = Shipment(shop_id=shop.id, order_id=o.id, carrier="DHL", tracking_number=f"T{i}",
                              status="in_transit")  # fmt: skip
                s.add(sh)
                await s.flush()
                for k in range(2):
                    s.add(TrackingEvent(shop_id=shop.id, shipment_id=sh.id, occurred_at=now, status="in_transit",
                                        description=f"Scan {k}"))  # fmt: skip
        for h in range(history):
            await record(
                s, shop_id=shop.id, type="order.note_added", actor=Actor("agent", agent.id),
                order_id=ids[h % len(ids)], customer_id=customer.id,
                data={"params": {"note": f"note {h}"}, "before": {}, "after": {}},
            )  # fmt: skip
        token, secret = await _issue_token(s, agent, TokenKind.session, name="bench", ttl=timedelta(hours=2))
        return {"conv": conv.id, "order": ids[0], "cookie": secret, "csrf": token.csrf_token}


class Counter:
    def __init__(self, db: Database) -> None:
        self.n = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.n += 1


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp())
    admin = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    name = f"storedesk_sidebar_{uuid.uuid4().hex[:8]}"
    if args.postgres:
        import psycopg

        with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    try:
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        data = await seed(db, args.orders, args.history)
        counter = Counter(db)
        settings = Settings(data_dir=tmp / "data", database_url=url, secret_key=SECRET, jobs_mode="external")
        app = create_app(settings, db=db, run_jobs=False)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench",
                cookies={"storedesk_session": data["cookie"]},
            ) as c:
                hx = {"HX-Request": "true"}
                sidebar = f"/app/c/{data['conv']}/sidebar"
                note = f"/app/c/{data['conv']}/orders/{data['order']}/note"
                names = ("sidebar", "action form", "preview", "confirm")
                figures: dict[str, list[float]] = {k: [] for k in names}
                cpu: dict[str, list[float]] = {k: [] for k in names}
                statements: dict[str, int] = {}

                async def timed(name: str, method: str, path: str, **kw: Any) -> None:
                    before = counter.n
                    t, p = time.perf_counter(), time.process_time()
                    r = await c.request(method, path, headers=hx, **kw)
                    figures[name].append((time.perf_counter() - t) * 1000)
                    cpu[name].append((time.process_time() - p) * 1000)
                    statements[name] = counter.n - before
                    assert r.status_code == 200, (name, r.status_code, r.text[:300])

                for _ in range(3):  # warm up
                    await timed("sidebar", "GET", sidebar)
                for k in names:
                    figures[k].clear()
                    cpu[k].clear()
                for i in range(args.runs):
                    await timed("sidebar", "GET", sidebar)
                    await timed("action form", "GET", note)
                    form = {"csrf_token": data["csrf"], "note": f"bench {i}"}
                    await timed("preview", "POST", note, data={**form, "step": "preview"})
                    await timed("confirm", "POST", note, data={**form, "step": "confirm"})
        await db.dispose()
        print(f"{'postgresql' if args.postgres else 'sqlite'}: {args.orders} orders, {args.history} audit events, "
              f"{args.runs} runs")  # fmt: skip
        for k, values in figures.items():
            values.sort()
            p95 = values[max(0, round(0.95 * len(values)) - 1)]
            print(
                f"  {k:<12} p50 {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms   "
                f"CPU p50 {statistics.median(cpu[k]):6.1f} ms   {statements[k]} statements"
            )
    finally:
        if args.postgres:
            import psycopg

            with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--history", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    asyncio.run(main(parser.parse_args()))
