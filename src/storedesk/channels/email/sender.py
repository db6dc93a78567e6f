"""Outbound mail: build a threaded reply (:func:`build_outbound_email`) and hand it to a relay
(:func:`send_email`, aiosmtplib).

Errors are typed for the retry logic of the caller: :class:`TemporarySendError` (4xx replies, refused or dropped
connections, time-outs — retry later) and :class:`PermanentSendError` (5xx replies, a relay whose TLS
certificate is not trusted — mark the message failed).
"""

from __future__ import annotations

import html as html_lib
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from storedesk.channels.email.parser import EmailAddress, make_reply_token_marker

__all__ = [
    "OutboundAttachment",
    "PermanentSendError",
    "SendError",
    "SendResult",
    "SmtpRelayConfig",
    "TemporarySendError",
    "build_outbound_email",
    "reply_subject",
    "send_email",
]

_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|antw|vs|ref|r|odp|res|vá|答复|回复)\s*(?:\[\d+\])?\s*:", re.IGNORECASE
)
_MAX_REFERENCES = 20


@dataclass(frozen=True)
class SmtpRelayConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True  # upgrade a plain connection with STARTTLS (port 587)
    use_tls: bool = False  # implicit TLS from the first byte (port 465)
    timeout: float = 30.0
    validate_certs: bool = True
    # a CA bundle (PEM file) to trust besides the system's: a relay with a private or self-signed certificate
    cert_bundle: str | None = None
    local_hostname: str | None = None


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)
    content_id: str | None = None  # set with inline=True to reference it from the HTML as cid:<content_id>
    inline: bool = False


@dataclass(frozen=True)
class SendResult:
    message_id: str
    accepted: list[str]
    refused: dict[str, tuple[int, str]]  # recipients the relay refused while accepting others
    response: str


class SendError(Exception):
    """Sending failed.  ``code`` is the SMTP reply code when there was one."""

    temporary: bool = False

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporarySendError(SendError):
    """4xx reply, connection refused/lost, time-out: try again later."""

    temporary = True


class PermanentSendError(SendError):
    """5xx reply (bad recipient, rejected content, authentication refused): do not retry as is."""


def reply_subject(subject: str) -> str:
    """``Re: <subject>`` unless the subject already carries a reply prefix (Re:, AW:, SV: …)."""
    subject = subject.strip()
    if _REPLY_PREFIX.match(subject):
        return subject
    return f"Re: {subject}" if subject else "Re:"


def _address(value: EmailAddress | str) -> Address:
    if isinstance(value, EmailAddress):
        name, addr = value.name, value.address
    else:
        name, addr = "", value
    local, _, domain = addr.rpartition("@")
    if not local or not domain:
        raise ValueError(f"not an e-mail address: {addr!r}")
    return Address(display_name=name, username=local.strip('"'), domain=domain)


