"""Debian's Chromium for the browser tests: its path, its flags and the skip-or-fail rule, in one place.

Browser tests skip when Chromium or Playwright is missing, unless ``STOREDESK_REQUIRE_BROWSER=1`` (CI),
where they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    """Skip when Chromium or Playwright is missing, unless STOREDESK_REQUIRE_BROWSER=1 (then fail)."""
    missing = None
    if not shutil.which(CHROMIUM):
        missing = f"{CHROMIUM} is not installed"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed"
    if missing:
        if os.environ.get("STOREDESK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser required (STOREDESK_REQUIRE_BROWSER=1) but {missing}")
        pytest.skip(missing)


@contextmanager
def sync_chromium() -> Iterator[Any]:
    """Chromium through Playwright's sync API (for tests that are not coroutines)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@asynccontextmanager
async def async_chromium() -> AsyncIterator[Any]:
    """Chromium through Playwright's async API (for tests running in the event loop)."""
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()
