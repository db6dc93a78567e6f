"""A customer answers a survey in a real browser: resolve → French survey → low score with a comment →
thanks → the answer and its follow-up conversation are stored."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import storedesk.surveys.tasks  # noqa: F401  (survey.after_resolve, survey.send)
from storedesk.config import Settings
from storedesk.conversations import service as conversations
from storedesk.conversations.models import Conversation, ConversationStatus, Direction
from storedesk.customers.service import update_customer
from storedesk.db.session import Database
from storedesk.jobs.runner import JobRunner
from storedesk.kit.actor import Actor
from storedesk.surveys import links
from storedesk.surveys import service as surveys
from storedesk.surveys.models import Survey, SurveyResponse
from tests.analytics.wiring import wired_app
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.conftest import TEST_SECRET, make_shop
from tests.servers import serve_in_thread

pytestmark = pytest.mark.browser


async def seed(url: str) -> str:
    db = Database(url)
    try:
        shop = await make_shop(db, "browser-shop")
        async with db.transaction() as session:
            await surveys.update_settings(
                session, shop_id=shop.id, actor=Actor("system"), changes={"after_resolve": ["csat"]}
            )
            await update_customer(
                session,
                shop_id=shop.id,
                actor=Actor("system"),
                customer_id=shop.customer_id,
                changes={"language": "fr"},
            )
            c = await conversations.open_conversation(
                session,
                shop_id=shop.id,
                actor=Actor("system"),
                customer_id=shop.customer_id,
                channel_id=shop.channel_id,
            )
            await session.flush()
            await conversations.add_message(
                session,
                shop_id=shop.id,
                actor=Actor("customer", shop.customer_id),
                conversation_id=c.id,
                direction=Direction.inbound,
                text="Bonjour",
            )
            agent = Actor("agent", shop.agent_ids["agent"])
            await conversations.add_message(
                session,
                shop_id=shop.id,
                actor=agent,
                conversation_id=c.id,
                direction=Direction.outbound,
                text="Voilà",
            )
            await conversations.change_status(
                session,
                shop_id=shop.id,
                actor=agent,
                conversation_id=c.id,
                status=ConversationStatus.resolved,
            )
        await JobRunner(db).drain()
        async with db.transaction() as session:
            survey = (await session.execute(select(Survey))).scalar_one()
            return links.token_for(survey.id, survey.nonce)
    finally:
        await db.dispose()


async def stored(url: str) -> tuple[list[Any], Any]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            responses = [
                (r.kind, r.score, r.comment)
                for r in (await session.execute(select(SurveyResponse))).scalars()
            ]
            follow_up = (
                await session.execute(
                    select(Conversation.priority, Conversation.subject).where(Conversation.number == 2)
                )
            ).one()
            return responses, tuple(follow_up)
    finally:
        await db.dispose()


def test_customer_answers_the_survey_page(sqlite_url: str, tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    settings = Settings(
        data_dir=tmp_path / "data", database_url=sqlite_url, secret_key=TEST_SECRET, jobs_mode="external"
    )
    links.configure(settings.secret_keys, settings.base_url)
    token = asyncio.run(seed(sqlite_url))
    with serve_in_thread(wired_app(settings, None)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            page.goto(f"{base}/s/{token}?score=4")
            assert page.locator("html").get_attribute("lang") == "fr"
            assert (
                page.locator("legend").inner_text()
                == "Dans quelle mesure êtes-vous satisfait(e) de l’aide reçue de Shop browser-shop\u00a0?"
            )
            assert page.locator("#csat-4").is_checked()
            page.locator("label[for=csat-2]").click()
            page.fill("#comment", "Trop lent.")
            page.get_by_role("button", name="Envoyer").click()
            page.wait_for_selector("[data-state=thanks_low]")
            assert (
                "un membre de notre équipe va vous recontacter" in page.locator("[data-state]").inner_text()
            )
        finally:
            browser.close()
    responses, follow_up = asyncio.run(stored(sqlite_url))
    assert responses == [("csat", 2, "Trop lent.")]
    assert follow_up == ("high", "Follow-up: CSAT 2/5 on #1")
