"""The KPI dashboard in a real browser: 60 days of synthetic traffic rolled up, the page opened with a
session cookie, every chart drawn by Chart.js, filters and the agent table present; a screenshot goes
to docs/screenshots/kpi-dashboard.png."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from storedesk.agents.models import Role
from storedesk.agents.service import create_agent
from storedesk.analytics.rollup import refresh_shop
from storedesk.config import Settings
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM
from tests.analytics import synthetic
from tests.analytics.wiring import wired_app
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.conftest import TEST_SECRET
from tests.servers import serve_in_thread

pytestmark = pytest.mark.browser
# the docs screenshot is taken on the demo shop (tests/demo/test_demo_screens_browser.py)
SCREENSHOT = Path(os.environ.get("STOREDESK_ARTIFACTS", "/tmp")) / "storedesk-kpi-dashboard-synthetic.png"


async def seed(url: str) -> int:
    db = Database(url)
    try:
        tenant = await synthetic.tenant(db, "dash", customers=1500)
        async with db.transaction() as session:
            await create_agent(
                session,
                shop_id=tenant.shop_id,
                email="lead@dash.test",
                name="Team Lead",
                role=Role.admin,
                password="correct-horse-battery",
                actor=SYSTEM,
            )
        today = datetime.now(UTC).date()
        await synthetic.generate(
            db, tenant, first_day=today - timedelta(days=59), days=60, per_day=30, orders_per_day=25
        )
        await refresh_shop(db, tenant.shop_id, safety=timedelta(0))
        return tenant.shop_id
    finally:
        await db.dispose()


def test_dashboard_draws_its_charts(sqlite_url: str, tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    settings = Settings(
        data_dir=tmp_path / "data", database_url=sqlite_url, secret_key=TEST_SECRET, jobs_mode="external"
    )
    asyncio.run(seed(sqlite_url))
    with serve_in_thread(wired_app(settings, None)) as base, sync_playwright() as p:
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"email": "lead@dash.test", "password": "correct-horse-battery", "shop": "dash"},
        )
        assert login.status_code == 200, login.text
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
            context.add_cookies(
                [{"name": "storedesk_session", "value": login.cookies["storedesk_session"], "url": base}]
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/app/kpis?days=30")
            page.wait_for_selector("html[data-charts='6']", state="attached", timeout=15_000)
            assert errors == []
            assert page.locator("canvas[data-rendered=true]").count() == 6
            assert page.locator("[data-kpi=conversations] .kpi-value").inner_text() != "–"
            assert page.locator("[data-agents] tbody tr").count() >= 6
            csv = page.locator("a[download]", has_text="agent").first.get_attribute("href")
            assert csv is not None and csv.startswith("/api/v1/kpis.csv?") and "group_by=agent" in csv
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.set_viewport_size({"width": 1440, "height": 2000})  # the workspace scrolls inside <main>
            page.wait_for_timeout(300)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            # a filter narrows the view and the page still draws
            page.select_option("select[name=channel]", label="Chat")
            page.get_by_role("button", name="Apply").click()
            page.wait_for_selector("html[data-charts='6']", state="attached", timeout=15_000)
            assert "channel=" in page.url
        finally:
            browser.close()
