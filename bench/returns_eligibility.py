"""Return eligibility decision time.

    .venv/bin/python bench/returns_eligibility.py                    # SQLite
    .venv/bin/python bench/returns_eligibility.py --db postgresql    # the local PostgreSQL

1. The pure policy engine (``returns.policy.evaluate`` + ``quote``) for an order of 12 lines under a
   policy with country and category rules — what the brief's "≤ 10 ms per decision" is about.
2. The whole decision as the portal makes it (``returns.service.order_context``: loading the order,
   its lines, products, shipments, earlier returns and refunds, then evaluating), on the database.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from storedesk.commerce.models import Order, OrderLine, Product, Shipment, Variant
from storedesk.db.migrate import upgrade
from storedesk.db.session import Database
from storedesk.kit.time import utcnow
from storedesk.returns import service
from storedesk.returns.policy import LineFacts, OrderFacts, evaluate, parse_policy, quote
from storedesk.shops.service import create_shop

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POLICIES = {
    "return_window_days": 30,
    "free_return_countries": ["DE", "AT"],
    "return_label_fee_minor": 595,
    "restocking_fee_percent": 5,
    "store_credit_bonus_percent": 10,
    "returns": {
        "hygiene_categories": ["underwear", "cosmetics"],
        "categories": {"lamps": {"window_days": 14}, "gift-cards": {"returnable": False}},
        "countries": {"NO": {"label_fee_minor": 1495, "window_days": 45}, "US": {"returns_allowed": False}},
    },
}
CATEGORIES = ["clothing", "lamps", "underwear", "home", "gift-cards", "textiles"]


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    p = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return f"p50 {p(0.5):.3f} ms  p95 {p(0.95):.3f} ms  p99 {p(0.99):.3f} ms  max {values[-1]:.3f} ms"


def pure(rounds: int) -> None:
    policy = parse_policy(POLICIES, timezone="Europe/Berlin", home_country="DE")
    lines = tuple(
        LineFacts(
            i,
            f"item {i}",
            1 + i % 3,
            2500 * (1 + i % 4),
            already_returned=i % 2,
            category=CATEGORIES[i % 6],
            final_sale=i == 7,
        )
        for i in range(1, 13)
    )
    facts = OrderFacts(placed_at=datetime(2025, 5, 1, tzinfo=UTC), currency="EUR", lines=lines,
                       delivered_at=datetime(2025, 5, 4, tzinfo=UTC), country="NO", refundable_minor=60000)  # fmt: skip
    times = []
    for r in range(rounds):
        now = datetime(2025, 5, 5, tzinfo=UTC) + timedelta(hours=r % 1000)
        t0 = time.perf_counter()
        decision = evaluate(policy, facts, now)
        selection = {d.line_id: d.returnable_quantity for d in decision.lines if d.eligible}
        if selection:
            quote(policy, decision, facts, selection, "refund")
        times.append((time.perf_counter() - t0) * 1000)
    print(f"pure engine        12 lines, {rounds} decisions  {percentiles(times)}")


async def with_database(url: str, rounds: int) -> None:
    db = Database(url)
    now = utcnow()
    async with db.transaction() as session:
        shop = await create_shop(session, slug="bench", name="Bench", languages=["en", "de"], default_language="de",
                                 timezone="Europe/Berlin", country="DE")  # fmt: skip
        shop.policies = {**shop.policies, **POLICIES}
        order_ids = []
        for n in range(50):
            order = Order(shop_id=shop.id, number=str(300000 + n), email="c@example.com", currency="EUR",
                          financial_status="paid", fulfillment_status="fulfilled", subtotal_minor=30000,
                          total_minor=30000, placed_at=now - timedelta(days=12), shipping_address={"country": "NO"})  # fmt: skip
            session.add(order)
            await session.flush()
            for i in range(12):
                product = Product(
                    shop_id=shop.id, handle=f"p{n}-{i}", title=f"Product {i}", category=CATEGORIES[i % 6]
                )
                session.add(product)
                await session.flush()
                variants = [Variant(shop_id=shop.id, product_id=product.id, sku=f"S{n}-{i}-{v}", title=f"Variant {v}",
                                    price_minor=2500, stock=v) for v in range(3)]  # fmt: skip
                session.add_all(variants)
                await session.flush()
                session.add(OrderLine(shop_id=shop.id, order_id=order.id, variant_id=variants[0].id, title=f"Product {i}",
                                      quantity=2, unit_price_minor=1250, total_minor=2500))  # fmt: skip
            session.add(Shipment(shop_id=shop.id, order_id=order.id, status="delivered", shipped_at=now - timedelta(days=11),
                                 delivered_at=now - timedelta(days=9)))  # fmt: skip
            order_ids.append(order.id)
        shop_id = shop.id
    times = []
    for r in range(rounds):
        async with db.transaction() as session:
            t0 = time.perf_counter()
            context = await service.order_context(
                session, shop_id=shop_id, order_id=order_ids[r % len(order_ids)]
            )
            times.append((time.perf_counter() - t0) * 1000)
        assert len(context.decision.lines) == 12
    print(f"with the database  {db.kind}, 12 lines, {rounds} decisions  {percentiles(times)}")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    pure(args.rounds)
    if args.db == "postgresql":
        name = f"storedesk_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        db_url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        try:
            upgrade(db_url)
            asyncio.run(with_database(db_url, args.rounds // 10))
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(db_url)
            asyncio.run(with_database(db_url, args.rounds // 10))
