"""Benchmark: backfilling a store, and webhook → updated mirror latency.

Targets (issue "Store connectors and order actions"): a backfill of 100,000 orders with lines from a local
fake server in ≤ 120 s on SQLite and PostgreSQL; webhook → updated mirror p95 ≤ 1 s.

    python bench/connector_backfill.py --db sqlite --orders 100000
    python bench/connector_backfill.py --db postgresql --orders 100000
    python bench/connector_backfill.py --db sqlite --orders 2000 --webhooks 200

The fake WooCommerce server runs in its own process (so it does not share the backfill's GIL) and
generates the documented REST v3 shapes page by page: ``--customers`` customers, 20 variable products and
``--orders`` orders of ``--lines`` lines each (1–3), each order belonging to one of the customers. The
backfill is the real one (``storedesk.commerce.sync.run_backfill``): pages fetched over HTTP, bulk
upserts, a checkpoint per page. The customers phase (each customer is resolved through the customers
service: email, phone and store identities) is timed separately from the orders phase.

Webhook latency: the real app (commerce routers mounted, embedded job runner) runs under uvicorn in its
own process; each ``order.updated`` delivery is signed like WooCommerce does, posted, and the mirror is
polled until the order shows the new status. Sequential deliveries: p50 / p95 / max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storedesk.commerce.connectors.common import hmac_sha256_base64  # noqa: E402
from storedesk.db.migrate import upgrade  # noqa: E402

PG_ADMIN = os.environ.get("STOREDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-key"
KEY, CS, WH = "ck_" + "a" * 40, "cs_" + "b" * 40, "bench-webhook-secret"
PRODUCTS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the fake WooCommerce (own process) ---------------------------------------------------------------------


def _variation(p: int, v: int) -> dict[str, Any]:
    return {
        "id": 100_000 + p * 10 + v,
        "sku": f"B{p}-{v}",
        "price": f"{19 + p}.90",
        "regular_price": f"{19 + p}.90",
        "stock_quantity": 50,
        "backorders": "no",
        "attributes": [{"name": "Size", "option": "SML"[v % 3]}],
    }


def _customer(i: int) -> dict[str, Any]:
    return {
        "id": 1_000_000 + i,
        "email": f"customer{i}@example.com",
        "first_name": "Bench",
        "last_name": f"Customer {i}",
        "date_modified_gmt": "2026-01-01T00:00:00",
        "billing": {"email": f"customer{i}@example.com", "phone": f"+49151{i:07d}", "country": "DE"},
    }


def _order(
    i: int, customers: int, lines: int, status: str = "processing", modified: str | None = None
) -> dict[str, Any]:
    c = i % customers
    items = []
    total = 0
    for n in range((i % lines) + 1):
        p = (i + n) % PRODUCTS
        price = 1990 + p * 100
        qty = 1 + (i + n) % 2
        total += price * qty
        items.append(
            {
                "id": 10_000_000 + i * 4 + n,
                "name": f"Product {p}",
                "product_id": 5000 + p,
                "variation_id": 100_000 + p * 10 + (i + n) % 3,
                "quantity": qty,
                "subtotal": f"{price * qty / 100:.2f}",
                "total": f"{price * qty / 100:.2f}",
                "sku": f"B{p}-{(i + n) % 3}",
            }
        )
    stamp = f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00"
    return {
        "id": 20_000_000 + i,
        "number": str(20_000_000 + i),
        "status": status,
        "currency": "EUR",
        "date_created_gmt": stamp,
        "date_modified_gmt": modified or stamp,
        "shipping_total": "4.90",
        "total_tax": "0.00",
        "total": f"{(total + 490) / 100:.2f}",
        "customer_id": 1_000_000 + c,
        "customer_note": "",
        "billing": {
            "first_name": "Bench",
            "last_name": f"Customer {c}",
            "email": f"customer{c}@example.com",
            "phone": "",
        },
        "shipping": {
            "first_name": "Bench",
            "last_name": f"Customer {c}",
            "address_1": f"Street {i}",
            "city": "Berlin",
            "postcode": "10115",
            "country": "DE",
        },
        "payment_method_title": "Card",
        "line_items": items,
        "shipping_lines": [{"method_title": "DHL", "total": "4.90"}],
        "refunds": [],
        "meta_data": [],
    }


def serve_fake(port: int, orders: int, customers: int, lines: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    def page(request: Request, total: int, make: Any) -> Response:
        per = int(request.query_params.get("per_page", 10))
        number = int(request.query_params.get("page", 1))
        start = (number - 1) * per
        items = [make(i) for i in range(start, min(total, start + per))]
        pages = (total + per - 1) // per
        return Response(
            orjson.dumps(items),
            media_type="application/json",
            headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)},
        )

    async def handle(request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        if path == "system_status":
            return JSONResponse(
                {"environment": {"site_url": "https://bench.example"}, "settings": {"currency": "EUR"}}
            )
        if path == "customers":
            return page(request, customers, _customer)
        if path == "products":
            return page(
                request,
                PRODUCTS,
                lambda p: {
                    "id": 5000 + p,
                    "name": f"Product {p}",
                    "slug": f"product-{p}",
                    "type": "variable",
                    "date_modified_gmt": "2026-01-01T00:00:00",
                    "categories": [],
                },
            )
        if path.startswith("products/") and path.endswith("/variations"):
            p = int(path.split("/")[1]) - 5000
            return page(request, 3, lambda v: _variation(p, v))
        if path == "orders":
            return page(request, orders, lambda i: _order(i, customers, lines))
        return JSONResponse(
            {"code": "rest_no_route", "message": "No route", "data": {"status": 404}}, status_code=404
        )

    app = Starlette(routes=[Route("/wp-json/wc/v3/{path:path}", handle, methods=["GET"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


# --- databases ----------------------------------------------------------------------------------------------


def make_database(kind: str) -> tuple[str, Any]:
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="storedesk-bench-"))
        url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        upgrade(url)
        return url, lambda: shutil.rmtree(directory, ignore_errors=True)
    name = f"storedesk_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


async def prepare_shop(url: str) -> int:
    from storedesk.db.session import Database
    from storedesk.shops.service import create_shop

    db = Database(url)
    try:
        async with db.transaction() as session:
            shop = await create_shop(
                session,
                slug="bench",
                name="Bench",
                languages=["en"],
                default_language="en",
                country="DE",
                timezone="UTC",
            )
            return int(shop.id)
    finally:
        await db.dispose()


# --- backfill -----------------------------------------------------------------------------------------------


async def run_backfill(url: str, fake: str, shop_id: int) -> dict[str, Any]:
    from storedesk.commerce import service, sync
    from storedesk.commerce.connectors import registry
    from storedesk.commerce.connectors.protocol import Resource
    from storedesk.db.session import Database
    from storedesk.kit.actor import SYSTEM
    from storedesk.kit.crypto import SecretBox

    registry.configure(SecretBox([SECRET]))
    db = Database(url)
    marks: dict[str, float] = {}
    started = time.monotonic()

    def progress(resource: Resource, done: int, total: int | None) -> None:
        marks[resource.value] = time.monotonic()
        if done and total and done % 10_000 < 100:
            print(
                f"  {resource.value:>9}: {done:>7}/{total} after {time.monotonic() - started:6.1f} s",
                flush=True,
            )

    try:
        connected = await service.connect_store(
            db,
            shop_id=shop_id,
            actor=SYSTEM,
            platform="woocommerce",
            credentials={
                "site_url": "https://bench.example",
                "consumer_key": KEY,
                "consumer_secret": CS,
                "webhook_secret": WH,
            },
            base_url=fake,
            backfill=False,
        )
        store_id = connected.store.id
        async with db.transaction() as session:
            from storedesk.commerce.models import Store

            store = await session.get(Store, store_id)
            assert store is not None
            store.sync_state = {**store.sync_state, "backfill": sync.new_backfill_state("bench")}
        started = time.monotonic()
        result = await sync.run_backfill(db, store_id=store_id, progress=progress)
        elapsed = time.monotonic() - started
        from sqlalchemy import text

        async with db.engine.connect() as conn:
            counts = {
                t: int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
                for t in ("orders", "order_lines", "customers", "variants")
            }
        customers_done = marks.get("customers", started) - started
        products_done = marks.get("products", started) - started
        return {
            "store_id": store_id,
            "status": result.status,
            "pages": result.pages,
            "seconds_total": round(elapsed, 1),
            "seconds_customers": round(customers_done, 1),
            "seconds_products": round(products_done - customers_done, 1),
            "seconds_orders": round(elapsed - products_done, 1),
            "counts": counts,
        }
    finally:
        await db.dispose()


# --- webhook latency ----------------------------------------------------------------------------------------


def _runner_with_wakeup_fix() -> None:
    """The one-line fix proposed for ``JobRunner.run_forever`` (storedesk/jobs/runner.py): clear the wakeup
    event *before* claiming, so a commit that lands between an empty claim and the wait is not lost (today
    the runner clears it after the claim and then sleeps the full poll interval)."""
    import asyncio as aio

    from storedesk.jobs import runner as runner_module

    async def run_forever(self: runner_module.JobRunner) -> None:
        await self.recover_stale()
        while not self._stop.is_set():
            runner_module.wakeup.clear()
            try:
                ran = await self.run_once()
            except Exception:
                runner_module.log.exception("job runner loop failed; retrying")
                ran = 0
            if ran:
                continue
            try:
                await aio.wait_for(runner_module.wakeup.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass

    runner_module.JobRunner.run_forever = run_forever  # type: ignore[method-assign]


def serve_app(url: str, port: int, runner_fix: bool = False) -> None:
    import uvicorn

    if runner_fix:
        _runner_with_wakeup_fix()

    from storedesk.api.app import create_app
    from storedesk.commerce import tasks
    from storedesk.config import Settings

    settings = Settings(
        database_url=url, secret_key=SECRET, jobs_mode="embedded", data_dir=Path(tempfile.gettempdir())
    )
    app = create_app(settings, run_jobs=True, realtime_pg=False)
    tasks.configure(app.state.box)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def webhook_latency(
    url: str, store_id: int, deliveries: int, customers: int, lines: int, runner_fix: bool = False
) -> dict[str, Any]:
    from sqlalchemy import text

    from storedesk.db.session import Database

    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(
        target=serve_app, args=(url, port, runner_fix), daemon=True
    )
    proc.start()
    base = f"http://127.0.0.1:{port}"
    _wait_for(base + "/health")
    db = Database(url)
    samples: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            for n in range(deliveries):
                i = n * 7 % 1000
                status = ("completed", "on-hold")[n % 2]
                modified = f"2026-06-{1 + n // 1000:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00"
                body = orjson.dumps(_order(i, customers, lines, status=status, modified=modified))
                headers = {
                    "Content-Type": "application/json",
                    "X-WC-Webhook-Topic": "order.updated",
                    "X-WC-Webhook-Signature": hmac_sha256_base64(WH, body),
                    "X-WC-Webhook-Delivery-ID": f"bench-{n}",
                }
                expected = {"completed": "fulfilled", "on-hold": "unfulfilled"}[status]
                start = time.monotonic()
                r = await client.post(f"/webhooks/woocommerce/{store_id}", content=body, headers=headers)
                r.raise_for_status()
                while True:
                    async with db.engine.connect() as conn:
                        row = (
                            await conn.execute(
                                text(
                                    "SELECT fulfillment_status, platform_updated_at FROM orders WHERE external_id = :e"
                                ),
                                {"e": str(20_000_000 + i)},
                            )
                        ).one()
                    if row[0] == expected and str(row[1]).startswith(modified.replace("T", " ")[:16]):
                        break
                    if time.monotonic() - start > 10:
                        raise RuntimeError(f"delivery {n} was not applied within 10 s")
                    await asyncio.sleep(0.005)
                samples.append(time.monotonic() - start)
    finally:
        await db.dispose()
        proc.terminate()
        proc.join(10)
    samples.sort()
    return {
        "deliveries": deliveries,
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))] * 1000, 1),
        "max_ms": round(samples[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--lines", type=int, default=3, choices=[1, 2, 3])
    parser.add_argument("--webhooks", type=int, default=200)
    parser.add_argument(
        "--runner-fix",
        action="store_true",
        help="also measure the webhook latency with the proposed JobRunner wakeup fix applied (patched in the bench)",
    )
    args = parser.parse_args()

    fake_port = free_port()
    fake = multiprocessing.get_context("spawn").Process(
        target=serve_fake, args=(fake_port, args.orders, args.customers, args.lines), daemon=True
    )
    fake.start()
    fake_url = f"http://127.0.0.1:{fake_port}"
    _wait_for(fake_url + "/wp-json/wc/v3/system_status")
    url, cleanup = make_database(args.db)
    try:
        shop_id = asyncio.run(prepare_shop(url))
        print(
            f"backfill: {args.orders} orders (1–{args.lines} lines), {args.customers} customers, {PRODUCTS} products — {args.db}"
        )
        backfill = asyncio.run(run_backfill(url, fake_url, shop_id))
        print(json.dumps(backfill, indent=2))
        latency = fixed = None
        if args.webhooks:
            latency = asyncio.run(
                webhook_latency(url, backfill["store_id"], args.webhooks, args.customers, args.lines)
            )
            print("webhook → mirror:", json.dumps(latency))
            if args.runner_fix:
                fixed = asyncio.run(
                    webhook_latency(
                        url, backfill["store_id"], args.webhooks, args.customers, args.lines, runner_fix=True
                    )
                )
                print("webhook → mirror, with the runner wakeup fix:", json.dumps(fixed))
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / f"connector_backfill_{args.db}.json").write_text(
            json.dumps(
                {"args": vars(args), "backfill": backfill, "webhooks": latency, "webhooks_runner_fix": fixed},
                indent=2,
            )
        )
    finally:
        fake.terminate()
        fake.join(10)
        cleanup()


if __name__ == "__main__":
    main()
