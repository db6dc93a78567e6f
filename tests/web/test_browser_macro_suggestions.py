"""Suggested macros in the agent workspace, in Debian's Chromium against a real server: a customer asks
where their order is, the conversation shows the shop's best macros above the composer, and one click puts
the macro's text (variables filled for this conversation) into the composer."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from storedesk.db.session import Database
from storedesk.kit.actor import Actor
from storedesk.knowledge.macros import save_macro
from tests.assistant import kit
from tests.web.conftest import LiveServer, shot
from tests.web.test_browser import open_customer_message

pytestmark = pytest.mark.browser


def _run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may run an event loop in this thread
        return pool.submit(asyncio.run, coro).result()


async def _prepare(server: LiveServer) -> kit.Buyer:
    """The default assistant policy (suggest only), three macros, a buyer with a shipped order."""
    db = Database(server.settings.database_url)
    try:
        await kit.set_assistant_policy(db, server.shop, {})
        async with db.transaction() as session:
            for name, intent, body in [
                (
                    "Order on its way",
                    "track_order",
                    "Hi {{customer.first_name}},\nyour order {{order.number}} is on its way with "
                    "{{shipment.carrier}}.\nKind regards",
                ),
                ("Return label", "return_request", "Hi {{customer.first_name}},\nhere is your return label."),
                ("Payment methods", None, "Hi {{customer.first_name}},\nwe accept cards and PayPal."),
            ]:
                await save_macro(
                    session,
                    shop_id=server.shop.id,
                    actor=Actor("system"),
                    languages=["en", "de"],
                    name=name,
                    bodies={"en": body},
                    intent=intent,
                )
        anna = await kit.buyer(db, server.shop, "anna.macro@example.com", "Anna Smith", "en")
        await kit.order(
            db, server.shop, anna, number="7101", shipped=True, carrier="UPS", tracking="1Z999AA1"
        )
        return anna
    finally:
        await db.dispose()


def test_the_sidebar_suggests_the_fitting_macro_and_one_click_inserts_it(
    browser: Any, live_server: LiveServer
) -> None:
    anna = _run(_prepare(live_server))
    page, _ = open_customer_message(
        browser,
        live_server,
        sender_email=anna.email,
        text="Hello, where is my order 7101?",
        provider_message_id="browser-macro-1",
    )
    box = page.locator("[data-macro-suggestions]")
    box.wait_for(timeout=30_000)
    buttons = box.locator("[data-macro-insert]")
    # ours (tagged with the intent) first; the seeded "Where is my order" (no tag) by its words; the
    # return and payment macros do not fit
    assert buttons.locator("span[dir=auto]").all_inner_texts() == ["Order on its way", "Where is my order"]
    textarea = page.locator("#c-text")
    assert textarea.input_value() == ""
    buttons.first.click()
    page.wait_for_function("() => document.querySelector('#c-text').value !== ''")
    assert textarea.input_value() == "Hi Anna,\nyour order 7101 is on its way with UPS.\nKind regards"
    assert page.locator("[data-macro-warning]").is_hidden()
    shot(page, "macro-suggestions")
    page.context.close()
