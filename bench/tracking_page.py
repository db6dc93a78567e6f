"""Tracking page server time: the whole request in-process (ASGI, no network), p50/p95/p99.

    .venv/bin/python bench/tracking_page.py                    # SQLite
    .venv/bin/python bench/tracking_page.py --db postgresql    # the local PostgreSQL

Builds a shop with 2,000 orders (one or two parcels, six tracking events each), then requests the
signed order page (``/track/{shop}/o/{token}``, German, Europe/Berlin) for random orders, and the
number + email lookup (``POST /track/{shop}``: half right, half wrong). Rate limits are reset between
requests (they would otherwise refuse a benchmark, which is their job).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg

from storedesk.api.app import create_app
from storedesk.commerce.models import Order, OrderLine, Shipment, TrackingEvent
from storedesk.config import Settings
from storedesk.db.migrate import upgrade
from storedesk.db.session import Database
from storedesk.kit.time import utcnow
from storedesk.shops.service import create_shop
from storedesk.tracking import limits
from storedesk.tracking import web as tracking_web
from storedesk.tracking.links import LinkSigner

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret"
STEPS = [
    ("label_created", "Shipment information received"),
    ("picked_up", "Parcel picked up by DHL"),
    ("in_transit", "Departed sorting centre"),
    ("in_transit", "Arrived at delivery depot"),
    ("out_for_delivery", "Out for delivery"),
    ("delivered", "Delivered to neighbour"),
]


async def seed(db: Database, n_orders: int) -> tuple[int, list[tuple[int, str]]]:
    rng = random.Random(7)
    now = utcnow()
    orders: list[tuple[int, str]] = []
    async with db.transaction() as session:
        shop = await create_shop(session, slug="bench", name="Bench", languages=["en", "de"], default_language="de",
                                 timezone="Europe/Berlin", country="DE")  # fmt: skip
        for i in range(n_orders):
            placed = now - timedelta(days=rng.uniform(1, 60))
            order = Order(shop_id=shop.id, number=str(200000 + i), email=f"c{i}@example.com", currency="EUR",
                          financial_status="paid", fulfillment_status="fulfilled", subtotal_minor=5000,
                          total_minor=5495, placed_at=placed, shipping_address={"country": "DE"})  # fmt: skip
            session.add(order)
            await session.flush()
            session.add(OrderLine(shop_id=shop.id, order_id=order.id, title="Linen shirt", quantity=1,
                                  unit_price_minor=5000, total_minor=5000))  # fmt: skip
            for _ in range(1 if i % 5 else 2):
                shipment = Shipment(shop_id=shop.id, order_id=order.id, carrier="DHL", tracking_number=f"JJD{i:08d}",
                                    status="delivered", shipped_at=placed + timedelta(hours=20),
                                    estimated_delivery_at=placed + timedelta(days=3),
                                    delivered_at=placed + timedelta(days=2))  # fmt: skip
                session.add(shipment)
                await session.flush()
                for n, (status, text) in enumerate(STEPS):
                    session.add(TrackingEvent(shop_id=shop.id, shipment_id=shipment.id, status=status, description=text,
                                              occurred_at=placed + timedelta(hours=20 + 6 * n), location="Leipzig, DE"))  # fmt: skip
            orders.append((order.id, order.number))
        return shop.id, orders


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    p = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return f"p50 {p(0.5):.1f} ms  p95 {p(0.95):.1f} ms  p99 {p(0.99):.1f} ms  max {values[-1]:.1f} ms"


async def main(url: str, n_orders: int, requests: int) -> None:
    db = Database(url)
    shop_id, orders = await seed(db, n_orders)
    with tempfile.TemporaryDirectory() as data:
        app = create_app(Settings(data_dir=Path(data), database_url=url, secret_key=SECRET, jobs_mode="external"),
                         db=db, run_jobs=False)  # fmt: skip
        if "/track/{shop_slug}" not in {getattr(r, "path", "") for r in app.routes}:
            app.include_router(tracking_web.router)
        signer = LinkSigner([SECRET])
        rng = random.Random(11)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for order_id, _ in orders[:20]:  # warm up
                    await client.get(
                        f"/track/bench/o/{signer.sign('order', shop_id, order_id)}?lang=de&tz=Europe/Berlin"
                    )
                page_ms, cpu_ms, lookup_ms = [], [], []
                for _ in range(requests):
                    order_id, number = rng.choice(orders)
                    token = signer.sign("order", shop_id, order_id)
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = await client.get(f"/track/bench/o/{token}?lang=de&tz=Europe/Berlin")
                    page_ms.append((time.perf_counter() - t0) * 1000)
                    cpu_ms.append((time.process_time() - c0) * 1000)
                    assert response.status_code == 200
                for i in range(requests // 2):
                    limits.reset_all()
                    order_id, number = rng.choice(orders)
                    email = f"c{int(number) - 200000}@example.com" if i % 2 else "wrong@example.com"
                    t0 = time.perf_counter()
                    response = await client.post(
                        "/track/bench?lang=de", data={"number": number, "email": email}
                    )
                    lookup_ms.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code in (200, 303)
    print(f"database           {db.kind}; {n_orders} orders")
    print(f"order page         {len(page_ms)} requests  {percentiles(page_ms)}")
    print(f"  process CPU      {percentiles(cpu_ms)}")
    print(f"lookup (POST)      {len(lookup_ms)} requests  {percentiles(lookup_ms)}")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    if args.db == "postgresql":
        name = f"storedesk_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        db_url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        try:
            upgrade(db_url)
            asyncio.run(main(db_url, args.orders, args.requests))
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(db_url)
            asyncio.run(main(db_url, args.orders, args.requests))
