"""SmtpIntake against the stdlib's smtplib client, on 127.0.0.1 with an ephemeral port."""

from __future__ import annotations

import smtplib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import pytest

from storedesk.channels.email.smtp_server import SmtpIntake

pytestmark = pytest.mark.anyio

MESSAGE = (
    b"From: Customer <c@client.example>\r\nTo: support@shop.example\r\nSubject: Where is my parcel?\r\n"
    b"Message-ID: <m1@client.example>\r\n\r\nOrder 123, please.\r\n"
)


@dataclass
class Recorder:
    received: list[tuple[bytes, str, list[str]]] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)
    delay: float = 0.0
    fail: bool = False

    async def __call__(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> None:
        if self.delay:
            await anyio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("database is down")
        self.received.append((raw, mail_from, rcpt_tos))
        self.finished_at.append(time.monotonic())


@pytest.fixture
async def intake() -> AsyncIterator[tuple[SmtpIntake, Recorder]]:
    recorder = Recorder()
    server = SmtpIntake(
        recorder, "127.0.0.1", 0, ["shop.example", "Help.Shop.example"], max_message_size=4096
    )
    await server.start()
    try:
        yield server, recorder
    finally:
        await server.stop()


def _client(port: int) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=10)


async def test_accepts_and_hands_over_before_250(intake: tuple[SmtpIntake, Recorder]) -> None:
    server, recorder = intake
    recorder.delay = 0.2

    def send() -> tuple[dict[str, tuple[int, bytes]], float]:
        with _client(server.port) as client:
            refused = client.sendmail(
                "c@client.example", ["support@shop.example", "orders@help.shop.example"], MESSAGE
            )
            return refused, time.monotonic()

    refused, answered_at = await anyio.to_thread.run_sync(send)
    assert refused == {}
    assert recorder.received == [
        (MESSAGE, "c@client.example", ["support@shop.example", "orders@help.shop.example"])
    ]
    assert recorder.finished_at[0] <= answered_at  # 250 came only after the handler had stored the mail


async def test_rejects_foreign_recipients_with_550(intake: tuple[SmtpIntake, Recorder]) -> None:
    server, recorder = intake

    def send() -> smtplib.SMTPRecipientsRefused:
        with _client(server.port) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            client.sendmail("c@client.example", ["victim@elsewhere.example"], MESSAGE)
        return caught.value

    error = await anyio.to_thread.run_sync(send)
    assert error.recipients == {
        "victim@elsewhere.example": (550, b"5.1.1 <victim@elsewhere.example>: recipient not accepted here")
    }
    assert recorder.received == []


async def test_mixed_recipients_only_accepted_ones_reach_the_handler(
    intake: tuple[SmtpIntake, Recorder],
) -> None:
    server, recorder = intake

    def send() -> dict[str, tuple[int, bytes]]:
        with _client(server.port) as client:
            return client.sendmail("c@client.example", ["support@shop.example", "x@other.example"], MESSAGE)

    refused = await anyio.to_thread.run_sync(send)
    assert refused == {"x@other.example": (550, b"5.1.1 <x@other.example>: recipient not accepted here")}
    assert [rcpts for _, _, rcpts in recorder.received] == [["support@shop.example"]]


async def test_handler_failure_answers_451(intake: tuple[SmtpIntake, Recorder]) -> None:
    server, recorder = intake
    recorder.fail = True

    def send() -> smtplib.SMTPDataError:
        with _client(server.port) as client, pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail("c@client.example", ["support@shop.example"], MESSAGE)
        return caught.value

    error = await anyio.to_thread.run_sync(send)
    assert (error.smtp_code, error.smtp_error) == (
        451,
        b"4.3.0 Temporary failure while storing the message, please retry",
    )


async def test_too_big_is_552(intake: tuple[SmtpIntake, Recorder]) -> None:
    server, recorder = intake
    big = MESSAGE + (b"x" * 98 + b"\r\n") * 50

    def declared_size() -> smtplib.SMTPSenderRefused:
        # smtplib announces SIZE= when the server offers the SIZE extension: refused at MAIL FROM
        with _client(server.port) as client, pytest.raises(smtplib.SMTPSenderRefused) as caught:
            client.sendmail("c@client.example", ["support@shop.example"], big)
        return caught.value

    def undeclared_size() -> tuple[int, bytes]:
        with _client(server.port) as client:
            client.ehlo()
            client.mail("c@client.example")
            client.rcpt("support@shop.example")
            return client.data(big)

    refused = await anyio.to_thread.run_sync(declared_size)
    assert refused.smtp_code == 552
    code, _ = await anyio.to_thread.run_sync(undeclared_size)
    assert code == 552
    assert recorder.received == []


async def test_ehlo_advertises_size_and_smtputf8(intake: tuple[SmtpIntake, Recorder]) -> None:
    server, _ = intake

    def ehlo() -> dict[str, str]:
        with _client(server.port) as client:
            client.ehlo()
            return dict(client.esmtp_features)

    features = await anyio.to_thread.run_sync(ehlo)
    assert features["size"] == "4096"
    assert "smtputf8" in features


async def test_stop_closes_the_port() -> None:
    server = SmtpIntake(Recorder(), "127.0.0.1", 0, ["shop.example"])
    async with server:
        port = server.port
        assert server.running
    assert not server.running
    with pytest.raises(OSError):
        await anyio.to_thread.run_sync(lambda: smtplib.SMTP("127.0.0.1", port, timeout=2))


def test_accepts() -> None:
    server = SmtpIntake(Recorder(), accepted_domains=["Shop.Example."])
    assert server.accepts("support@shop.example")
    assert server.accepts("<SUPPORT+abc@SHOP.EXAMPLE>")
    assert not server.accepts("support@sub.shop.example")
    assert not server.accepts("shop.example")
    assert not server.accepts("@shop.example")
