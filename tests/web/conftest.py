"""A real storedesk server (uvicorn, SQLite file) and Debian's Chromium for the browser tests."""

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
from storedesk.kit.crypto import SecretBox
from tests.browser import sync_chromium
from tests.conftest import TEST_SECRET, ShopWorld, make_shop
from tests.servers import free_port, serve_in_thread
from tests.web.helpers import add_agent, seed_conversation, seed_showcase

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
XSS_HTML = (
    '<p>Hello <b>team</b>, <script>window.__xss = "script"</script>'
    '<img src="x" onerror="window.__xss = \'img\'"><a href="javascript:window.__xss=\'link\'">click</a></p>'
)


@dataclass
class LiveServer:
    url: str
    shop: ShopWorld
    data: dict[str, int]
    settings: Settings


async def _seed(url: str) -> tuple[ShopWorld, dict[str, int]]:
    db = Database(url)
    try:
        box = SecretBox([TEST_SECRET])
        shop = await make_shop(db, "live-shop", box=box)
        data = await seed_showcase(db, shop.id, box, agent_id=shop.agent_ids["agent"])
        seeded = await seed_conversation(
            db,
            shop.id,
            shop.customer_id,
            shop.channel_id,
            text="Hello team, where is order 100234?",
            html=XSS_HTML,
            subject="Script test",
            language="en",
        )
        data["xss"] = seeded.conversation_id
        data["macro"] = seeded.macro_id
        data["bob"] = await add_agent(db, shop.id, "bob@live-shop.test", "Bob Second")
        return shop, data
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("live")
    path = root / "storedesk.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    # its own thread: Playwright's sync API may already run an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        shop, data = pool.submit(asyncio.run, _seed(url)).result()
    port = free_port()
    settings = Settings(
        data_dir=root / "data",
        database_url=url,
        secret_key=TEST_SECRET,
        jobs_mode="embedded",
        base_url=f"http://127.0.0.1:{port}",
    )
    with serve_in_thread(create_app(settings), port=port) as base:
        yield LiveServer(base, shop, data, settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_chromium() as b:
        yield b


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
