"""Issue 3's "Done when", walked through against a running server (uvicorn on a loopback port, its SMTP
intake and its in-process job runner): a message typed in the widget on /demo/store (Chromium), an email
sent with smtplib to the SMTP intake, a signed WhatsApp webhook and a signed Twilio SMS each become a
conversation under the right customer; an agent reply to each reaches that channel's outbound side (an
aiosmtpd sink, the local fake Graph/Twilio server, the widget in the browser); and the customer's chat
and email sit in one timeline."""

from __future__ import annotations

import html
import re
import shutil
import smtplib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx
import pytest
from sqlalchemy import update

from storedesk.api.app import create_app
from storedesk.channels.models import ChannelKind
from storedesk.channels.twilio.signature import signature_for
from storedesk.config import Settings
from storedesk.db.session import Database
from storedesk.shops.models import Shop
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.channels.conftest import Capture, FakeProvider, add_channel, fixture_bytes, meta_signature
from tests.conftest import TEST_SECRET, ShopWorld, make_shop
from tests.servers import free_port, serve_in_thread
from tests.web.helpers import login

pytestmark = pytest.mark.anyio

MAILBOX = "support@demo.storedesk.test"
WA_NUMBER_ID = "106540352242922"
WA_SECRET = "meta-app-secret-live"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-auth-token"  # what the fake Twilio server checks
SHOP_NUMBER = "+4930123456789"
KARI_PHONE = "+4915112345678"
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class Desk:
    url: str
    smtp_port: int
    shop: ShopWorld
    channels: dict[str, int]


