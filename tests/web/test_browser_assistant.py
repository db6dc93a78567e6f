"""The assistant in the agent workspace, in Debian's Chromium against a real server: a customer writes through
the API channel, the server's job runner lets the assistant look at it, and the agent sees the turn's why and
the suggested reply, is warned about a curt draft, uses the suggestion, edits it and sends it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storedesk.conversations.models import Message
from storedesk.db.session import Database
from tests.assistant import kit
from tests.web.conftest import LiveServer, shot
from tests.web.test_browser import open_customer_message

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "assistant-panel.png"


def _run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may run an event loop in this thread
        return pool.submit(asyncio.run, coro).result()


async def _prepare(server: LiveServer) -> kit.Buyer:
    """The assistant on, but it may only suggest for order questions; a buyer with a shipped order."""
    db = Database(server.settings.database_url)
    try:
        await kit.enable_assistant(db, server.shop, extra={"automated_intents": ["feedback_praise"]})
        anna = await kit.buyer(db, server.shop, "anna@example.com", "Anna Smith", "en")
        await kit.order(
            db, server.shop, anna, number="7001", shipped=True, carrier="UPS", tracking="1Z999AA10123456784"
        )
        return anna
    finally:
        await db.dispose()


async def _agent_replies(server: LiveServer, conversation_id: int) -> list[tuple[str, str | None]]:
    db = Database(server.settings.database_url)
    try:
        async with db.transaction() as session:
            rows = await session.execute(
                select(Message.text, Message.author_type)
                .where(Message.conversation_id == conversation_id, Message.direction == "outbound")
                .order_by(Message.id)
            )
            return [(str(t), a) for t, a in rows.all()]
    finally:
        await db.dispose()


def test_the_agent_sees_the_turn_uses_the_suggestion_and_sends(browser: Any, live_server: LiveServer) -> None:
    anna = _run(_prepare(live_server))
    page, conversation_id = open_customer_message(
        browser,
        live_server,
        sender_email=anna.email,
        text="Hello, where is my order 7001?",
        provider_message_id="browser-assistant-1",
    )
    # the job runner inside the server hands the message to the assistant; the page updates live
    turn = page.locator(".ai-turn[data-turn-status=done]")
    turn.wait_for(timeout=30_000)
    assert turn.locator("[data-ai-intent]").get_attribute("data-ai-intent") == "track_order"
    assert turn.locator("[data-ai-outcome]").inner_text() == "Suggested a reply to the agents"
    turn.locator("summary").click()
    assert turn.locator("[data-ai-language]").inner_text() == "EN"
    assert turn.locator("[data-ai-decision]").get_attribute("data-ai-decision") in ("answer", "suggest")
    assert "order_number 7001" in turn.locator(".ai-facts").inner_text()

    suggestion = page.locator("[data-ai-suggestion]")
    suggestion.wait_for(timeout=15_000)
    suggested = suggestion.locator("[data-ai-text]").inner_text()
    assert "7001" in suggested and "1Z999AA10123456784" in suggested

    # a curt draft: the tone check says so, and the first click on Send holds it
    textarea = page.locator("#c-text")
    textarea.fill("NO IDEA. WAIT!!")
    page.locator(".tone-flags").wait_for()
    assert page.locator(".tone-flags li").all_inner_texts() == [
        "Sounds like shouting: capital letters.",
        "Several exclamation marks in a row can read as impatient.",
        "Sounds curt: a very short answer with no courtesy.",
    ]
    page.click("[data-send]")
    page.wait_for_function("() => document.querySelector('[data-send-label]').textContent === 'Send anyway'")
    assert _run(_agent_replies(live_server, conversation_id)) == []
    page.set_viewport_size({"width": 1280, "height": 1000})
    turn.evaluate("(d) => d.scrollIntoView({block: 'start'})")
    assert turn.evaluate("(d) => d.open")  # still open after the live refreshes
    shot(page, "assistant-panel")
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOT), full_page=False)

    # the agent corrects the intent with the keyboard; the turn shows it at once
    turn.locator("select").select_option("delivery_problem")
    turn.locator(".ai-correct button").focus()
    page.keyboard.press("Enter")
    page.locator(".ai-turn .ai-badge").wait_for()
    assert page.locator(".ai-turn [data-ai-intent]").get_attribute("data-ai-intent") == "delivery_problem"

    # Use puts the suggestion into the composer (and hides it); the agent edits and sends
    page.locator("#c-text").focus()
    page.keyboard.press("Escape")  # leave the text field: "u" uses the suggestion
    page.keyboard.press("u")
    assert textarea.input_value() == suggested
    assert not suggestion.is_visible()
    edited = "Hi Anna,\n" + suggested + "\nBest regards, Alex"
    textarea.fill(edited)
    page.wait_for_function("() => document.querySelector('[data-send-label]').textContent === 'Send reply'")
    page.click("[data-send]")
    reply = page.locator(".msg-outbound").last
    reply.wait_for()
    page.wait_for_function(
        "(t) => { const m = document.querySelectorAll('.msg-outbound .msg-body');"
        " return m.length && m[m.length - 1].innerText.trim() === t; }",
        arg=edited.strip(),
    )
    assert textarea.input_value() == ""
    # a browser sends a textarea's line breaks as CRLF (HTML form encoding)
    sent = edited.replace("\n", "\r\n")
    assert _run(_agent_replies(live_server, conversation_id)) == [(sent, "agent")]
    # the customer no longer waits: no suggestion after the live refresh
    page.wait_for_function("() => !document.querySelector('#ai-suggestion [data-ai-suggestion]')")

    # a flagged draft is held once; the second click sends it anyway
    textarea.fill("WAIT!!")
    page.click("[data-send]")
    page.wait_for_function("() => document.querySelector('[data-send-label]').textContent === 'Send anyway'")
    assert page.locator(".tone-flags li").all_inner_texts() == [
        "Several exclamation marks in a row can read as impatient.",
        "Sounds curt: a very short answer with no courtesy.",
    ]
    assert _run(_agent_replies(live_server, conversation_id)) == [(sent, "agent")]
    page.click("[data-send]")
    page.wait_for_function("() => document.querySelector('#c-text').value === ''")
    assert _run(_agent_replies(live_server, conversation_id)) == [(sent, "agent"), ("WAIT!!", "agent")]
    # an internal note is never checked
    page.locator("#c-text").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    assert page.locator("input[data-kind][value='note']").is_checked()
    textarea.fill("NO IDEA. WAIT!!")
    page.wait_for_timeout(1000)
    assert page.locator(".tone-flags").count() == 0
    # a tablet in portrait: the turn and the composer stay inside the window
    page.set_viewport_size({"width": 800, "height": 1100})
    page.locator(".ai-turn summary").click()
    widths = page.evaluate(
        "() => [window.innerWidth, document.querySelector('.ai-turn').getBoundingClientRect().right,"
        " document.querySelector('#composer').getBoundingClientRect().right]"
    )
    assert widths[1] <= widths[0] and widths[2] <= widths[0], widths
    page.context.close()
