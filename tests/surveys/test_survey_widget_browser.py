"""The CSAT survey in the chat widget, in Chromium against a real uvicorn server (embedded jobs): the
agent resolves, the score buttons appear in the visitor's language, one tap records the answer."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from storedesk.surveys.models import SurveyResponse
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.channels.test_widget_live import Live

pytestmark = pytest.mark.anyio


@pytest.mark.browser
async def test_csat_buttons_in_the_widget(live: Live) -> None:
    require_browser()
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(locale="de-DE")
            await page.goto(f"{live.url}/demo/store?shop=demo")
            await expect(page.locator("#storedesk-widget[data-ready='1']")).to_be_attached(timeout=10_000)
            await page.locator(".sd-launcher").click()
            await page.locator("input[name=email]").fill("kunde@example.de")
            await page.locator(".sd-primary").click()
            await page.locator(".sd-input").fill("Wo ist mein Paket?")
            await page.locator(".sd-input").press("Enter")
            await expect(page.locator(".sd-visitor:not(.sd-pending)")).to_have_text("Wo ist mein Paket?")

            async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
                [conv] = (await http.get("/api/v1/conversations", headers=live.shop.h())).json()["items"]
                r = await http.post(
                    f"/api/v1/conversations/{conv['id']}/messages",
                    json={"text": "Es kommt morgen."},
                    headers=live.shop.h(),
                )
                assert r.status_code == 201
                r = await http.post(
                    f"/api/v1/conversations/{conv['id']}/status",
                    json={"status": "resolved"},
                    headers=live.shop.h(),
                )
                assert r.status_code == 200

            # the embedded runner sends the survey; the widget shows its five scores as buttons
            choices = page.locator(".sd-agent .sd-choice")
            await expect(choices).to_have_text(["1", "2", "3", "4", "5"], timeout=15_000)
            await expect(page.locator(".sd-agent p").last).to_contain_text("Wie zufrieden sind Sie")
            await choices.nth(3).click()
            await expect(page.locator(".sd-agent p").last).to_have_text("Vielen Dank für Ihr Feedback!")
            await expect(choices.nth(0)).to_be_disabled()
            await expect(page.locator(".sd-choice.sd-chosen")).to_have_text("4")
            await page.screenshot(
                path=str(Path(os.environ.get("STOREDESK_ARTIFACTS", "/tmp")) / "storedesk-widget-survey.png")
            )
        finally:
            await browser.close()

    async with live.db.transaction() as session:
        rows = (await session.execute(select(SurveyResponse))).scalars().all()
    assert [(r.kind, r.score, r.conversation_id, r.language) for r in rows] == [("csat", 4, conv["id"], "de")]
