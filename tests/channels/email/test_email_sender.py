"""build_outbound_email and send_email against real aiosmtpd servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from storedesk.channels.email.parser import EmailAddress, parse_email
from storedesk.channels.email.sender import (
    OutboundAttachment,
    PermanentSendError,
    SmtpRelayConfig,
    TemporarySendError,
    build_outbound_email,
    reply_subject,
    send_email,
)
from storedesk.channels.email.smtp_server import SmtpIntake

SENT_AT = datetime(2025, 3, 11, 9, 30, tzinfo=UTC)


def _reply(**overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "from_address": EmailAddress("Shop Support", "support+Tk7a9QbX2mPz@shop.example"),
        "to": [EmailAddress("Élodie Martin", "elodie@client.example")],
        "subject": "Votre commande 20077",
        "text": "Bonjour Élodie,\n\nvotre colis part demain.",
        "html": "<p>Bonjour Élodie,</p><p>votre colis part demain.</p>",
        "message_id_domain": "shop.example",
        "in_reply_to": "<fr-1@client.example>",
        "references": ["out-20077@shop.example"],
        "reply_token": "Tk7a9QbX2mPz",
        "date": SENT_AT,
    }
    arguments.update(overrides)
    return build_outbound_email(**arguments)


def test_build_threaded_reply() -> None:
    msg = _reply()
    assert msg["From"] == "Shop Support <support+Tk7a9QbX2mPz@shop.example>"
    assert msg["To"] == "Élodie Martin <elodie@client.example>"
    assert msg["Subject"] == "Re: Votre commande 20077"
    assert msg["In-Reply-To"] == "<fr-1@client.example>"
    assert msg["References"] == "<out-20077@shop.example> <fr-1@client.example>"
    assert msg["Date"] == "Tue, 11 Mar 2025 09:30:00 +0000"
    assert str(msg["Message-ID"]).endswith("@shop.example>")
    assert msg["Auto-Submitted"] is None
    assert msg.get_content_type() == "multipart/alternative"
    plain, rich = list(msg.iter_parts())
    assert plain.get_content() == "Bonjour Élodie,\n\nvotre colis part demain.\n\n[ref:Tk7a9QbX2mPz]\n"
    assert rich.get_content() == (
        "<p>Bonjour Élodie,</p><p>votre colis part demain.</p>\n"
        '<div style="color:#9a9a9a;font-size:10px">[ref:Tk7a9QbX2mPz]</div>\n'
    )


def test_build_round_trips_through_our_parser() -> None:
    raw = _reply(auto_submitted=True).as_bytes(policy=policy.SMTP)
    parsed = parse_email(raw)
    assert parsed.subject == "Re: Votre commande 20077"
    assert parsed.in_reply_to == "fr-1@client.example"
    assert parsed.references == ["out-20077@shop.example", "fr-1@client.example"]
    assert parsed.reply_token == "Tk7a9QbX2mPz"
    assert parsed.is_auto_reply is True
    assert parsed.reply_text == "Bonjour Élodie,\n\nvotre colis part demain.\n\n[ref:Tk7a9QbX2mPz]"


def test_build_assistant_reply_headers_and_attachments() -> None:
    msg = _reply(
        auto_submitted=True,
        attachments=[
            OutboundAttachment("label.pdf", "application/pdf", b"%PDF-1.4 label"),
            OutboundAttachment(
                "logo.png", "image/png", b"\x89PNG-logo", content_id="logo@shop.example", inline=True
            ),
        ],
    )
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg.get_content_type() == "multipart/mixed"
    structure = [(part.get_content_type(), part.get_filename(), part["Content-ID"]) for part in msg.walk()]
    assert structure == [
        ("multipart/mixed", None, None),
        ("multipart/alternative", None, None),
        ("text/plain", None, None),
        ("multipart/related", None, None),
        ("text/html", None, None),
        ("image/png", "logo.png", "<logo@shop.example>"),
        ("application/pdf", "label.pdf", None),
    ]
    parsed = parse_email(msg.as_bytes())
    assert [(a.filename, a.inline, a.payload) for a in parsed.attachments] == [
        ("logo.png", False, b"\x89PNG-logo"),  # not referenced from the HTML (no <img src="cid:…">)
        ("label.pdf", False, b"%PDF-1.4 label"),
    ]


def test_build_new_mail_without_threading() -> None:
    msg = build_outbound_email(
        from_address="support@shop.example",
        to=["a@client.example"],
        cc=[EmailAddress("B", "b@client.example")],
        reply_to="replies@shop.example",
        subject="Your return label",
        text="Attached.",
        message_id_domain="shop.example",
    )
    assert msg["Subject"] == "Your return label"
    assert msg["In-Reply-To"] is None
    assert msg["References"] is None
    assert msg["Cc"] == "B <b@client.example>"
    assert msg["Reply-To"] == "replies@shop.example"
    assert msg.get_content_type() == "text/plain"
    with pytest.raises(ValueError):
        build_outbound_email(
            from_address="x@y.example", to=[], subject="s", text="t", message_id_domain="y.example"
        )
    with pytest.raises(ValueError):
        build_outbound_email(
            from_address="x", to=["a@b.example"], subject="s", text="t", message_id_domain="y"
        )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Order", "Re: Order"), ("Re: Order", "Re: Order"), ("AW: Bestellung", "AW: Bestellung"),
     ("RE[2]: x", "RE[2]: x"), ("Regarding order", "Re: Regarding order"), ("", "Re:")],
)  # fmt: skip
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


# --- sending ------------------------------------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[bytes, str, list[str]]] = []
        self.fail = False

    async def __call__(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> None:
        if self.fail:
            raise RuntimeError("disk full")
        self.received.append((raw, mail_from, rcpt_tos))


@pytest.fixture
async def relay() -> AsyncIterator[tuple[SmtpIntake, Inbox]]:
    inbox = Inbox()
    server = SmtpIntake(inbox, "127.0.0.1", 0, ["client.example"], max_message_size=1_000_000)
    async with server:
        yield server, inbox


def _config(port: int, **overrides: Any) -> SmtpRelayConfig:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "starttls": False, "timeout": 5.0}
    values.update(overrides)
    return SmtpRelayConfig(**values)


@pytest.mark.anyio
async def test_send_delivers_exact_message(relay: tuple[SmtpIntake, Inbox]) -> None:
    server, inbox = relay
    msg = _reply(cc=["boss@client.example"])
    result = await send_email(msg, _config(server.port))
    assert result.accepted == ["elodie@client.example", "boss@client.example"]
    assert result.refused == {}
    assert result.message_id == str(msg["Message-ID"]).strip("<>")
    [(raw, mail_from, rcpt_tos)] = inbox.received
    assert mail_from == "support+Tk7a9QbX2mPz@shop.example"
    assert rcpt_tos == ["elodie@client.example", "boss@client.example"]
    received = message_from_bytes(raw, policy=policy.default)
    assert received["Message-ID"] == msg["Message-ID"]
    assert received["Subject"] == "Re: Votre commande 20077"
    assert parse_email(raw).reply_token == "Tk7a9QbX2mPz"


@pytest.mark.anyio
async def test_send_partial_refusal_is_a_success(relay: tuple[SmtpIntake, Inbox]) -> None:
    server, inbox = relay
    msg = _reply(to=["elodie@client.example", "nobody@elsewhere.example"])
    result = await send_email(msg, _config(server.port))
    assert result.accepted == ["elodie@client.example"]
    assert result.refused == {
        "nobody@elsewhere.example": (550, "5.1.1 <nobody@elsewhere.example>: recipient not accepted here")
    }
    assert [rcpts for _, _, rcpts in inbox.received] == [["elodie@client.example"]]


@pytest.mark.anyio
async def test_send_all_refused_is_permanent(relay: tuple[SmtpIntake, Inbox]) -> None:
    server, _ = relay
    with pytest.raises(PermanentSendError) as caught:
        await send_email(_reply(to=["nobody@elsewhere.example"]), _config(server.port))
    assert caught.value.code == 550
    assert caught.value.temporary is False


@pytest.mark.anyio
async def test_send_451_is_temporary(relay: tuple[SmtpIntake, Inbox]) -> None:
    server, inbox = relay
    inbox.fail = True
    with pytest.raises(TemporarySendError) as caught:
        await send_email(_reply(), _config(server.port))
    assert caught.value.code == 451
    assert caught.value.temporary is True


@pytest.mark.anyio
async def test_send_too_big_is_permanent(relay: tuple[SmtpIntake, Inbox]) -> None:
    server, _ = relay
    big = OutboundAttachment("big.bin", "application/octet-stream", b"\0" * 900_000)
    with pytest.raises(PermanentSendError) as caught:
        await send_email(_reply(attachments=[big]), _config(server.port))
    assert caught.value.code == 552


@pytest.mark.anyio
async def test_connection_refused_is_temporary() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with pytest.raises(TemporarySendError) as caught:
        await send_email(_reply(), _config(free_port))
    assert caught.value.code is None


class _Authenticator:
    def __call__(self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"shop", b"s3cret")
        return AuthResult(success=ok, handled=False)


@pytest.fixture
async def auth_relay() -> AsyncIterator[tuple[int, Inbox]]:
    inbox = Inbox()

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
            await inbox(envelope.original_content, envelope.mail_from, list(envelope.rcpt_tos))
            return "250 OK"

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            Handler(),
            hostname="relay.test",
            authenticator=_Authenticator(),
            auth_required=True,
            auth_require_tls=False,
        ),
        host="127.0.0.1",
        port=0,
    )
    try:
        yield server.sockets[0].getsockname()[1], inbox
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_send_with_authentication(auth_relay: tuple[int, Inbox]) -> None:
    port, inbox = auth_relay
    await send_email(_reply(), _config(port, username="shop", password="s3cret"))
    assert len(inbox.received) == 1
    with pytest.raises(PermanentSendError) as caught:
        await send_email(_reply(), _config(port, username="shop", password="wrong"))
    assert caught.value.code == 535
    with pytest.raises(PermanentSendError) as unauthenticated:
        await send_email(_reply(), _config(port))
    assert unauthenticated.value.code == 530