@pytest.fixture
async def desk(
    tmp_path: Path, sqlite_template: Path, provider: FakeProvider, relay: tuple[Capture, int]
) -> AsyncIterator[Desk]:
    path = tmp_path / "storedesk.db"
    shutil.copy(sqlite_template, path)
    port, smtp_port = free_port(), free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{path}",
        secret_key=TEST_SECRET,
        jobs_mode="embedded",
        base_url=f"http://127.0.0.1:{port}",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
    )
    db = Database(settings.resolved_database_url)
    try:
        shop = await make_shop(db, "demo")
        async with db.transaction() as session:
            await session.execute(update(Shop).where(Shop.id == shop.id).values(business_hours=ALWAYS_OPEN))
        _, relay_port = relay
        channels = {
            "email": await add_channel(
                db,
                shop,
                ChannelKind.email,
                external_id=MAILBOX,
                settings={"smtp_host": "127.0.0.1", "smtp_port": relay_port, "starttls": False},
            ),
            "whatsapp": await add_channel(
                db,
                shop,
                ChannelKind.whatsapp,
                external_id=WA_NUMBER_ID,
                credentials={"app_secret": WA_SECRET, "access_token": "EAAG-live-token"},
                settings={"api_base_url": provider.base_url},
            ),
            "sms": await add_channel(
                db,
                shop,
                ChannelKind.sms,
                external_id=SHOP_NUMBER,
                credentials={"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN},
                settings={"api_base_url": provider.base_url},
            ),
        }
    finally:
        await db.dispose()
    # the SMTP intake listens for the email channels that exist at start-up: the channels come first
    with serve_in_thread(create_app(settings, run_jobs=True), port=port) as url:
        yield Desk(url, smtp_port, shop, channels)


async def _until(check: Callable[[], Any], what: str, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.2)


def _send_mail(port: int) -> None:
    msg = EmailMessage()
    msg["From"] = "Kari Nordmann <kari@example.no>"
    msg["To"] = MAILBOX
    msg["Subject"] = "Invoice for order 1042"
    msg["Message-ID"] = "<invoice-1042@example.no>"
    msg.set_content("Could you send me the invoice for order 1042?\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


@pytest.mark.browser
async def test_every_channel_into_one_inbox_and_back_out(
    desk: Desk, provider: FakeProvider, relay: tuple[Capture, int]
) -> None:
    require_browser()
    from playwright.async_api import async_playwright, expect

    capture, _ = relay
    h = desk.shop.h()
    async with httpx.AsyncClient(base_url=desk.url, timeout=10) as api:
        # Kari is known to the shop by email and phone
        r = await api.post(
            "/api/v1/customers",
            json={"name": "Kari Nordmann", "email": "kari@example.no", "phone": KARI_PHONE},
            headers=h,
        )
        assert r.status_code == 201, r.text
        kari = r.json()["id"]

        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
            )
            try:
                page = await browser.new_page(locale="en-GB")
                # 1. the widget on the demo storefront
                await page.goto(f"{desk.url}/demo/store?shop=demo")
                await expect(page.locator("#storedesk-widget[data-ready='1']")).to_be_attached(timeout=15_000)
                await page.locator(".sd-launcher").click()
                await page.locator("input[name=email]").fill("kari@example.no")
                await page.locator(".sd-primary").click()
                await page.locator(".sd-input").fill("Do you ship to Tromsø?")
                await page.locator(".sd-input").press("Enter")
                await expect(page.locator(".sd-visitor:not(.sd-pending)")).to_have_text(
                    "Do you ship to Tromsø?"
                )

                # 2. an email with smtplib to the running SMTP intake
                await anyio.to_thread.run_sync(_send_mail, desk.smtp_port)

                # 3. a signed WhatsApp webhook from Kari's phone
                body = fixture_bytes(
                    "whatsapp_text.json",
                    PHONE_NUMBER_ID=WA_NUMBER_ID,
                    WAMID="wamid.LIVE0001",
                    FROM=KARI_PHONE.lstrip("+"),
                    TEXT="Can I change the delivery address?",
                )
                r = await api.post(
                    "/webhooks/whatsapp", content=body, headers=meta_signature(body, WA_SECRET)
                )
                assert r.status_code == 200, r.text

                # 4. a signed Twilio SMS, signed over the server's public URL as Twilio would
                path = f"/webhooks/twilio/{desk.channels['sms']}/sms"
                params = {
                    "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e4001",
                    "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e4001",
                    "AccountSid": TWILIO_SID,
                    "From": KARI_PHONE,
                    "To": SHOP_NUMBER,
                    "Body": "Is the sale still on?",
                    "NumMedia": "0",
                    "ApiVersion": "2010-04-01",
                }
                r = await api.post(
                    path,
                    content=urlencode(params),
                    headers={
                        "X-Twilio-Signature": signature_for(
                            desk.url + path, list(params.items()), TWILIO_TOKEN
                        ),
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
                assert r.status_code == 200, r.text

                # every message is a conversation under Kari (ingested by the server's job runner)
                async def four() -> list[dict[str, Any]] | None:
                    items = (await api.get("/api/v1/conversations", headers=h)).json()["items"]
                    return items if len(items) == 4 else None

                conversations = await _until(four, "four conversations")
                kinds = {c["id"]: c for c in (await api.get("/api/v1/channels", headers=h)).json()}
                by_kind = {kinds[c["channel_id"]]["kind"]: c for c in conversations}
                assert sorted(by_kind) == ["chat", "email", "sms", "whatsapp"]
                assert {c["customer_id"] for c in conversations} == {kari}
                assert by_kind["email"]["subject"] == "Invoice for order 1042"
                texts = {}
                for kind, conv in by_kind.items():
                    msgs = (await api.get(f"/api/v1/conversations/{conv['id']}/messages", headers=h)).json()
                    texts[kind] = [(m["direction"], m["text"]) for m in msgs["items"]]
                assert texts == {
                    "chat": [("inbound", "Do you ship to Tromsø?")],
                    "email": [("inbound", "Could you send me the invoice for order 1042?")],
                    "whatsapp": [("inbound", "Can I change the delivery address?")],
                    "sms": [("inbound", "Is the sale still on?")],
                }

                # one timeline: the customer's conversations on every channel, chat and email among them
                listed = (await api.get(f"/api/v1/customers/{kari}/conversations", headers=h)).json()["items"]
                assert sorted(c["id"] for c in listed) == sorted(c["id"] for c in conversations)

                # an agent reply on each reaches that channel's outbound side
                replies = {}
                for kind, conv in by_kind.items():
                    r = await api.post(
                        f"/api/v1/conversations/{conv['id']}/messages",
                        json={"text": f"Reply on {kind}"},
                        headers=h,
                    )
                    assert r.status_code == 201, r.text
                    replies[kind] = r.json()["id"]

                async def all_sent() -> bool:
                    for message_id in replies.values():
                        m = (await api.get(f"/api/v1/messages/{message_id}", headers=h)).json()
                        if m["delivery_status"] != "sent":
                            return False
                    return True

                await _until(all_sent, "every reply sent")
                await expect(page.locator(".sd-agent p")).to_have_text("Reply on chat")

                # the agent's view: the chat's page with the whole customer timeline (every channel)
                async with httpx.AsyncClient(base_url=desk.url, timeout=10) as web:
                    await login(web, "agent@demo.test")
                    view = await web.get(f"/app/c/{by_kind['chat']['id']}?scope=customer")
                assert view.status_code == 200
                timeline = [
                    (kind, html.unescape(text))
                    for kind, text in re.findall(
                        r'<span class="chan chan-(\w+)".*?<p class="pre">(.*?)</p>', view.text, re.S
                    )
                ]
                assert sorted(timeline) == sorted(
                    [(kind, text) for kind, msgs in texts.items() for _, text in msgs]
                    + [(kind, f"Reply on {kind}") for kind in by_kind]
                )
                separators = set(re.findall(r'<div class="conv-sep"><a href="/app/c/(\d+)">', view.text))
                assert separators == {str(c["id"]) for c in conversations}
            finally:
                await browser.close()

    [(envelope_from, rcpts, mail)] = capture.mails
    assert (envelope_from, rcpts, mail["Subject"]) == (
        MAILBOX,
        ["kari@example.no"],
        "Re: Invoice for order 1042",
    )
    assert mail["In-Reply-To"] == "<invoice-1042@example.no>"
    assert mail.get_body(("plain",)).get_content().startswith("Reply on email")
    wa = [q for q in provider.requests if q.path == f"/v21.0/{WA_NUMBER_ID}/messages"]
    assert [q.json()["to"] for q in wa] == [KARI_PHONE.lstrip("+")]
    assert wa[0].json()["text"]["body"] == "Reply on whatsapp"
    sms = [q for q in provider.requests if q.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"]
    assert [(q.form()["To"], q.form()["From"], q.form()["Body"]) for q in sms] == [
        (KARI_PHONE, SHOP_NUMBER, "Reply on sms")
    ]
