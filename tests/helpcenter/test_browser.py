"""Browser tests (Debian's Chromium through Playwright) of the self-service pages: help-center search,
the tracking page and a full return ending with the label download. Screenshots go to
docs/screenshots/ (helpcenter.png, tracking.png, returns.png)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.browser import sync_chromium
from tests.conftest import TEST_SECRET, make_shop
from tests.helpcenter.kit import reset_state, seed_help_center, seed_order, wire
from tests.servers import free_port, serve_in_thread

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Live:
    url: str
    slug: str


async def _seed(url: str) -> str:
    db = Database(url)
    try:
        shop = await make_shop(db, "nordlys")
        from storedesk.shops.models import Shop

        async with db.transaction() as session:
            row = await session.get(Shop, shop.id)
            assert row is not None
            row.name = "Nordlys Home"
            row.support_email = "hello@nordlys.example"
        await seed_help_center(db, shop.id)
        await seed_order(db, shop.id, number="100234", delivered_days_ago=None, eta_days=1)
        await seed_order(
            db, shop.id, number="100235", email="ole@example.no", customer_language="en", delivered_days_ago=6
        )
        return shop.slug
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("selfservice-live")
    path = root / "storedesk.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    reset_state()
    with ThreadPoolExecutor(1) as pool:
        slug = pool.submit(asyncio.run, _seed(url)).result()
    port = free_port()
    settings = Settings(
        data_dir=root / "data",
        database_url=url,
        secret_key=TEST_SECRET,
        jobs_mode="external",
        base_url=f"http://127.0.0.1:{port}",
    )
    try:
        with serve_in_thread(wire(create_app(settings)), port=port) as base:
            yield Live(base, slug)
    finally:
        reset_state()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_chromium() as b:
        yield b


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_help_center_search(live: Live, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live.url}/help/{live.slug}")
    assert page.url == f"{live.url}/help/{live.slug}/en"
    assert page.locator("h1").inner_text() == "How can we help?"
    box = page.get_by_role("combobox", name="Search the help center")
    box.click()
    box.type("retrun", delay=40)
    suggestions = page.locator("#live-results a")
    suggestions.first.wait_for(state="visible", timeout=5000)
    assert suggestions.first.inner_text() == "Returns and refunds"
    shot(page, "helpcenter", full_page=False)
    box.press("Enter")
    page.wait_for_url(f"{live.url}/help/{live.slug}/en/search?q=retrun")
    assert page.locator(".notice.info").inner_text() == "Showing results for “return”."
    page.locator(".result h2 a").first.click()
    page.wait_for_url(f"{live.url}/help/{live.slug}/en/a/returns-and-refunds")
    assert page.locator("h1").inner_text() == "Returns and refunds"
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Send").click()
    assert page.get_by_role("status").inner_text() == "Thank you for your feedback!"
    # a Hungarian reader finds the English article and is told so
    page.goto(f"{live.url}/help/{live.slug}/hu/search?q=visszaküldés")
    first = page.locator(".result").first
    assert first.locator("h2 a").inner_text() == "Returns and refunds"
    assert first.locator(".lang-tag").inner_text() == "Nyelv: angol"
    assert errors == []
    context.close()


def test_tracking_page(live: Live, browser: Any) -> None:
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, locale="de-DE", timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    page.goto(f"{live.url}/track/{live.slug}")
    assert page.locator("h1").inner_text() == "Bestellung verfolgen"
    page.get_by_label("Bestellnummer").fill("100234")
    page.get_by_label("E-Mail-Adresse").fill("nobody@example.com")
    page.get_by_role("button", name="Bestellung verfolgen").click()
    assert (
        page.get_by_role("alert")
        .inner_text()
        .startswith("Zu diesen Angaben haben wir keine Bestellung gefunden.")
    )
    page.get_by_label("E-Mail-Adresse").fill("lena@example.de")
    page.get_by_role("button", name="Bestellung verfolgen").click()
    page.wait_for_url("**/o/**tz=Europe%2FBerlin")
    assert page.locator("h1").inner_text() == "Bestellung 100234"
    assert page.locator("[data-status]").inner_text() == "Unterwegs"
    events = page.locator(".timeline li strong").all_inner_texts()
    assert events == [
        "Unterwegs",
        "Im Zustellstützpunkt angekommen",
        "Von DHL abgeholt",
        "Sendungsdaten übermittelt",
    ]
    assert (
        page.locator(".timeline .orig").first.inner_text()
        == "Text des Versanddienstleisters: Sortierung abgeschlossen"
    )
    assert page.locator(".muted.small").last.inner_text() == "Zeiten in Ihrer Zeitzone (Europe/Berlin)."
    shot(page, "tracking")
    context.close()


def test_full_return_ends_with_the_label(live: Live, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, locale="en-GB", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{live.url}/returns/{live.slug}")
    page.get_by_label("Order number").fill("100235")
    page.get_by_label("Email address").fill("ole@example.no")
    page.get_by_role("button", name="Find my order").click()
    page.wait_for_url("**/returns/nordlys/o/**")
    assert page.locator("h1").inner_text() == "Choose what to return"
    vase = page.locator(".ret-line.no")
    assert vase.locator(".why").inner_text() == "Final sale: this item cannot be returned."
    page.locator(".ret-line:not(.no) input[type=checkbox]").check()
    page.locator(".ret-line:not(.no) select[name^=qty]").select_option("1")
    page.locator(".ret-line:not(.no) select[name^=reason]").select_option("too_big")
    page.get_by_label("Exchange for another size or colour").check()
    exchange = page.locator("select[name^=variant]")
    assert exchange.is_visible()
    assert exchange.locator("option[disabled]").inner_text() == "Linen shirt XL / sand (out of stock)"
    exchange.select_option(label="Linen shirt L / sand")
    shot(page, "returns-choose")
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Summary"
    assert (
        page.locator(".sum tr.total").inner_text() == "You get the new items; nothing is charged or refunded."
    )
    page.get_by_role("button", name="Request the return").click()
    page.wait_for_url("**/returns/nordlys/r/**")
    assert page.locator("h1").inner_text() == "Return R100235-1 is registered"
    assert page.locator("[data-status]").inner_text() == "Label issued"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the return label (PDF)").click()
    download = download_info.value
    target = tmp_path / "label.pdf"
    download.save_as(str(target))
    assert download.suggested_filename == "return-R100235-1.pdf"
    assert target.read_bytes().startswith(b"%PDF-")
    shot(page, "returns")
    context.close()

    # the agent finds that return in the queue (in this test: it must not depend on another test's data)
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = _agent(live, context)
    page.goto(f"{live.url}/app/returns?status=all")
    assert page.locator("h1").inner_text() == "Returns"
    assert page.locator("[data-return]").count() >= 1
    page.locator("[data-return] a").first.click()
    page.wait_for_url("**/app/returns/**")
    assert page.locator("[data-status]").inner_text() == "Label issued"
    shot(page, "returns-queue", full_page=False)
    context.close()


def _agent(live: Live, context: Any) -> Any:
    page = context.new_page()
    page.goto(f"{live.url}/app/login")
    page.fill("#f-email", "agent@nordlys.test")
    page.fill("#f-password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/app/inbox**")
    return page


def test_agent_pages_match_the_workspace(live: Live, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = _agent(live, context)
    page.goto(f"{live.url}/app/help")
    page.get_by_role("link", name="Returns and refunds").click()
    assert page.locator("#f-title").input_value() == "Returns and refunds"
    page.locator("#f-body").fill("**Changed** text for the preview")
    page.get_by_text("Changed", exact=True).wait_for(timeout=5000)
    assert page.locator("#preview").inner_text() == "Changed text for the preview"
    shot(page, "helpcenter-editor", full_page=False)
    context.close()
