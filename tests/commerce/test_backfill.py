"""A backfill killed halfway (SIGKILL of a real ``storedesk backfill`` process) and restarted creates
exactly the right rows — no duplicate, no gap — and the restart fetches only the pages it still needs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from storedesk.commerce import sync
from storedesk.commerce.connectors.protocol import PlatformUnavailable
from storedesk.db.session import Database
from tests.commerce.conftest import Served, connect, rows, scalar, shopify_body, woo_body
from tests.conftest import TEST_SECRET, ShopWorld

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def _cli(db_url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STOREDESK_DATABASE_URL": db_url,
        "STOREDESK_SECRET_KEY": TEST_SECRET,
        "PYTHONPATH": str(ROOT),
    }
    code = "import sys; from storedesk.commerce.cli import app; app(sys.argv[1:])"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


async def test_a_killed_backfill_resumes_without_duplicates_or_gaps(
    api: httpx.AsyncClient, db: Database, db_url: str, shop_a: ShopWorld, fakes: Served
) -> None:
    fakes.woo.reset(orders=250, customers=3, products=2)
    store = await connect(api, shop_a, woo_body(fakes, backfill=False))
    # data requests: customers p1, products p1, orders p1, p2, p3 ← the server holds this one. The backfill
    # reads one page ahead, so when p3 is requested p2 is being written: wait for it, then kill the process
    fakes.woo.faults.stall_on_request = 5
    proc = _cli(db_url, "backfill", str(store["id"]))
    stalled = await anyio.to_thread.run_sync(fakes.woo.faults.stalled.wait, 60)
    assert stalled, (
        proc.stderr.read().decode() if proc.poll() is not None else "the backfill never reached page 3"
    )
    for _ in range(600):  # the killed process's last page is committed by then
        if await scalar(db, "SELECT count(*) FROM orders") >= 200:
            break
        await anyio.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    fakes.woo.faults.stall_on_request = None
    fakes.woo.faults.release.set()

    # what survived the crash: everything up to the last committed page, and its checkpoint
    assert await scalar(db, "SELECT count(*) FROM orders") == 200
    state = await scalar(db, "SELECT sync_state FROM stores WHERE id = :id", id=store["id"])
    state = state if isinstance(state, dict) else json.loads(state)
    orders_state = state["backfill"]["resources"]["orders"]
    assert (orders_state["cursor"], orders_state["done"], orders_state["complete"]) == ("3", 200, False)
    assert state["backfill"]["lease"]["owner"].split(":")[1] == str(proc.pid)

    before = fakes.woo.faults.data_requests
    result = await sync.run_backfill(db, store_id=store["id"])  # the dead process's lease is taken over
    assert (result.status, result.pages, result.items) == ("done", 1, 50)
    assert fakes.woo.faults.data_requests - before == 1  # only the page still missing

    expected = sorted(str(i) for i in fakes.woo.orders)
    mirrored = [e for (e,) in await rows(db, "SELECT external_id FROM orders ORDER BY external_id")]
    assert mirrored == expected
    assert await scalar(db, "SELECT count(*) FROM order_lines") == 500
    assert await scalar(db, "SELECT count(DISTINCT external_id) FROM order_lines") == 500
    assert await scalar(db, "SELECT count(*) FROM products") == 2
    assert await scalar(db, "SELECT count(*) FROM variants") == 8
    assert await scalar(db, "SELECT count(*) FROM customers WHERE shop_id = :s", s=shop_a.id) == 4


async def test_an_interrupted_backfill_job_resumes_and_a_second_run_changes_nothing(
    api: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=25, customers=2, products=1)
    store = await connect(api, shop_a, shopify_body(fakes))
    # the platform fails from the second order page on (data requests: customers, products, orders p1, p2 …):
    # the run stops, keeps its checkpoint, and the queued job resumes later
    fakes.shopify.faults.fail_from_request = 4
    with pytest.raises(PlatformUnavailable):
        await sync.run_backfill(db, store_id=store["id"])
    assert await scalar(db, "SELECT count(*) FROM orders") == 10
    fakes.shopify.faults.fail_from_request = None
    await run_jobs()  # the queued job resumes from page 2
    assert await scalar(db, "SELECT count(*) FROM orders") == 25
    assert await scalar(db, "SELECT count(DISTINCT external_id) FROM orders") == 25
    lines = await scalar(db, "SELECT count(*) FROM order_lines")
    assert lines == 50
    again = await sync.run_backfill(db, store_id=store["id"])
    assert again.status == "done" and again.pages == 0
    assert await scalar(db, "SELECT count(*) FROM orders") == 25
