"""CSV/JSON import for any other platform, and the CLI as the main program mounts it
(``storedesk connect …``, ``storedesk import-csv …``), run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from storedesk.commerce.connectors import csv_import
from storedesk.db.session import Database
from tests.commerce.conftest import Served, rows, scalar
from tests.conftest import TEST_SECRET, ShopWorld

pytestmark = pytest.mark.anyio

# logic that does not depend on the database: run on SQLite only to keep the suite fast
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]

ORDERS_CSV = """order_number,order_id,placed_at,currency,email,customer_name,financial_status,fulfillment_status,shipping,total,line_sku,line_title,line_quantity,line_unit_price,tracking_number,carrier,ship_name,ship_address1,ship_city,ship_zip,ship_country,tags
#5001,A-1,2026-02-01T10:00:00Z,EUR,lena@example.com,Lena Berg,paid,fulfilled,4.90,44.90,MUG,Mug,2,10.00,JJD001,DHL,Lena Berg,Ring 1,Oslo,0150,NO,etsy;gift
#5001,A-1,2026-02-01T10:00:00Z,EUR,lena@example.com,Lena Berg,paid,fulfilled,4.90,44.90,VASE,Vase,1,20.00,JJD001,DHL,Lena Berg,Ring 1,Oslo,0150,NO,etsy;gift
#5002,A-2,2026-02-02T10:00:00Z,EUR,,,pending,,0,15.00,MUG,Mug,1,15.00,,,,,,,,
"""

PRODUCTS_CSV = """product_id,handle,title,vendor,sku,variant_title,price,stock
P1,mug,Mug,Nordlys,MUG,Default,10.00,12
P2,vase,Vase,Nordlys,VASE,Blue,20.00,3
"""

CUSTOMERS_CSV = """customer_id,email,phone,name,country
C1,lena@example.com,+47 912 34 567,Lena Berg,NO
"""


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STOREDESK_DATABASE_URL": db_url,
        "STOREDESK_SECRET_KEY": TEST_SECRET,
        "PYTHONPATH": str(ROOT),
    }
    # mounted as the lead mounts it: merged into the root command, no group name
    code = (
        "import sys, typer; from storedesk.commerce.cli import app; root = typer.Typer(); "
        "root.add_typer(app); root(sys.argv[1:])"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_csv_parsing_reports_every_error_with_its_row() -> None:
    bad = "order_number,placed_at,currency,total,line_title,line_quantity,line_unit_price\n#1,2026-01-01,EUR,10.00,Mug,0,10.00\n#2,yesterday,EUR,5,Vase,1,5\n,2026-01-01,EUR,1,X,1,1\n#3,2026-01-01,EURO,1,X,1,1\n"
    with pytest.raises(csv_import.ImportFailed) as caught:
        csv_import.parse(orders=bad)
    assert caught.value.message == "the import has 4 error(s); nothing was imported"
    assert caught.value.details == {
        "errors": [
            "orders row 4: missing order_number",
            "orders row 2 (order 1): line_quantity must be at least 1",
            "orders row 3 (order 2): placed_at 'yesterday' is not a date (use ISO 8601, e.g. 2026-03-01T14:05:00Z)",
            "orders row 5 (order 3): currency 'EURO' is not a 3-letter ISO code",
        ]
    }
    data = csv_import.parse(orders=ORDERS_CSV, products=PRODUCTS_CSV, customers=CUSTOMERS_CSV, currency="EUR")
    first = data.orders[0]
    assert (first.external_id, first.number, first.total_minor, first.shipping_minor, first.tags) == (
        "A-1",
        "5001",
        4490,
        490,
        ["etsy", "gift"],
    )
    assert [(line.sku, line.quantity, line.unit_price_minor, line.total_minor) for line in first.lines] == [
        ("MUG", 2, 1000, 2000),
        ("VASE", 1, 2000, 2000),
    ]
    assert [(s.carrier, s.tracking_number) for s in first.shipments] == [("DHL", "JJD001")]
    assert first.shipping_address == {
        "name": "Lena Berg",
        "company": None,
        "address1": "Ring 1",
        "address2": None,
        "city": "Oslo",
        "province": None,
        "zip": "0150",
        "country_code": "NO",
        "phone": None,
    }
    assert [(p.handle, [(v.sku, v.price_minor, v.stock) for v in p.variants]) for p in data.products] == [
        ("mug", [("MUG", 1000, 12)]),
        ("vase", [("VASE", 2000, 3)]),
    ]


@SQLITE_ONLY
async def test_cli_connects_and_imports(
    db: Database, db_url: str, shop_a: ShopWorld, fakes: Served, tmp_path: Path
) -> None:
    fakes.woo.reset(orders=2)
    result = _cli(
        db_url,
        "connect", "woocommerce", "--shop", "shop-a", "--site-url", "https://shop.example",
        "--consumer-key", fakes.woo.key, "--consumer-secret", fakes.woo.secret, "--base-url", fakes.woo_url,
        "--no-backfill",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    store_id = await scalar(db, "SELECT id FROM stores")
    lines = result.stdout.splitlines()
    assert lines[0] == f"connected woocommerce store shop.example (https://shop.example) as store {store_id}"
    assert lines[1] == f"  webhooks: http://127.0.0.1:8000/webhooks/woocommerce/{store_id}"
    assert lines[2].startswith(
        "  webhook_secret (shown once; paste it into the platform's webhook settings): "
    )
    (tmp_path / "orders.csv").write_text(ORDERS_CSV)
    (tmp_path / "products.csv").write_text(PRODUCTS_CSV)
    (tmp_path / "customers.csv").write_text(CUSTOMERS_CSV)
    result = _cli(
        db_url,
        "import-csv",
        "--shop",
        "shop-a",
        "--orders",
        str(tmp_path / "orders.csv"),
        "--products",
        str(tmp_path / "products.csv"),
        "--customers",
        str(tmp_path / "customers.csv"),
        "--currency",
        "EUR",
        "--name",
        "Etsy",
    )
    assert result.returncode == 0, result.stderr
    imported = await scalar(db, "SELECT id FROM stores WHERE platform = 'csv'")
    assert (
        result.stdout.strip().splitlines()[-1]
        == f"imported 2 orders, 2 products, 1 customers into store {imported}"
    )
    assert await rows(
        db,
        "SELECT number, total_minor, financial_status FROM orders WHERE store_id = :s ORDER BY number",
        s=imported,
    ) == [("5001", 4490, "paid"), ("5002", 1500, "pending")]
    lena = await scalar(db, "SELECT customer_id FROM orders WHERE number = '5001'")
    assert await rows(
        db, "SELECT kind, value FROM customer_identities WHERE customer_id = :c ORDER BY kind", c=lena
    ) == [
        ("email", "lena@example.com"),
        ("phone", "+4791234567"),
        ("store_customer", f"{imported}:C1"),
    ]
    # the same records again into the same store: nothing doubles
    from storedesk.commerce import service
    from storedesk.kit.actor import SYSTEM

    data = csv_import.parse(orders=ORDERS_CSV, currency="EUR")
    assert (
        await service.import_records(db, shop_id=shop_a.id, actor=SYSTEM, data=data, store_id=imported)
        == imported
    )
    assert await scalar(db, "SELECT count(*) FROM orders WHERE store_id = :s", s=imported) == 2
    assert await scalar(db, "SELECT count(*) FROM order_lines") == 3
    (tmp_path / "broken.csv").write_text("order_number,placed_at\n#9,2026-01-01\n")
    broken = _cli(db_url, "import-csv", "--shop", "shop-a", "--orders", str(tmp_path / "broken.csv"))
    assert (broken.returncode, broken.stderr.strip().splitlines()) == (
        1,
        [
            "error: the import has 1 error(s); nothing was imported",
            "  orders row 2 (order 9): missing currency, total",
        ],
    )


@SQLITE_ONLY
async def test_json_import_through_the_api(api: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    payload: dict[str, Any] = {
        "orders": [
            {
                "order_id": "X-1",
                "order_number": "7001",
                "placed_at": "2026-02-01T10:00:00Z",
                "currency": "SEK",
                "email": "nils@example.com",
                "total": "199.00",
                "lines": [{"line_title": "Lamp", "line_quantity": 1, "line_unit_price": "199.00"}],
            }
        ]
    }
    r = await api.post("/api/v1/stores/imports", json=payload, headers=shop_a.h("agent"))
    assert r.status_code == 403
    r = await api.post("/api/v1/stores/imports", json=payload, headers=shop_a.h("admin"))
    assert r.status_code == 201, r.text
    assert r.json() == {"store_id": r.json()["store_id"], "orders": 1, "products": 0, "customers": 0}
    assert await rows(db, "SELECT number, currency, total_minor FROM orders") == [("7001", "SEK", 19900)]
    order_id = await scalar(db, "SELECT id FROM orders")
    r = await api.post(
        f"/api/v1/orders/{order_id}/actions/note", json={"note": "x", "confirm": True}, headers=shop_a.h()
    )
    assert (r.status_code, r.json()["error"]["message"]) == (
        422,
        "order was imported from a file, so storedesk cannot add notes to orders; do it where the order came from",
    )
    r = await api.post(
        "/api/v1/stores/imports", json={"orders": [{"order_number": "1"}]}, headers=shop_a.h("admin")
    )
    assert (r.status_code, r.json()["error"]["details"]) == (
        422,
        {"errors": ["orders row 1 (order 1): missing placed_at, currency, total"]},
    )
