"""Issue 6 "done when", in Debian's Chromium against a real server and the local fake platforms: an admin
connects a Shopify store and a WooCommerce store through the settings page and watches the backfill reach
100 %; an agent opens the customer's conversation, cancels an unfulfilled Shopify order and refunds one
line of a WooCommerce order from the sidebar; the platforms received exactly those calls, the mirror
changed, and the audit trail shows both. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.conversations import service as conversations
from storedesk.conversations.models import Direction
from storedesk.customers.service import create_customer
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.crypto import SecretBox
from tests.commerce.conftest import Served
from tests.conftest import TEST_SECRET, ShopWorld, make_shop
from tests.servers import free_port, serve_in_thread
from tests.web.conftest import browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.browser

TIMEOUT = 15_000
# the backfill runs in the server's job runner; on a loaded CI machine it can take longer than a click
BACKFILL_TIMEOUT = 90_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BUYER = "anna.berg0@example.com"  # the fakes' first customer: every order below is hers


@dataclass
class Live:
    url: str
    db_path: Path
    shop: ShopWorld
    conversation_id: int


async def _seed(url: str) -> tuple[ShopWorld, int]:
    db = Database(url)
    try:
        shop = await make_shop(db, "nordlys", box=SecretBox([TEST_SECRET]))
        async with db.transaction() as session:
            anna = await create_customer(
                session, shop_id=shop.id, actor=SYSTEM, name="Anna Berg", email=BUYER, language="en"
            )
            conv = await conversations.open_conversation(
                session,
                shop_id=shop.id,
                actor=SYSTEM,
                customer_id=anna.id,
                channel_id=shop.channel_id,
                subject="Cancel my order please",
                language="en",
            )
            await conversations.add_message(
                session,
                shop_id=shop.id,
                actor=Actor("customer", anna.id),
                conversation_id=conv.id,
                direction=Direction.inbound,
                text="Hi! Please cancel order 1001, and one mug of my other order arrived broken.",
            )
            return shop, conv.id
    finally:
        await db.dispose()


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Iterator[Live]:
    path = tmp_path / "storedesk.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    with ThreadPoolExecutor(1) as pool:
        shop, conversation_id = pool.submit(asyncio.run, _seed(url)).result()
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        secret_key=TEST_SECRET,
        jobs_mode="embedded",
        base_url=f"http://127.0.0.1:{port}",
    )
    with serve_in_thread(create_app(settings), port=port) as base:
        yield Live(base, path, shop, conversation_id)


def query(live: Live, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(live.db_path) as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def sign_in(chromium: Any, live: Live, email: str) -> Any:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(f"{live.url}/app/login")
    page.fill("#f-email", email)
    page.fill("#f-password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/app/inbox.*"))
    return page


def shot(page: Any, name: str, *, element: str | None = None) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = page.locator(element) if element else page
    target.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_admin_connects_two_stores_and_an_agent_cancels_and_refunds_from_the_sidebar(
    browser: Any,  # noqa: F811
    live: Live,
    fakes: Served,
) -> None:
    fakes.shopify.reset(orders=2, customers=1, products=1)
    fakes.woo.reset(orders=1, customers=1, products=1)
    first, second = list(fakes.shopify.orders)
    fakes.shopify.fulfil(second)
    (woo_order,) = list(fakes.woo.orders)

    # --- the admin connects both stores through the settings page and watches the backfill
    admin = sign_in(browser, live, "admin@nordlys.test")
    admin.goto(f"{live.url}/app/stores")
    assert admin.locator("text=No store connected yet.").count() == 1
    admin.locator("[data-platform=shopify] summary").click()
    form = admin.locator("[data-platform=shopify] form")
    form.locator("[name=store_domain]").fill(fakes.shopify.domain)
    form.locator("[name=access_token]").fill("shpat_revoked")
    form.locator("[name=api_secret]").fill(fakes.shopify.api_secret)
    form.locator("[name=base_url]").fill(fakes.shopify_url)
    form.locator("button[type=submit]").click()
    admin.locator("[data-connect-error]").wait_for()
    assert admin.locator("[data-connect-error]").inner_text().startswith("The connection test failed:")
    assert query(live, "SELECT count(*) FROM stores") == [(0,)]
    form = admin.locator("[data-platform=shopify] form")
    form.locator("[name=access_token]").fill(fakes.shopify.token)
    form.locator("[name=api_secret]").fill(fakes.shopify.api_secret)
    form.locator("button[type=submit]").click()
    shopify_card = admin.locator("[data-store-platform=shopify]")
    shopify_card.wait_for()
    shopify_card.locator("[data-backfill-status=done]").wait_for(timeout=BACKFILL_TIMEOUT)
    assert shopify_card.locator("progress").get_attribute("value") == "100"

    admin.locator("[data-platform=woocommerce] summary").click()
    form = admin.locator("[data-platform=woocommerce] form")
    form.locator("[name=site_url]").fill("https://shop.example")
    form.locator("[name=consumer_key]").fill(fakes.woo.key)
    form.locator("[name=consumer_secret]").fill(fakes.woo.secret)
    form.locator("[name=base_url]").fill(fakes.woo_url)
    form.locator("button[type=submit]").click()
    secret = admin.locator("[data-generated=webhook_secret]")
    secret.wait_for()
    generated = secret.inner_text()
    assert len(generated) >= 40
    woo_card = admin.locator("[data-store-platform=woocommerce]")
    woo_card.locator("[data-backfill-status=done]").wait_for(timeout=BACKFILL_TIMEOUT)
    assert woo_card.locator("[data-webhook-url]").inner_text() == (
        f"{live.url}/webhooks/woocommerce/{query(live, 'SELECT max(id) FROM stores')[0][0]}"
    )
    shot(admin, "store-settings")
    admin.reload()
    assert admin.locator("[data-generated]").count() == 0  # the secret is shown once only
    assert admin.locator("[data-store-platform]").count() == 2

    orders = {
        platform + ":" + external: (oid, number)
        for oid, number, platform, external in query(
            live,
            "SELECT o.id, o.number, s.platform, o.external_id FROM orders o JOIN stores s ON s.id = o.store_id",
        )
    }
    cancel_id, cancel_no = orders[f"shopify:{first}"]
    refund_id, _ = orders[f"woocommerce:{woo_order}"]
    assert len(orders) == 3

    # the admin keeps the conversation open: the agent's actions appear there live
    admin.goto(f"{live.url}/app/c/{live.conversation_id}")
    admin.wait_for_function("() => window.htmx !== undefined")
    admin.wait_for_timeout(300)  # the event stream is connected

    # --- the agent cancels the unfulfilled Shopify order from the sidebar
    agent = sign_in(browser, live, "agent@nordlys.test")
    agent.goto(f"{live.url}/app/c/{live.conversation_id}")
    sidebar = agent.locator("#sidebar")
    assert sorted(t.strip() for t in sidebar.locator(".pill.store").all_text_contents()) == sorted(
        [fakes.shopify.name, fakes.shopify.name, "shop.example"]
    )
    order = agent.locator(f"#order-{cancel_id}")
    if order.get_attribute("open") is None:
        order.locator("summary").click()
    order.locator("[data-order-action=cancel]").click()
    panel = agent.locator(f"#oa-{cancel_id} [data-panel=cancel]")
    panel.wait_for()
    panel.locator("[data-review]").click()
    preview = agent.locator(f"#oa-{cancel_id} [data-preview]")
    preview.wait_for()
    total = fakes.shopify.orders[first]["total"]
    assert f"Cancel order {cancel_no} in {fakes.shopify.name}." in preview.inner_text()
    assert f"Refund €{total / 100:.2f} to the customer." in preview.inner_text()
    assert fakes.shopify.orders[first]["cancelled_at"] is None  # nothing happened yet
    shot(agent, "order-action-preview", element=f"#order-{cancel_id}")
    agent.locator(f"#oa-{cancel_id} [data-confirm]").click()
    result = agent.locator(f"#order-{cancel_id} [data-result=cancel]")
    result.wait_for()
    assert result.inner_text().startswith("Done.")
    assert agent.locator(f"#order-{cancel_id} [data-event='order.cancelled']").count() == 1
    assert agent.locator(f"#order-{cancel_id} [data-order-action=cancel]").count() == 0
    admin.locator(f"#order-{cancel_id} [data-event='order.cancelled']").wait_for(state="attached")
    assert admin.locator(f"#order-{cancel_id} [data-order-action=cancel]").count() == 0
    agent.wait_for_timeout(2500)  # the agent's own live refresh keeps the result on screen
    assert agent.locator(f"#order-{cancel_id} [data-result=cancel]").count() == 1

    # --- and refunds one line of the WooCommerce order
    order = agent.locator(f"#order-{refund_id}")
    if order.get_attribute("open") is None:
        order.locator("summary").click()
    order.locator("[data-order-action=refund]").click()
    panel = agent.locator(f"#oa-{refund_id} [data-panel=refund]")
    panel.wait_for()
    line_id, line_external, line_total, line_qty = query(
        live,
        "SELECT id, external_id, total_minor, quantity FROM order_lines WHERE order_id = ? ORDER BY id LIMIT 1",
        refund_id,
    )[0]
    panel.locator(f"[name=qty_{line_id}]").fill(str(line_qty))
    panel.locator("[data-review]").click()
    agent.locator(f"#oa-{refund_id} [data-preview]").wait_for()
    agent.locator(f"#oa-{refund_id} [data-confirm]").click()
    agent.locator(f"#order-{refund_id} [data-result=refund]").wait_for()
    assert agent.locator(f"#order-{refund_id} .order-history").get_attribute("open") is not None
    shot(agent, "order-actions", element=f"#order-{refund_id}")

    # the platforms got exactly these calls
    shop_order = fakes.shopify.orders[first]
    assert shop_order["cancelled_at"] is not None and shop_order["financial"] == "REFUNDED"
    assert shop_order["refunds"][0]["amount"] == total
    assert fakes.shopify.orders[second]["cancelled_at"] is None
    assert fakes.woo.refund_requests == [
        (
            woo_order,
            {
                "amount": f"{line_total / 100:.2f}",
                "reason": "",
                "api_refund": True,
                "api_restock": True,
                "line_items": [
                    {
                        "id": int(line_external),
                        "quantity": line_qty,
                        "refund_total": f"{line_total / 100:.2f}",
                    }
                ],
            },
        )
    ]
    # the mirror changed
    assert query(live, "SELECT financial_status, refunded_minor FROM orders WHERE id = ?", cancel_id) == [
        ("refunded", total)
    ]
    assert query(live, "SELECT cancelled_at IS NOT NULL FROM orders WHERE id = ?", cancel_id) == [(1,)]
    assert query(live, "SELECT financial_status, refunded_minor FROM orders WHERE id = ?", refund_id) == [
        ("partially_refunded", line_total)
    ]
    assert query(live, "SELECT refunded_quantity FROM order_lines WHERE id = ?", line_id) == [(line_qty,)]
    # the audit trail: both actions, by the agent, in order
    assert query(
        live,
        "SELECT type, actor_type, actor_id, order_id FROM events WHERE type LIKE 'order.%' AND type != 'order.synced' ORDER BY id",
    ) == [
        ("order.cancelled", "agent", live.shop.agent_ids["agent"], cancel_id),
        ("order.refunded", "agent", live.shop.agent_ids["agent"], refund_id),
    ]
    history = agent.locator(f"#order-{refund_id} [data-event='order.refunded']").inner_text()
    assert "Agent nordlys" in history and "refunded" in history
