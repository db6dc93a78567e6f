"""Issue 7's "Done when", as one browser test (Debian's Chromium through Playwright) against a running
server with the demo help center: a German customer finds the sizing article from the chat widget on
the demo storefront (and does not write: a deflection), follows a late order on /track (in the widget
and on the page), returns one shirt for another size through /returns and downloads the label — and an
agent sees the return in the returns queue (with the exchange note) and in the customer's timeline."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, update

from storedesk.api.app import create_app
from storedesk.commerce.models import Order
from storedesk.config import Settings
from storedesk.customers.models import Customer
from storedesk.db.session import Database
from storedesk.helpcenter import service as help_service
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop
from tests.browser import sync_chromium
from tests.conftest import TEST_SECRET, ShopWorld, make_shop
from tests.helpcenter.kit import Seeded, reset_state, seed_help_center, seed_order
from tests.servers import free_port, serve_in_thread

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class World:
    url: str
    db_url: str
    shop: ShopWorld
    late: Seeded
    delivered: Seeded


async def _seed(url: str) -> tuple[ShopWorld, Seeded, Seeded]:
    db = Database(url)
    try:
        shop = await make_shop(db, "nordlys")
        async with db.transaction() as session:
            row = await session.get(Shop, shop.id)
            assert row is not None
            row.name = "Nordlys Home"
            row.business_hours = ALWAYS_OPEN  # the widget offers the chat, not the offline form
        await seed_help_center(db, shop.id)
        # Lena's parcel of order 100234 was expected three days ago; order 100235 arrived six days ago
        late = await seed_order(db, shop.id, number="100234", delivered_days_ago=None, eta_days=-3)
        delivered = await seed_order(db, shop.id, number="100235", delivered_days_ago=6)
        async with db.transaction() as session:  # one customer with both orders
            await session.execute(
                update(Order).where(Order.id == delivered.order_id).values(customer_id=late.customer_id)
            )
            await session.execute(delete(Customer).where(Customer.id == delivered.customer_id))
        return shop, late, delivered
    finally:
        await db.dispose()


async def _deflections(url: str, shop_id: int) -> help_service.DeflectionStats:
    db = Database(url)
    try:
        async with db.transaction() as session:
            return await help_service.deflection_stats(
                session,
                shop_id=shop_id,
                since=utcnow() - timedelta(days=1),
                now=utcnow() + timedelta(minutes=31),
            )
    finally:
        await db.dispose()


def _run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
def world(tmp_path: Path, sqlite_template: Path) -> Iterator[World]:
    path = tmp_path / "storedesk.db"
    shutil.copy(sqlite_template, path)
    db_url = f"sqlite+aiosqlite:///{path}"
    reset_state()
    shop, late, delivered = _run(_seed(db_url))
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        secret_key=TEST_SECRET,
        jobs_mode="external",
        base_url=f"http://127.0.0.1:{port}",
    )
    with serve_in_thread(create_app(settings), port=port) as url:
        yield World(url, db_url, shop, late, delivered)
    reset_state()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_chromium() as b:
        yield b


def test_customer_helps_herself_and_the_agent_sees_it(world: World, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 1200, "height": 900},
        locale="de-DE",
        timezone_id="Europe/Berlin",
        accept_downloads=True,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 1. the widget on the demo storefront: the sizing article in German, opened inside the widget
    page.goto(f"{world.url}/demo/store?shop=nordlys")
    expect(page.locator("#storedesk-widget[data-ready='1']")).to_be_attached(timeout=15_000)
    page.locator(".sd-launcher").click()
    page.locator("input[name=email]").fill("lena@example.de")
    page.locator("input[name=order_number]").fill("100234")
    page.locator(".sd-primary").click()
    page.locator(".sd-input").press_sequentially("Welche Größe passt mir?", delay=30)
    suggestions = page.locator(".sd-suggest .sd-article-title")
    expect(page.locator(".sd-suggest-title")).to_have_text("Diese Artikel helfen vielleicht")
    expect(suggestions.first).to_have_text("Größentabelle", timeout=10_000)
    assert suggestions.count() <= 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-suggestions.png"))
    page.locator(".sd-article", has_text="Größentabelle").click()
    article = page.frame_locator(".sd-frame")
    expect(article.locator("h1")).to_have_text("Größentabelle")
    expect(article.locator("article")).to_have_attribute("lang", "de")
    expect(page.locator(".sd-frame-title")).to_have_text("Größentabelle")
    page.locator(".sd-back").click()
    expect(page.locator(".sd-input")).to_have_value("Welche Größe passt mir?")

    # 2. "Track my order" in the widget: she identified with the order's number and email → signed page
    page.locator(".sd-track").click()
    tracking = page.frame_locator(".sd-frame")
    expect(tracking.locator("h1")).to_have_text("Bestellung 100234")
    expect(tracking.locator("[data-late]")).to_contain_text("Ihr Paket ist verspätet.")
    expect(tracking.locator(".timeline li strong").first).to_have_text("Unterwegs")
    expect(tracking.locator(".muted.small").last).to_have_text("Zeiten in Ihrer Zeitzone (Europe/Berlin).")
    page.screenshot(path=str(SCREENSHOTS / "widget-tracking.png"))
    page.locator(".sd-back").click()
    page.locator(".sd-close").click()

    # 3. the late order on /track
    page.goto(f"{world.url}/track/nordlys")
    page.get_by_label("Bestellnummer").fill("100234")
    page.get_by_label("E-Mail-Adresse").fill("lena@example.de")
    page.get_by_role("button", name="Bestellung verfolgen").click()
    page.wait_for_url("**/track/nordlys/o/**")
    assert page.locator("h1").inner_text() == "Bestellung 100234"
    assert page.locator("[data-late]").get_attribute("data-late") == "3"
    assert page.locator("[data-late] strong").inner_text() == "Ihr Paket ist verspätet."
    assert page.locator(".muted.small").last.inner_text() == "Zeiten in Ihrer Zeitzone (Europe/Berlin)."

    # 4. one shirt of order 100235 back, for size L, through /returns; the label downloads as a PDF
    page.goto(f"{world.url}/returns/nordlys")
    page.get_by_label("Bestellnummer").fill("100235")
    page.get_by_label("E-Mail-Adresse").fill("lena@example.de")
    page.get_by_role("button", name="Bestellung suchen").click()
    page.wait_for_url("**/returns/nordlys/o/**")
    line = page.locator(".ret-line:not(.no)")
    line.locator("input[type=checkbox]").check()
    line.locator("select[name^=qty]").select_option("1")
    line.locator("select[name^=reason]").select_option("too_small")
    page.get_by_label("Umtausch gegen eine andere Größe oder Farbe").check()
    page.locator("select[name^=variant]").select_option(label="Linen shirt L / sand")
    page.get_by_role("button", name="Weiter").click()
    assert page.locator("h1").inner_text() == "Übersicht"
    assert (
        page.locator(".sum tr.total").inner_text()
        == "Sie erhalten die neuen Artikel; es wird nichts berechnet oder erstattet."
    )
    page.get_by_role("button", name="Rücksendung anmelden").click()
    page.wait_for_url("**/returns/nordlys/r/**")
    assert page.locator("h1").inner_text() == "Rücksendung R100235-1 ist angemeldet"
    assert page.locator("[data-status]").inner_text() == "Etikett erstellt"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Rücksendeetikett herunterladen (PDF)").click()
    download = download_info.value
    label = tmp_path / "label.pdf"
    download.save_as(str(label))
    assert download.suggested_filename == "return-R100235-1.pdf"
    assert label.read_bytes().startswith(b"%PDF-")
    assert errors == []
    context.close()

    # she never wrote in the widget: the article open counts as a deflection
    stats = _run(_deflections(world.db_url, world.shop.id))
    assert (stats.opened, stats.with_visitor, stats.deflected, stats.chats_after) == (1, 1, 1, 0)

    # 5. the agent: the return in the queue (with what happens with the exchange) and in her timeline
    with httpx.Client(base_url=world.url, headers=world.shop.h(), timeout=10) as api:
        [ret] = api.get("/api/v1/returns").json()["items"]
        assert (ret["number"], ret["status"]) == ("R100235-1", "label_issued")
        convs = api.get(f"/api/v1/customers/{world.late.customer_id}/conversations").json()["items"]
    [conversation] = convs
    agent = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    desk = agent.new_page()
    desk.goto(f"{world.url}/app/login")
    desk.fill("#f-email", "agent@nordlys.test")
    desk.fill("#f-password", "correct-horse-battery")
    desk.click("button[type=submit]")
    desk.wait_for_url("**/app/inbox**")
    desk.goto(f"{world.url}/app/returns")
    row = desk.locator("[data-return]", has_text="R100235-1")
    expect(row).to_have_count(1)
    row.locator("a").first.click()
    desk.wait_for_url("**/app/returns/**")
    assert desk.locator("[data-status]").inner_text() == "Label issued"
    expect(desk.locator("[data-exchange-note]")).to_contain_text(
        "storedesk does not create the replacement order on the store platform"
    )
    desk.goto(f"{world.url}/app/c/{conversation['id']}?scope=customer")
    expect(desk.locator("#timeline")).to_contain_text(
        "Ihre Rücksendung R100235-1 zur Bestellung 100235 ist bereit."
    )
    agent.close()


def test_widget_suggestions_fall_back_across_languages(world: World, browser: Any) -> None:
    """A Hungarian visitor: the help center has the sizing article in English and German only; the widget
    says which language the suggestion is in and opens it with the portal's notice."""
    from playwright.sync_api import expect

    context = browser.new_context(locale="hu-HU", timezone_id="Europe/Budapest")
    page = context.new_page()
    page.goto(f"{world.url}/demo/store?shop=nordlys")
    expect(page.locator("#storedesk-widget[data-ready='1']")).to_be_attached(timeout=15_000)
    page.locator(".sd-launcher").click()
    expect(page.locator(".sd-title")).to_have_text("Írjon nekünk")
    page.locator("input[name=email]").fill("anna@example.hu")
    page.locator(".sd-primary").click()
    page.locator(".sd-input").press_sequentially("méret", delay=30)
    first = page.locator(".sd-article").first
    expect(first.locator(".sd-article-title")).to_have_text("Size guide", timeout=10_000)
    expect(first.locator(".sd-lang")).to_have_text("Nyelv: angol")
    expect(page.locator(".sd-suggest-title")).to_have_text("Ezek a cikkek segíthetnek")
    first.click()
    frame = page.frame_locator(".sd-frame")
    expect(frame.locator("h1")).to_have_text("Size guide")
    expect(frame.locator("article")).to_have_attribute("lang", "en")
    expect(frame.locator("article .notice").first).to_have_attribute("lang", "hu")
    # typing on after the suggestions were shown and sending the message hides them
    page.locator(".sd-back").click()
    page.locator(".sd-input").press("Enter")
    expect(page.locator(".sd-visitor:not(.sd-pending)")).to_have_text("méret")
    expect(page.locator(".sd-suggest")).to_have_count(0)
    context.close()
