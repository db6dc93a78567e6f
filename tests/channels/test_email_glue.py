"""Email glue: real SMTP intake → ingest → threaded replies through a real local SMTP relay, reply tokens,
auto-replies and bounces."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.message import EmailMessage
from types import SimpleNamespace

import aiosmtplib
import httpx
import pytest

from storedesk.channels import email_glue
from storedesk.channels.email_glue import EmailSender
from storedesk.channels.models import ChannelKind
from storedesk.channels.outbound import register_sender
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.channels.conftest import add_channel
from tests.conftest import TEST_SECRET, ShopWorld, count_rows

pytestmark = pytest.mark.anyio

MAILBOX = "support@shop-a.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def email_sender(db: Database, settings: Settings) -> Iterator[None]:
    email_glue.configure(db, secret_keys=[TEST_SECRET], data_dir=settings.data_dir)
    yield
    register_sender("email", EmailSender())


def mail(
    subject: str,
    body: str,
    message_id: str,
    *,
    sender: str = "Kari Nordmann <kari@example.no>",
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = MAILBOX
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0100"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


async def test_email_round_trip(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    shop_a: ShopWorld,
    run_jobs,
    relay,
    email_sender: None,
) -> None:
    capture, relay_port = relay
    await add_channel(
        db,
        shop_a,
        ChannelKind.email,
        external_id=MAILBOX,
        settings={"smtp_host": "127.0.0.1", "smtp_port": relay_port, "starttls": False},
    )
    intake_port = free_port()
    app_state = SimpleNamespace(
        settings=settings.model_copy(update={"smtp_port": intake_port, "smtp_host": "127.0.0.1"}), db=db
    )
    intake = await email_glue.start_email_intake(app_state)
    assert intake is not None
    try:
        first = mail("Damaged boots", "The left boot is torn.\n", "<m1@example.no>")
        await aiosmtplib.send(
            first, sender="kari@example.no", recipients=[MAILBOX], hostname="127.0.0.1", port=intake_port
        )
        await aiosmtplib.send(
            first, sender="kari@example.no", recipients=[MAILBOX], hostname="127.0.0.1", port=intake_port
        )
        assert await count_rows(db, "inbound_events") == 1  # the resend is recognised by its Message-ID
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await aiosmtplib.send(
                first,
                sender="x@example.no",
                recipients=["someone@elsewhere.example"],
                hostname="127.0.0.1",
                port=intake_port,
            )
    finally:
        await intake.stop()
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    assert conv["subject"] == "Damaged boots"
    customer = (await client.get(f"/api/v1/customers/{conv['customer_id']}", headers=shop_a.h())).json()
    assert (customer["name"], customer["email"]) == ("Kari Nordmann", "kari@example.no")

    # the agent's reply is threaded and carries the reply token
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": "We'll send a new pair."},
        headers=shop_a.h(),
    )
    reply = r.json()
    await run_jobs()
    [(envelope_from, rcpts, sent)] = capture.mails
    assert (envelope_from, rcpts) == (MAILBOX, ["kari@example.no"])
    assert (sent["Subject"], sent["In-Reply-To"], sent["References"]) == (
        "Re: Damaged boots",
        "<m1@example.no>",
        "<m1@example.no>",
    )
    token = email_glue.reply_token_for([TEST_SECRET], shop_a.id, conv["id"])
    assert f"[ref:{token}]" in sent.get_body(("plain",)).get_content()
    our_id = sent["Message-ID"].strip("<>")
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert (msg["delivery_status"], msg["provider_message_id"]) == ("sent", our_id)

    # answers find the thread by In-Reply-To, or by the token alone
    await email_glue.accept_email(
        db,
        mail("Re: Damaged boots", "Thanks!\n", "<m2@example.no>", In_Reply_To=f"<{our_id}>"),
        [MAILBOX],
        secret_keys=[TEST_SECRET],
        data_dir=settings.data_dir,
    )
    await run_jobs()
    await email_glue.accept_email(
        db,
        mail("new subject", f"One more thing\n\n[ref:{token}]\n", "<m3@example.no>"),
        [MAILBOX],
        secret_keys=[TEST_SECRET],
        data_dir=settings.data_dir,
    )
    forged = f"{conv['id']}-00000000000000000000"
    await email_glue.accept_email(
        db,
        mail("other", f"Hi\n[ref:{forged}]\n", "<m4@example.no>"),
        [MAILBOX],
        secret_keys=[TEST_SECRET],
        data_dir=settings.data_dir,
    )
    await run_jobs()
    msgs = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    assert [(m["direction"], m["text"]) for m in msgs] == [
        ("inbound", "The left boot is torn."),
        ("outbound", "We'll send a new pair."),
        ("inbound", "Thanks!"),
        ("inbound", "One more thing"),
    ]
    convs = (
        await client.get(f"/api/v1/customers/{conv['customer_id']}/conversations", headers=shop_a.h())
    ).json()["items"]
    assert len(convs) == 2  # the forged token opened a new conversation

    # an auto-reply is kept but neither reopens nor waits
    await client.post(
        f"/api/v1/conversations/{conv['id']}/status", json={"status": "resolved"}, headers=shop_a.h()
    )
    await email_glue.accept_email(
        db,
        mail(
            "Automatic reply: Damaged boots",
            "I am away until Monday.\n",
            "<m5@example.no>",
            In_Reply_To=f"<{our_id}>",
            Auto_Submitted="auto-replied",
        ),
        [MAILBOX],
        secret_keys=[TEST_SECRET],
        data_dir=settings.data_dir,
    )
    await run_jobs()
    after = (await client.get(f"/api/v1/conversations/{conv['id']}", headers=shop_a.h())).json()
    assert after["status"] == "resolved"
    msgs = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    # the resolution also sent the CSAT survey (on by default, docs/surveys.md): skip it
    last = [m for m in msgs if "/s/" not in m["text"]][-1]
    assert (last["direction"], last["text"]) == ("system", "I am away until Monday.")

    # a bounce of our reply marks it failed
    bounce = (
        "From: MAILER-DAEMON@mx.example.no\r\nTo: support@shop-a.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce1@mx.example.no>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.no\r\n\r\n"
        "Final-Recipient: rfc822; kari@example.no\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{our_id}>\r\nSubject: Re: Damaged boots\r\n\r\n--B--\r\n"
    ).encode()
    await email_glue.accept_email(
        db, bounce, [MAILBOX], secret_keys=[TEST_SECRET], data_dir=settings.data_dir
    )
    await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert (msg["delivery_status"], msg["delivery_error"]) == (
        "failed",
        "email bounced: kari@example.no could not be reached (status 5.1.1)",
    )


async def test_chat_then_email_is_one_customer(
    client: httpx.AsyncClient, db: Database, settings: Settings, shop_a: ShopWorld, run_jobs
) -> None:
    await add_channel(db, shop_a, ChannelKind.email, external_id=MAILBOX)
    s = (await client.post("/widget/shop-a/session", json={})).json()
    await client.post("/widget/shop-a/identify", json={"token": s["token"], "email": "kari@example.no"})
    r = await client.post(
        "/widget/shop-a/messages", json={"token": s["token"], "text": "Chat first", "client_id": "chat00001"}
    )
    chat_conv = r.json()["conversation_id"]
    await email_glue.accept_email(
        db,
        mail("Follow-up", "And by email.\n", "<f1@example.no>"),
        [MAILBOX],
        secret_keys=[TEST_SECRET],
        data_dir=settings.data_dir,
    )
    await run_jobs()
    chat = (await client.get(f"/api/v1/conversations/{chat_conv}", headers=shop_a.h())).json()
    convs = (
        await client.get(f"/api/v1/customers/{chat['customer_id']}/conversations", headers=shop_a.h())
    ).json()["items"]
    assert sorted(c["subject"] or "" for c in convs) == ["", "Follow-up"]
    customer = (await client.get(f"/api/v1/customers/{chat['customer_id']}", headers=shop_a.h())).json()
    assert sorted(i["kind"] for i in customer["identities"]) == ["chat_visitor", "email"]


async def test_intake_is_off_without_email_channels(
    db: Database, settings: Settings, shop_a: ShopWorld
) -> None:
    state = SimpleNamespace(settings=settings.model_copy(update={"smtp_port": free_port()}), db=db)
    assert await email_glue.start_email_intake(state) is None


def test_reply_tokens() -> None:
    token = email_glue.reply_token_for(["k1"], 3, 42)
    assert token.startswith("42-") and len(token) == 23
    assert email_glue.conversation_from_token(["k2", "k1"], 3, token) == 42
    assert email_glue.conversation_from_token(["k1"], 4, token) is None
    assert email_glue.conversation_from_token(["k1"], 3, "42-" + "0" * 20) is None
