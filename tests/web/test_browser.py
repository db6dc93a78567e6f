"""The agent workspace in Debian's Chromium against a real server: sign-in, live updates, reply, macro,
assignment seen by another agent, search, the viewer's read-only view, sanitised customer HTML."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer, shot

pytestmark = pytest.mark.browser

TIMEOUT = 10_000


def sign_in(browser: Any, server: LiveServer, email: str, *, locale: str = "en-GB") -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(f"{server.url}/app/login")
    page.fill("#f-email", email)
    page.fill("#f-password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/app/inbox.*"))
    return page


def open_customer_message(
    browser: Any, server: LiveServer, *, sender_email: str, text: str, provider_message_id: str
) -> tuple[Any, int]:
    """A customer message arrives on the shop's API channel; the agent signs in and opens its
    conversation. Returns the page and the conversation id."""
    r = httpx.post(
        f"{server.url}/api/v1/channels/{server.shop.channel_id}/inbound",
        json={
            "provider_message_id": provider_message_id,
            "sender": {"kind": "email", "value": sender_email},
            "text": text,
        },
        headers=server.shop.h("agent"),
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text
    conversation_id = int(r.json()["conversation_id"])
    page = sign_in(browser, server, "agent@live-shop.test")
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{server.url}/app/c/{conversation_id}")
    return page, conversation_id


def test_sign_in_reply_macro_and_no_script(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/app/inbox")
    page.wait_for_url(re.compile(r".*/app/login\?next=%2Fapp%2Finbox"))
    page.fill("#f-email", "agent@live-shop.test")
    page.fill("#f-password", "wrong-password-123")
    page.click("button[type=submit]")
    assert page.locator(".alert").inner_text() == "Email or password is wrong."
    shot(page, "login")
    page.fill("#f-password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/app/inbox")
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.locator("[data-count=all]").inner_text() == "6"
    shot(page, "inbox")

    page.goto(f"{live_server.url}/app/c/{live_server.data['xss']}")
    body = page.locator(f"#m{page.locator('[data-message]').first.get_attribute('data-message')} .msg-body")
    assert body.inner_text().startswith("Hello team,")
    assert body.locator("script").count() == 0
    assert body.locator("img").count() == 0
    assert page.evaluate("() => window.__xss") is None
    body.locator("a").click(timeout=2000) if body.locator("a").count() else None
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []

    page.select_option("[data-macro]", str(live_server.data["macro"]))
    page.wait_for_function("() => document.querySelector('#c-text').value.length > 0")
    assert page.locator("#c-text").input_value() == (
        "Hi Customer, order 100234 is on its way: https://track.example/JJD000390007"
    )
    page.click("[data-send]")
    reply = page.locator(".msg-outbound").last
    reply.wait_for()
    assert reply.locator(".msg-body").inner_text() == (
        "Hi Customer, order 100234 is on its way: https://track.example/JJD000390007"
    )
    assert page.locator("#c-text").input_value() == ""
    page.keyboard.press("Escape")  # leave the text field: shortcuts work again
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    context.close()


def test_live_message_assignment_and_collision(browser: Any, live_server: LiveServer) -> None:
    alice = sign_in(browser, live_server, "agent@live-shop.test")
    bob = sign_in(browser, live_server, "bob@live-shop.test")
    bob.goto(f"{live_server.url}/app/inbox?view=mine")
    bob.wait_for_function("() => window.htmx !== undefined")
    assert bob.locator(".empty-title").inner_text() == "Nothing here"
    alice.wait_for_function("() => window.htmx !== undefined")
    alice.wait_for_timeout(300)  # the event stream is connected

    # a customer message arrives (through the API) and shows up without a reload
    r = httpx.post(
        f"{live_server.url}/api/v1/conversations",
        json={
            "customer_id": live_server.shop.customer_id,
            "channel_id": live_server.shop.channel_id,
            "subject": "Live arrival",
            "message": "Do you have the blue one in size S?",
        },
        headers=live_server.shop.h(),
    )
    assert r.status_code == 201
    conversation_id = r.json()["id"]
    alice.locator(f".conv-row[data-id='{conversation_id}']").wait_for()
    assert (
        alice.locator(f".conv-row[data-id='{conversation_id}'] .row-subject").inner_text() == "Live arrival"
    )

    # both look at it: each is warned about the other
    bob.goto(f"{live_server.url}/app/c/{conversation_id}")
    alice.goto(f"{live_server.url}/app/c/{conversation_id}")
    alice.locator(".collision").wait_for()
    assert alice.locator(".collision").inner_text().strip() == "Bob Second is viewing this conversation"
    bob.locator(".collision").wait_for()
    assert bob.locator(".collision").inner_text().strip() == "Agent live-shop is viewing this conversation"
    shot(alice, "collision")

    # Bob watches his own inbox; Alice assigns to Bob; it appears in Bob's open browser, with a notification
    bob.goto(f"{live_server.url}/app/inbox?view=mine")
    bob.wait_for_function("() => window.htmx !== undefined")
    alice.select_option("#p-assignee", str(live_server.data["bob"]))
    bob.locator(f".conv-row[data-id='{conversation_id}']").wait_for()
    bob.locator(".bell .badge").wait_for()
    assert bob.locator(".bell .badge").inner_text() == "1"
    assert bob.locator("[data-count=mine]").inner_text() == "1"
    alice.context.close()
    bob.context.close()


def test_search_order_number(browser: Any, live_server: LiveServer) -> None:
    page = sign_in(browser, live_server, "agent@live-shop.test")
    page.keyboard.press("/")
    page.keyboard.type("100234")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/app/search\?q=100234"))
    assert page.locator("[data-result=order] strong").inner_text() == "#100234"
    assert page.locator("[data-result=conversation]").count() == 1
    page.context.close()


def test_viewer_cannot_reply(browser: Any, live_server: LiveServer) -> None:
    page = sign_in(browser, live_server, "viewer@live-shop.test")
    page.goto(f"{live_server.url}/app/c/{live_server.data['conv1']}")
    assert page.locator("#c-text").count() == 0
    assert page.locator("#composer .readonly").inner_text().strip() == (
        "You have read-only access: viewers cannot reply or write notes."
    )
    assert page.locator("#p-assignee").count() == 0
    page.context.close()


def test_screens_and_german(browser: Any, live_server: LiveServer) -> None:
    page = sign_in(browser, live_server, "admin@live-shop.test")
    page.goto(f"{live_server.url}/app/c/{live_server.data['conv0']}")
    assert page.locator(".order-no").first.inner_text() == "#100871"
    shot(page, "conversation-orders")
    page.goto(f"{live_server.url}/app/c/{live_server.data['conv1']}")
    page.locator(".msg-note").wait_for()
    assert page.locator(".msg-failed .delivery-error").inner_text() == "550 5.1.1 mailbox unavailable"
    shot(page, "conversation")
    page.goto(f"{live_server.url}/app/c/{live_server.data['conv3']}")
    shot(page, "conversation-rtl")
    page.goto(f"{live_server.url}/app/settings/macros")
    shot(page, "settings-macros")
    page.goto(f"{live_server.url}/app/settings/agents")
    shot(page, "settings-agents")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/app/c/{live_server.data['conv2']}")
    shot(page, "tablet-conversation")
    page.context.close()

    german = sign_in(browser, live_server, "agent@live-shop.test", locale="de-DE")
    assert german.locator("#list-title").inner_text() == "Alle"
    shot(german, "inbox-de")
    german.goto(f"{live_server.url}/app/c/{live_server.data['conv0']}")
    assert german.locator("[data-send-label]").inner_text() == "Antwort senden"
    shot(german, "conversation-de")
    german.context.close()


def test_live_message_is_appended_not_re_rendered(browser: Any, live_server: LiveServer) -> None:
    page = sign_in(browser, live_server, "agent@live-shop.test")
    cid = live_server.data["conv2"]
    page.goto(f"{live_server.url}/app/c/{cid}")
    page.wait_for_function("() => window.htmx !== undefined")
    page.wait_for_timeout(300)  # the event stream is connected
    before = page.locator("#timeline [data-message-id]").count()
    # DOM markers a re-render would lose: on the timeline, its first message, the header and the sidebar
    page.evaluate(
        """() => {
        document.querySelector('#timeline').dataset.marker = 'kept';
        document.querySelector('#timeline [data-message-id]').dataset.marker = 'kept';
        document.querySelector('#conv-header').dataset.marker = 'kept';
        document.querySelector('#sidebar').dataset.marker = 'kept';
    }"""
    )
    r = httpx.post(
        f"{live_server.url}/api/v1/conversations/{cid}/messages",
        json={"kind": "note", "text": "Checked with the warehouse: it ships today."},
        headers=live_server.shop.h("admin"),
    )
    assert r.status_code == 201, r.text
    note = page.locator(f"#m{r.json()['id']}")
    note.wait_for()
    assert note.locator(".msg-body").inner_text() == "Checked with the warehouse: it ships today."
    assert page.locator("#timeline [data-message-id]").count() == before + 1
    assert page.locator("#timeline [data-message-id]").last.get_attribute("id") == f"m{r.json()['id']}"
    markers = page.evaluate(
        """() => ['#timeline', '#timeline [data-message-id]', '#conv-header', '#sidebar']
        .map(s => document.querySelector(s).dataset.marker)"""
    )
    assert markers == ["kept", "kept", "kept", "kept"]

    # a change of the conversation: its system line is appended, the header (and only it) re-rendered
    r = httpx.post(
        f"{live_server.url}/api/v1/conversations/{cid}/assign",
        json={"assignee_id": live_server.data["bob"]},
        headers=live_server.shop.h("admin"),
    )
    assert r.status_code == 200, r.text
    page.locator("#timeline [data-event='conversation.assigned']").last.wait_for()
    page.wait_for_function("() => document.querySelector('#conv-header').dataset.marker === undefined")
    assert page.locator("#p-assignee").input_value() == str(live_server.data["bob"])
    assert page.evaluate("() => document.querySelector('#timeline').dataset.marker") == "kept"
    page.context.close()


def test_profile_language_follows_the_agent(browser: Any, live_server: LiveServer) -> None:
    page = sign_in(browser, live_server, "viewer@live-shop.test", locale="en-GB")
    assert page.locator("#list-title").inner_text() == "All"
    page.goto(f"{live_server.url}/app/profile")
    page.select_option("#f-ui-language", "de")
    page.click("[data-profile] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/app/profile")
    assert page.locator("h1").inner_text() == "Ihr Profil"
    assert page.locator(".flash").inner_text() == "Ihr Profil wurde gespeichert."
    page.goto(f"{live_server.url}/app/inbox")
    page.reload()
    assert page.locator("#list-title").inner_text() == "Alle"
    page.context.close()

    # another browser (English, no cookie): English until sign-in, then the profile's German
    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    other.set_default_timeout(TIMEOUT)
    fresh = other.new_page()
    fresh.goto(f"{live_server.url}/app/login")
    assert fresh.locator("html").get_attribute("lang") == "en"
    fresh.fill("#f-email", "viewer@live-shop.test")
    fresh.fill("#f-password", "correct-horse-battery")
    fresh.click("button[type=submit]")
    fresh.wait_for_url(re.compile(r".*/app/inbox.*"))
    assert fresh.locator("html").get_attribute("lang") == "de"
    assert fresh.locator("#list-title").inner_text() == "Alle"
    fresh.goto(f"{live_server.url}/app/c/{live_server.data['conv1']}")
    assert "Konversation" in fresh.locator(".conv-pane").get_attribute("aria-label")

    # back to "as my browser": English again
    fresh.goto(f"{live_server.url}/app/profile")
    fresh.select_option("#f-ui-language", "")
    fresh.click("[data-profile] button[type=submit]")
    fresh.wait_for_url(f"{live_server.url}/app/profile")
    assert fresh.locator("h1").inner_text() == "Your profile"
    other.close()
