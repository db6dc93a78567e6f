"""Email glue: the pure email parts (``storedesk.channels.email``) wired into ingest and delivery.

* **Intake** (:func:`accept_email`, used by the SMTP server and IMAP polling): the raw mail is stored as an
  :class:`InboundEvent` per receiving mailbox (deduplicated on its Message-ID, else the SHA-256 of the raw
  bytes) and ingested by the ``channels.ingest`` job — threaded by In-Reply-To/References against stored
  Message-IDs and by a signed reply token. Auto-replies are kept as system entries (never answered, never
  reopening a conversation); a bounce marks our original message failed.
* **Sending** (:class:`EmailSender`, kind ``email``): SMTP relay settings from the channel, threading headers
  from the conversation's last customer mail, a reply token in every reply.
* **Lifespan** (:func:`start_email_intake`): the SMTP server, started when ``STOREDESK_SMTP_PORT`` is set
  and at least one email channel exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels import ingest
from storedesk.channels.email.parser import EmailAddress, ParsedEmail, parse_email
from storedesk.channels.email.sender import (
    OutboundAttachment,
    SmtpRelayConfig,
    build_outbound_email,
    send_email,
)
from storedesk.channels.email.sender import PermanentSendError as MailPermanent
from storedesk.channels.email.sender import TemporarySendError as MailTemporary
from storedesk.channels.email.smtp_server import SmtpIntake
from storedesk.channels.ingest import (
    ChannelRef,
    DeliveryUpdate,
    InboundMessage,
    Item,
    SenderIdentity,
    StoredFile,
    ThreadHints,
    register_parser,
)
from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.outbound import (
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    register_sender,
)
from storedesk.conversations.models import Attachment, Conversation, DeliveryStatus, Direction, Message
from storedesk.customers.models import IdentityKind
from storedesk.db.session import Database

log = logging.getLogger("storedesk.channels.email")

SOURCE = "email"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
CONVERSATION_HEADER = "x-storedesk-conversation"
FILES_HEADER = "x-storedesk-files"
_MARKER = re.compile(r"[ \t]*\[ref:[A-Za-z0-9][A-Za-z0-9_-]{7,63}\][ \t]*")


# --- reply tokens --------------------------------------------------------------------------------------------


def _token_sig(secret: str, shop_id: int, conversation_id: int) -> str:
    key = hmac.new(secret.encode(), b"storedesk-email-reply-token-v1", hashlib.sha256).digest()
    return hmac.new(key, f"{shop_id}:{conversation_id}".encode(), hashlib.sha256).hexdigest()[:20]


def reply_token_for(secret_keys: Sequence[str], shop_id: int, conversation_id: int) -> str:
    """``<conversation id>-<20 hex of an HMAC>``: a reply that lost its headers still finds its thread."""
    return f"{conversation_id}-{_token_sig(secret_keys[0], shop_id, conversation_id)}"


def conversation_from_token(secret_keys: Sequence[str], shop_id: int, token: str | None) -> int | None:
    if not token or "-" not in token:
        return None
    head, _, sig = token.partition("-")
    if not head.isdigit():
        return None
    conversation_id = int(head)
    ok = False
    for secret in secret_keys:
        ok = hmac.compare_digest(_token_sig(secret, shop_id, conversation_id).encode(), sig.encode()) or ok
    return conversation_id if ok else None


# --- intake --------------------------------------------------------------------------------------------------


def _mailbox(address: str) -> str:
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


async def email_channels_for(session: AsyncSession, recipients: Sequence[str]) -> list[Channel]:
    """Active email channels whose mailbox (``external_id``) is among the recipients (plus-tags ignored)."""
    wanted = {_mailbox(r) for r in recipients if "@" in r}
    if not wanted:
        return []
    rows = (
        await session.execute(
            select(Channel).where(Channel.kind == ChannelKind.email, Channel.is_active.is_(True))
        )
    ).scalars()
    return [c for c in rows if c.external_id and _mailbox(c.external_id) in wanted]


def _store_files(data_dir: Path, shop_id: int, parsed: ParsedEmail) -> list[dict[str, Any]]:
    out = []
    for att in parsed.attachments:
        digest = hashlib.sha256(att.payload).hexdigest()
        key = f"{shop_id}/{digest[:2]}/{digest}"
        path = data_dir / "attachments" / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(att.payload)
            tmp.replace(path)
        out.append(
            {
                "filename": att.filename,
                "content_type": att.content_type,
                "size": att.size,
                "sha256": digest,
                "storage_key": key,
                "content_id": att.content_id,
                "inline": att.inline,
            }
        )
    return out


async def accept_email(
    db: Database,
    raw: bytes,
    rcpt_tos: Sequence[str],
    *,
    secret_keys: Sequence[str],
    data_dir: Path,
    mail_from: str = "",
) -> int:
    """Store one received mail for every mailbox it was addressed to and enqueue its ingestion.

    Returns how many new events were stored (0 for a redelivery). Raises only if storing failed, so an SMTP
    server can answer 451 and the sending server retries.
    """
    async with db.transaction() as session:
        channels = await email_channels_for(session, rcpt_tos)
        if not channels:
            log.info("email for %s matches no mailbox; dropped", ", ".join(rcpt_tos))
            return 0
        parsed = parse_email(
            raw, our_domains={_mailbox(c.external_id or "").rpartition("@")[2] for c in channels}
        )
        natural = (
            f"mid:{parsed.message_id}" if parsed.message_id else f"sha256:{hashlib.sha256(raw).hexdigest()}"
        )
        stored = 0
        for channel in channels:
            conversation_id = conversation_from_token(secret_keys, channel.shop_id, parsed.reply_token)
            files = _store_files(data_dir, channel.shop_id, parsed) if parsed.attachments else []
            headers = {"mail-from": mail_from, "rcpt-to": ",".join(rcpt_tos)}
            if conversation_id is not None:
                headers[CONVERSATION_HEADER] = str(conversation_id)
            if files:
                headers[FILES_HEADER] = orjson.dumps(files).decode()
            new = await ingest.accept(
                session,
                source=SOURCE,
                dedupe_key=ingest.event_key(channel.id, natural),
                shop_id=channel.shop_id,
                channel_id=channel.id,
                headers=headers,
                body=raw,
            )
            stored += int(new)
        return stored


def parse(channel: ChannelRef, body: bytes, headers: Mapping[str, str]) -> Sequence[Item]:
    """Items of a stored mail (run by the ingest job)."""
    domain = (channel.external_id or "").rpartition("@")[2]
    parsed = parse_email(body, our_domains={domain} if domain else None)
    if parsed.is_bounce:
        if parsed.bounced_message_id:
            status = parsed.bounce.status if parsed.bounce else None
            who = ", ".join(parsed.failed_recipients) or "the recipient"
            error = f"email bounced: {who} could not be reached" + (f" (status {status})" if status else "")
            return [
                DeliveryUpdate(
                    channel.id, parsed.bounced_message_id, DeliveryStatus.failed, parsed.date, error
                )
            ]
        return []
    contact = parsed.contact
    if contact is None or "@" not in contact.address:
        return []
    conversation = headers.get(CONVERSATION_HEADER, "")
    files: list[dict[str, Any]] = []
    if headers.get(FILES_HEADER):
        files = orjson.loads(headers[FILES_HEADER])
    text = _MARKER.sub("\n", parsed.reply_text.strip() or parsed.text).strip()
    meta: dict[str, Any] = {
        "email": {"to": [a.address for a in parsed.to], "cc": [a.address for a in parsed.cc]}
    }
    if parsed.is_auto_reply:
        meta["auto_reply"] = True
    return [
        InboundMessage(
            channel_id=channel.id,
            sender=SenderIdentity(IdentityKind.email, contact.address),
            name=contact.name or None,
            text=text,
            html=parsed.html,
            provider_message_id=parsed.message_id,
            thread=ThreadHints(
                email_message_id=parsed.message_id,
                in_reply_to=parsed.in_reply_to,
                references=tuple(parsed.references),
                reply_token=parsed.reply_token,
                conversation_id=int(conversation) if conversation.isdigit() else None,
            ),
            timestamp=parsed.date,
            subject=parsed.subject or None,
            kind="system" if parsed.is_auto_reply else "message",
            meta=meta,
            files=tuple(
                StoredFile(
                    filename=f["filename"],
                    content_type=f["content_type"],
                    size=int(f["size"]),
                    sha256=f["sha256"],
                    storage_key=f["storage_key"],
                    content_id=f.get("content_id"),
                    inline=bool(f.get("inline")),
                )
                for f in files
            ),
        )
    ]


register_parser(SOURCE, parse)


# --- sending -------------------------------------------------------------------------------------------------


def relay_config(message: OutboundMessage) -> SmtpRelayConfig:
    settings, creds = message.settings, message.credentials
    host = str(settings.get("smtp_host") or creds.get("smtp_host") or "")
    if not host:
        raise PermanentSendError("the email channel has no SMTP relay (settings.smtp_host)")
    return SmtpRelayConfig(
        host=host,
        port=int(settings.get("smtp_port") or 587),
        username=str(creds.get("username") or creds.get("smtp_username") or "") or None,
        password=str(creds.get("password") or creds.get("smtp_password") or "") or None,
        starttls=bool(settings.get("starttls", True)),
        use_tls=bool(settings.get("use_tls", False)),
        validate_certs=bool(settings.get("validate_certs", True)),
        cert_bundle=str(settings.get("tls_ca_file") or "") or None,
        timeout=float(settings.get("timeout", 30.0)),
    )


class EmailSender:
    """Replies by email through the channel's SMTP relay, threaded into the customer's mail."""

    def __init__(
        self, db: Database | None = None, *, secret_keys: Sequence[str] = (), data_dir: Path | None = None
    ) -> None:
        self.db = db
        self.secret_keys = list(secret_keys)
        self.data_dir = data_dir

    async def _thread(
        self, message: OutboundMessage
    ) -> tuple[str | None, list[str], list[OutboundAttachment]]:
        """The Message-ID to answer, its References, and the reply's files (read in a short session)."""
        if self.db is None:
            return None, [], []
        async with self.db.sessionmaker() as session:
            parent = (
                await session.execute(
                    select(Message)
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(
                        Conversation.id == message.conversation_id,
                        Conversation.shop_id == message.shop_id,
                        Message.direction == Direction.inbound,
                        Message.channel_id == message.channel_id,
                        Message.provider_message_id.is_not(None),
                    )
                    .order_by(Message.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            files: list[OutboundAttachment] = []
            ids = [int(a["attachment_id"]) for a in message.attachments if a.get("attachment_id")]
            if ids and self.data_dir is not None:
                rows = (
                    await session.execute(
                        select(Attachment).where(
                            Attachment.id.in_(ids), Attachment.shop_id == message.shop_id
                        )
                    )
                ).scalars()
                for row in rows:
                    data = (self.data_dir / "attachments" / row.storage_key).read_bytes()
                    files.append(OutboundAttachment(row.filename, row.content_type, data))
            if parent is None:
                return None, [], files
            refs = (
                parent.meta.get("thread", {}).get("references", []) if isinstance(parent.meta, dict) else []
            )
            return parent.provider_message_id, [str(r) for r in refs], files

    async def send(self, message: OutboundMessage) -> SendResult:
        to = message.recipients.get(IdentityKind.email.value)
        if not to:
            raise PermanentSendError("the customer has no email address")
        from_address = str(message.settings.get("from_address") or message.channel_external_id or "")
        if "@" not in from_address:
            raise PermanentSendError(
                "the email channel has no sending address (external_id or settings.from_address)"
            )
        config = relay_config(message)
        in_reply_to, references, files = await self._thread(message)
        token = (
            reply_token_for(self.secret_keys, message.shop_id, message.conversation_id)
            if self.secret_keys
            else None
        )
        name = str(message.settings.get("from_name") or "")
        try:
            mail = build_outbound_email(
                from_address=EmailAddress(name, from_address) if name else from_address,
                to=[to[0]],
                subject=message.subject or f"Your request #{message.conversation_number}",
                text=message.text,
                html=message.html,
                message_id_domain=from_address.rpartition("@")[2],
                in_reply_to=in_reply_to,
                references=references,
                attachments=files,
                auto_submitted=message.author_type == "assistant",
                reply_token=token,
            )
        except ValueError as exc:
            raise PermanentSendError(f"the email could not be built: {exc}") from exc
        try:
            result = await send_email(mail, config, envelope_from=from_address)
        except MailTemporary as exc:
            raise TemporarySendError(f"the SMTP relay deferred the mail: {exc}") from exc
        except MailPermanent as exc:
            # a refusal by the relay (5xx), or a relay we cannot trust (its certificate): say which
            prefix = "" if exc.code is None else "the SMTP relay refused the mail: "
            raise PermanentSendError(f"{prefix}{exc}") from exc
        if not result.accepted:
            raise PermanentSendError(f"the SMTP relay refused every recipient: {result.refused}")
        return SendResult(provider_message_id=result.message_id)


register_sender("email", EmailSender())


def configure(db: Database, *, secret_keys: Sequence[str], data_dir: Path) -> None:
    """Threaded replies with reply tokens and attachments: call once per process that sends (app, workers)."""
    register_sender("email", EmailSender(db, secret_keys=secret_keys, data_dir=data_dir))


# --- lifespan ------------------------------------------------------------------------------------------------


class Stoppable(Protocol):
    async def stop(self) -> None: ...


async def start_email_intake(app_state: Any) -> Stoppable | None:
    """Start the SMTP intake for the app (``app.state``: settings, db). None when there is nothing to do.

    Listens on ``settings.smtp_host:settings.smtp_port`` for the domains of the email channels that exist
    at start-up (a channel added later needs a restart). The lead wires it into the app's lifespan::

        intake = await start_email_intake(app.state)
        ...
        if intake is not None:
            await intake.stop()
    """
    settings = app_state.settings
    db: Database = app_state.db
    if not getattr(settings, "smtp_port", None):
        return None
    async with db.sessionmaker() as session:
        mailboxes = (
            await session.execute(
                select(Channel.external_id).where(
                    Channel.kind == ChannelKind.email, Channel.is_active.is_(True)
                )
            )
        ).scalars()
        domains = {_mailbox(m).rpartition("@")[2] for m in mailboxes if m and "@" in m}
    if not domains:
        return None
    configure(db, secret_keys=settings.secret_keys, data_dir=settings.data_dir)

    async def handler(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> None:
        await accept_email(
            db,
            raw,
            rcpt_tos,
            secret_keys=settings.secret_keys,
            data_dir=settings.data_dir,
            mail_from=mail_from,
        )

    intake = SmtpIntake(
        handler,
        host=settings.smtp_host,
        port=settings.smtp_port,
        accepted_domains=sorted(domains),
        max_message_size=MAX_MESSAGE_BYTES,
    )
    await intake.start()
    return intake
