"""SMTP intake: an aiosmtpd server that hands every accepted message to an async handler.

The server runs on the application's own event loop (``aiosmtpd.smtp.SMTP`` served by ``loop.create_server``;
no extra thread).  SMTP replies:

* ``250`` only after ``handler(raw, mail_from, rcpt_tos)`` has returned — the handler stores the message first,
  so a 250 means the mail is safe;
* ``451 4.3.0`` when the handler raises (the sending MTA keeps the mail and retries later);
* ``550 5.1.1`` at RCPT time for recipients outside ``accepted_domains`` (we are not a relay);
* ``552`` for messages over ``max_message_size`` (announced in EHLO ``SIZE``; checked for ``MAIL FROM SIZE=``
  and while receiving DATA).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection
from types import TracebackType
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["IntakeHandler", "SmtpIntake"]

logger = logging.getLogger(__name__)

IntakeHandler = Callable[[bytes, str, list[str]], Awaitable[None]]


class _Handler:
    """aiosmtpd handler hooks (duck-typed by aiosmtpd)."""

    def __init__(self, intake: SmtpIntake) -> None:
        self._intake = intake

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self._intake.accepts(address):
            logger.info("smtp intake: rejected recipient %s from %s", address, session.peer)
            return f"550 5.1.1 <{address}>: recipient not accepted here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):  # only with decode_data=True, which we never set
            raw = raw.encode("utf-8", "surrogateescape")
        mail_from = envelope.mail_from or ""
        rcpt_tos = list(envelope.rcpt_tos)
        try:
            await self._intake.handler(bytes(raw), mail_from, rcpt_tos)
        except Exception:
            logger.exception("smtp intake: handler failed for a message from %s", mail_from or "<>")
            return "451 4.3.0 Temporary failure while storing the message, please retry"
        return "250 2.0.0 OK: message accepted"


class SmtpIntake:
    """Inbound SMTP server bound to ``host:port`` (port 0 picks a free port; see :attr:`port`)."""

    def __init__(
        self,
        handler: IntakeHandler,
        host: str = "127.0.0.1",
        port: int = 2525,
        accepted_domains: Collection[str] = (),
        max_message_size: int = 25 * 1024 * 1024,
        *,
        hostname: str | None = None,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        timeout: float = 300.0,
    ) -> None:
        self.handler = handler
        self.host = host
        self._requested_port = port
        self.accepted_domains = frozenset(domain.lower().strip().rstrip(".") for domain in accepted_domains)
        self.max_message_size = max_message_size
        self.hostname = hostname or socket.gethostname()
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.timeout = timeout
        self._server: asyncio.base_events.Server | None = None
        self._hooks = _Handler(self)

    def accepts(self, address: str) -> bool:
        """True if ``address`` is in one of the accepted domains (exact domain match, case-insensitive)."""
        local, at, domain = address.strip().strip("<>").rpartition("@")
        return bool(at and local) and domain.lower().rstrip(".") in self.accepted_domains

    def _protocol(self) -> SMTP:
        kwargs: dict[str, Any] = {
            "data_size_limit": self.max_message_size,
            "enable_SMTPUTF8": True,
            "decode_data": False,
            "hostname": self.hostname,
            "ident": "storedesk ESMTP",
            "timeout": self.timeout,
        }
        if self.tls_context is not None:
            kwargs["tls_context"] = self.tls_context
            kwargs["require_starttls"] = self.require_starttls
        return SMTP(self._hooks, **kwargs)

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._requested_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host=self.host, port=self._requested_port)
        logger.info(
            "smtp intake listening on %s:%s for %s", self.host, self.port, sorted(self.accepted_domains)
        )

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await server.wait_closed()

    async def __aenter__(self) -> SmtpIntake:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
