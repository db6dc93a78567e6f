"""The widget against a real uvicorn server on a SQLite file: the SSE stream over TCP, and the whole
visitor ↔ agent round trip in Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from sqlalchemy import update

from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.db.session import Database
from storedesk.shops.models import Shop
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.conftest import TEST_SECRET, ShopWorld, make_shop

pytestmark = pytest.mark.anyio

ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class Live:
    url: str
    db: Database
    shop: ShopWorld


@pytest.fixture
def live_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{path}",
        secret_key=TEST_SECRET,
        jobs_mode="embedded",
    )


@pytest.fixture
def live_server(live_settings: Settings) -> Iterator[str]:
    app = create_app(live_settings, run_jobs=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "storedesk did not start"
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
async def live(live_server: str, live_settings: Settings) -> AsyncIterator[Live]:
    db = Database(live_settings.resolved_database_url)
    shop = await make_shop(db, "demo")
    async with db.transaction() as session:
        await session.execute(update(Shop).where(Shop.id == shop.id).values(business_hours=ALWAYS_OPEN))
    yield Live(live_server, db, shop)
    await db.dispose()


async def _events(lines: AsyncIterator[str], count: int) -> list[tuple[str, str, dict]]:
    """Read ``count`` SSE events (id, event, data) from a stream's lines."""
    out: list[tuple[str, str, dict]] = []
    fields: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if "data" in fields:
                out.append(
                    (fields.get("id", ""), fields.get("event", "message"), orjson.loads(fields["data"]))
                )
                if len(out) == count:
                    return out
            fields = {}
        elif not line.startswith(":") and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return out


async def test_sse_delivers_agent_replies_and_catches_up_after_last_event_id(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
        s = (await http.post("/widget/demo/session", json={})).json()
        r = await http.post(
            "/widget/demo/messages", json={"token": s["token"], "text": "Hi there", "client_id": "live000001"}
        )
        conversation_id = r.json()["conversation_id"]
        async with http.stream("GET", "/widget/demo/events", params={"token": s["token"]}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            [first] = await _events(lines, 1)
            assert (first[1], first[2]["from"], first[2]["text"]) == ("message", "visitor", "Hi there")
            await http.post(
                f"/api/v1/conversations/{conversation_id}/typing",
                json={"typing": True},
                headers=live.shop.h(),
            )
            await http.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"text": "Hello from support"},
                headers=live.shop.h(),
            )
            typing, reply = await _events(lines, 2)
            assert (typing[1], typing[2]) == ("typing", {"typing": True})
            assert (reply[1], reply[2]["from"], reply[2]["text"]) == (
                "message",
                "agent",
                "Hello from support",
            )
        # a reconnect with Last-Event-ID gets only what came after it
        await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "Anything else?"},
            headers=live.shop.h(),
        )
        async with http.stream(
            "GET", "/widget/demo/events", params={"token": s["token"]}, headers={"Last-Event-ID": reply[0]}
        ) as stream:
            [missed] = await _events(stream.aiter_lines(), 1)
            assert missed[2]["text"] == "Anything else?"


@pytest.mark.browser
async def test_widget_round_trip_in_chromium(live: Live) -> None:
    require_browser()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            page = await browser.new_page(locale="de-DE")
            await page.goto(f"{live.url}/demo/store?shop=demo")
            await expect(page.locator("#storedesk-widget[data-ready='1']")).to_be_attached(timeout=10_000)
            await page.locator(".sd-launcher").click()
            # pre-chat identification, in the browser's language
            await expect(page.locator(".sd-form p")).to_have_text("Wie können wir Sie erreichen?")
            await page.locator("input[name=email]").fill("kunde@example.de")
            await page.locator("input[name=order_number]").fill("1042")
            await page.locator(".sd-primary").click()
            await page.locator(".sd-input").fill("Wann kommt mein Paket?")
            await page.locator(".sd-input").press("Enter")
            await expect(page.locator(".sd-visitor:not(.sd-pending)")).to_have_text("Wann kommt mein Paket?")

            async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
                convs = (await http.get("/api/v1/conversations", headers=live.shop.h())).json()["items"]
                assert len(convs) == 1
                conv = convs[0]
                msgs = (
                    await http.get(f"/api/v1/conversations/{conv['id']}/messages", headers=live.shop.h())
                ).json()["items"]
                assert [(m["direction"], m["text"]) for m in msgs] == [("inbound", "Wann kommt mein Paket?")]
                customer = (
                    await http.get(f"/api/v1/customers/{conv['customer_id']}", headers=live.shop.h())
                ).json()
                assert customer["email"] == "kunde@example.de"

                await http.post(
                    f"/api/v1/conversations/{conv['id']}/typing", json={"typing": True}, headers=live.shop.h()
                )
                await expect(page.locator(".sd-typing")).to_be_visible()
                await http.post(
                    f"/api/v1/conversations/{conv['id']}/messages",
                    json={"text": "Morgen bis 12 Uhr."},
                    headers=live.shop.h(),
                )
                await expect(page.locator(".sd-agent p")).to_have_text("Morgen bis 12 Uhr.")
                await expect(page.locator(".sd-typing")).to_be_hidden()

                # close the panel: the next reply shows as an unread badge
                await page.locator(".sd-close").click()
                await http.post(
                    f"/api/v1/conversations/{conv['id']}/messages",
                    json={"text": "Noch etwas?"},
                    headers=live.shop.h(),
                )
                await expect(page.locator(".sd-badge")).to_have_text("1")

            # the conversation survives a reload
            await page.reload()
            await expect(page.locator("#storedesk-widget[data-ready='1']")).to_be_attached(timeout=10_000)
            await page.locator(".sd-launcher").click()
            await expect(page.locator(".sd-msg p")).to_have_text(
                ["Wann kommt mein Paket?", "Morgen bis 12 Uhr.", "Noch etwas?"]
            )
            await page.screenshot(
                path=str(Path(os.environ.get("STOREDESK_ARTIFACTS", "/tmp")) / "storedesk-widget.png")
            )
        finally:
            await browser.close()