def _bracket(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def build_outbound_email(
    *,
    from_address: EmailAddress | str,
    to: Sequence[EmailAddress | str],
    subject: str,
    text: str,
    message_id_domain: str,
    html: str | None = None,
    cc: Sequence[EmailAddress | str] = (),
    reply_to: EmailAddress | str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[OutboundAttachment] = (),
    auto_submitted: bool = False,
    reply_token: str | None = None,
    date: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A ready-to-send message.

    * ``Subject`` gets ``Re:`` when the mail answers another one (``in_reply_to``);
    * threading: ``In-Reply-To`` is the parent id, ``References`` the parent's references plus the parent
      (last 20 kept);
    * ``Message-ID`` is generated in ``message_id_domain``;
    * ``text`` and optional ``html`` become a multipart/alternative; inline attachments (``content_id``) become
      multipart/related parts of the HTML, the others regular attachments;
    * ``auto_submitted=True`` (sent by the assistant) adds ``Auto-Submitted: auto-replied`` and
      ``X-Auto-Response-Suppress: All`` (RFC 3834; keeps vacation responders from answering);
    * ``reply_token`` is appended to the bodies as ``[ref:<token>]`` so that replies that lost the plus-address
      still find their conversation.
    """
    if not to:
        raise ValueError("at least one recipient is required")
    msg = EmailMessage()
    msg["From"] = _address(from_address)
    msg["To"] = [_address(recipient) for recipient in to]
    if cc:
        msg["Cc"] = [_address(recipient) for recipient in cc]
    if reply_to is not None:
        msg["Reply-To"] = _address(reply_to)
    msg["Subject"] = reply_subject(subject) if in_reply_to else subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=message_id_domain)
    if in_reply_to:
        parent = _bracket(in_reply_to)
        chain = [_bracket(ref) for ref in references if ref.strip()]
        if parent not in chain:
            chain.append(parent)
        msg["In-Reply-To"] = parent
        msg["References"] = " ".join(chain[-_MAX_REFERENCES:])
    elif references:
        msg["References"] = " ".join(_bracket(ref) for ref in references[-_MAX_REFERENCES:])
    if auto_submitted:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (extra_headers or {}).items():
        msg[name] = value

    if reply_token:
        marker = make_reply_token_marker(reply_token)
        text = f"{text.rstrip()}\n\n{marker}\n"
        if html is not None:
            html = f'{html}\n<div style="color:#9a9a9a;font-size:10px">{html_lib.escape(marker)}</div>'

    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        html_part = next(part for part in msg.iter_parts() if part.get_content_type() == "text/html")
        for attachment in attachments:
            if attachment.inline and attachment.content_id:
                maintype, _, subtype = attachment.content_type.partition("/")
                html_part.add_related(
                    attachment.data,
                    maintype=maintype,
                    subtype=subtype or "octet-stream",
                    cid=_bracket(attachment.content_id),
                    filename=attachment.filename,
                    disposition="inline",
                )
    for attachment in attachments:
        if attachment.inline and attachment.content_id and html is not None:
            continue
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return msg


def _certificate_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind an error (aiosmtplib wraps it), if that is what it is."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _recipients(msg: EmailMessage) -> list[str]:
    addresses: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        header = msg[name]
        if header is None:
            continue
        for address in getattr(header, "addresses", ()):
            if address.addr_spec and address.addr_spec not in addresses:
                addresses.append(address.addr_spec)
    return addresses


async def send_email(
    msg: EmailMessage, config: SmtpRelayConfig, *, envelope_from: str | None = None
) -> SendResult:
    """Send ``msg`` through the relay.  Raises :class:`TemporarySendError` or :class:`PermanentSendError`.

    ``Bcc`` recipients are delivered and the header is not transmitted (aiosmtplib strips it).  When the relay
    refuses some recipients but accepts others, the mail counts as sent and the refusals are in
    :attr:`SendResult.refused`.
    """
    recipients = _recipients(msg)
    if not recipients:
        raise PermanentSendError("the message has no recipients")
    message_id = str(msg["Message-ID"] or "").strip().strip("<>")
    try:
        refused, response = await aiosmtplib.send(
            msg,
            sender=envelope_from,
            recipients=recipients,
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            start_tls=config.starttls if not config.use_tls else False,
            use_tls=config.use_tls,
            timeout=config.timeout,
            validate_certs=config.validate_certs,
            cert_bundle=config.cert_bundle,
            local_hostname=config.local_hostname,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [refusal.code for refusal in error.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in error.recipients)
        if codes and all(400 <= code < 500 for code in codes):
            raise TemporarySendError(f"all recipients deferred: {detail}", codes[0]) from error
        raise PermanentSendError(f"all recipients refused: {detail}", codes[0] if codes else None) from error
    except aiosmtplib.SMTPResponseException as error:
        # covers SMTPSenderRefused, SMTPDataError, SMTPAuthenticationError, SMTPHeloError, …
        message = f"{error.code} {error.message}"
        if 400 <= error.code < 500:
            raise TemporarySendError(message, error.code) from error
        if 500 <= error.code < 600:
            raise PermanentSendError(message, error.code) from error
        raise TemporarySendError(message, error.code) from error
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        untrusted = _certificate_error(error)
        if untrusted is not None:
            # retrying cannot help until someone trusts the relay's CA or fixes its certificate
            raise PermanentSendError(
                f"the mail server's TLS certificate is not trusted ({untrusted.verify_message or untrusted}): "
                "fix the server's certificate or give the channel its CA file (tls_ca_file)"
            ) from error
        # connection refused/reset, TLS failures, time-outs, server disconnects
        raise TemporarySendError(f"{type(error).__name__}: {error}") from error
    accepted = [address for address in recipients if address not in refused]
    return SendResult(
        message_id=message_id,
        accepted=accepted,
        refused={address: (reply.code, reply.message) for address, reply in refused.items()},
        response=str(response),
    )
