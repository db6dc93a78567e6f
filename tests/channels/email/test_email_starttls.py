"""STARTTLS on the SMTP sender against a real aiosmtpd relay that requires it, with a self-signed
certificate generated here (cryptography): trusted through the channel's CA file, refused without it,
and never sending credentials or mail in the clear."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text
from tests.channels.conftest import add_channel, sqlite_only
from tests.conftest import TEST_SECRET, ShopWorld

from storedesk.channels import email_glue
from storedesk.channels.email.parser import EmailAddress
from storedesk.channels.email.sender import (
    PermanentSendError,
    SmtpRelayConfig,
    TemporarySendError,
    build_outbound_email,
    send_email,
)
from storedesk.channels.email_glue import EmailSender, relay_config
from storedesk.channels.models import ChannelKind
from storedesk.channels.outbound import OutboundMessage, register_sender
from storedesk.config import Settings
from storedesk.db.session import Database

pytestmark = pytest.mark.anyio


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost, signed by its own key (valid for one day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Relay:
    port: int
    cert: Path
    mails: list[tuple[bytes, str, list[str], bool]] = field(default_factory=list)  # raw, from, to, over TLS
    logins: list[tuple[bytes, bool]] = field(default_factory=list)


@pytest.fixture
async def tls_relay(tmp_path: Path) -> AsyncIterator[Relay]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    relay = Relay(0, cert)

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
            relay.mails.append(
                (
                    envelope.original_content,
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    session.ssl is not None,
                )
            )
            return "250 OK"

    def authenticator(server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        relay.logins.append((data.login, session.ssl is not None))
        return AuthResult(success=(data.login, data.password) == (b"shop", b"s3cret"), handled=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            Handler(),
            hostname="relay.test",
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=True,
        ),
        host="127.0.0.1",
        port=0,
    )
    relay.port = server.sockets[0].getsockname()[1]
    try:
        yield relay
    finally:
        server.close()
        await server.wait_closed()


def reply() -> Any:
    return build_outbound_email(
        from_address=EmailAddress("Nordlys Support", "support@shop.example"),
        to=[EmailAddress("Kari", "kari@example.no")],
        subject="Invoice",
        text="Here it is.",
        message_id_domain="shop.example",
    )


def channel_config(relay: Relay, **settings: Any) -> SmtpRelayConfig:
    """What an email channel with these settings sends through (the same mapping the sender uses)."""
    return relay_config(
        OutboundMessage(
            message_id=1,
            shop_id=1,
            conversation_id=1,
            conversation_number=1,
            channel_id=1,
            channel_kind="email",
            channel_external_id="support@shop.example",
            credentials={"username": "shop", "password": "s3cret"},
            settings={"smtp_host": "127.0.0.1", "smtp_port": relay.port, "timeout": 5, **settings},
            recipients={"email": ["kari@example.no"]},
            text="Here it is.",
            html=None,
            subject="Invoice",
        )
    )


async def test_starttls_with_the_relays_own_ca(tls_relay: Relay) -> None:
    config = channel_config(tls_relay, tls_ca_file=str(tls_relay.cert))
    assert (config.starttls, config.validate_certs, config.cert_bundle) == (True, True, str(tls_relay.cert))
    result = await send_email(reply(), config)
    assert result.accepted == ["kari@example.no"]
    [(raw, mail_from, rcpts, over_tls)] = tls_relay.mails
    assert (mail_from, rcpts, over_tls) == ("support@shop.example", ["kari@example.no"], True)
    assert b"Here it is." in raw
    assert tls_relay.logins == [(b"shop", True)]  # the password only ever crossed the encrypted channel


async def test_an_untrusted_certificate_is_refused_before_anything_is_sent(tls_relay: Relay) -> None:
    # permanent: retrying cannot help until someone trusts the relay's CA or fixes its certificate
    with pytest.raises(PermanentSendError) as caught:
        await send_email(reply(), channel_config(tls_relay))
    assert str(caught.value) == (
        "the mail server's TLS certificate is not trusted (self-signed certificate): "
        "fix the server's certificate or give the channel its CA file (tls_ca_file)"
    )
    assert (tls_relay.mails, tls_relay.logins) == ([], [])


@sqlite_only
async def test_a_reply_through_an_untrusted_relay_fails_at_once_with_the_reason(
    client: httpx.AsyncClient, db: Database, settings: Settings, shop_a: ShopWorld, run_jobs, tls_relay: Relay
) -> None:
    email_glue.configure(db, secret_keys=[TEST_SECRET], data_dir=settings.data_dir)
    try:
        channel_id = await add_channel(
            db,
            shop_a,
            ChannelKind.email,
            external_id="support@shop.example",
            credentials={"username": "shop", "password": "s3cret"},
            settings={"smtp_host": "127.0.0.1", "smtp_port": tls_relay.port, "timeout": 5},
        )
        r = await client.post(
            "/api/v1/conversations",
            json={"customer_id": shop_a.customer_id, "channel_id": channel_id, "subject": "Invoice"},
            headers=shop_a.h(),
        )
        assert r.status_code == 201, r.text
        r = await client.post(
            f"/api/v1/conversations/{r.json()['id']}/messages",
            json={"text": "Here it is."},
            headers=shop_a.h(),
        )
        assert r.status_code == 201, r.text
        message_id = r.json()["id"]
        await run_jobs()
        msg = (await client.get(f"/api/v1/messages/{message_id}", headers=shop_a.h())).json()
        assert (msg["delivery_status"], msg["delivery_error"]) == (
            "failed",
            "the mail server's TLS certificate is not trusted (self-signed certificate): "
            "fix the server's certificate or give the channel its CA file (tls_ca_file)",
        )
        async with db.engine.connect() as conn:
            jobs = (
                await conn.execute(text("SELECT status, attempts FROM jobs WHERE name = 'delivery.send'"))
            ).all()
        assert [tuple(j) for j in jobs] == [("dead", 1)]  # not retried like a temporary failure
        assert (tls_relay.mails, tls_relay.logins) == ([], [])
    finally:
        register_sender("email", EmailSender())


async def test_without_starttls_nothing_goes_out_in_the_clear(tls_relay: Relay) -> None:
    # with credentials: the client will not log in where AUTH is not offered (only after STARTTLS)
    with pytest.raises(TemporarySendError) as caught:
        await send_email(reply(), channel_config(tls_relay, starttls=False))
    assert "The SMTP AUTH extension is not supported by this server" in str(caught.value)
    # without credentials: the relay refuses mail before STARTTLS
    plain = SmtpRelayConfig(host="127.0.0.1", port=tls_relay.port, starttls=False, timeout=5)
    with pytest.raises(PermanentSendError) as refused:
        await send_email(reply(), plain)
    assert refused.value.code == 530
    assert (tls_relay.mails, tls_relay.logins) == ([], [])


async def test_validation_can_be_switched_off_for_a_lab_relay(tls_relay: Relay) -> None:
    await send_email(reply(), channel_config(tls_relay, validate_certs=False))
    assert [over_tls for *_, over_tls in tls_relay.mails] == [True]
