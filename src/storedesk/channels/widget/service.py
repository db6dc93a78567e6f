"""Website chat: visitor sessions, messages in and out, attachments, presence and the offline form.

A visitor is known by a signed token (HMAC with the app secret) kept in the browser's localStorage; its
subject is a random visitor id, stored as the customer's ``chat_visitor`` identity. The widget only ever
sees the conversation bound to its :class:`ChatSession` — and only customer and agent messages, never
internal notes or system entries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Agent, AuthToken, TokenKind
from storedesk.channels import filetypes, ingest
from storedesk.channels.ingest import InboundMessage, SenderIdentity, ThreadHints
from storedesk.channels.models import Channel, ChannelKind, ChatSession
from storedesk.channels.service import create_channel
from storedesk.conversations.models import Attachment, Direction, Message
from storedesk.customers.identity import normalise_email
from storedesk.customers.models import IdentityKind
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from storedesk.kit.errors import NotFound, Unauthenticated, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop
from storedesk.shops.service import get_shop_by_slug

ONLINE_WINDOW = timedelta(minutes=5)
MAX_TEXT = 5000
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
UPLOAD_TYPES_MESSAGE = "only images (PNG, JPEG, GIF, WebP), PDF files and documents (Word, Excel, OpenDocument) can be sent"  # the type is sniffed from the bytes (storedesk.channels.filetypes), never taken from the browser's word


# --- visitor tokens ------------------------------------------------------------------------------------------


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"storedesk-widget-visitor-v1", hashlib.sha256).digest()


def _sig(secret: str, payload: str) -> str:
    raw = hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def issue_token(secret_keys: Sequence[str], shop_id: int, visitor_id: str) -> str:
    payload = f"v1.{shop_id}.{visitor_id}"
    return f"{payload}.{_sig(secret_keys[0], payload)}"


def read_token(secret_keys: Sequence[str], shop_id: int, token: str | None) -> str | None:
    """The visitor id of a valid token for this shop (any configured key verifies: rotation)."""
    if not token or token.count(".") != 3:
        return None
    version, shop, visitor_id, sig = token.split(".")
    if version != "v1" or shop != str(shop_id) or not visitor_id:
        return None
    payload = f"{version}.{shop}.{visitor_id}"
    ok = False
    for secret in secret_keys:
        ok = hmac.compare_digest(_sig(secret, payload).encode(), sig.encode()) or ok
    return visitor_id if ok else None


# --- shop, channel, session ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    shop: Shop
    channel: Channel
    chat: ChatSession
    token: str


async def shop_and_channel(
    session: AsyncSession, slug: str, box: SecretBox, *, create: bool = False
) -> tuple[Shop, Channel]:
    """The shop and its website-chat channel (created on first use when ``create``)."""
    shop = await get_shop_by_slug(session, slug)
    channel = (
        await session.execute(
            select(Channel)
            .where(Channel.shop_id == shop.id, Channel.kind == ChannelKind.chat, Channel.is_active.is_(True))
            .order_by(Channel.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if channel is None:
        if not create:
            raise NotFound("chat channel", slug)
        channel = await create_channel(
            session, shop_id=shop.id, actor=SYSTEM, box=box, kind=ChannelKind.chat, name="Website chat"
        )
    return shop, channel


async def start_session(
    session: AsyncSession,
    *,
    slug: str,
    box: SecretBox,
    secret_keys: Sequence[str],
    token: str | None,
    language: str | None,
) -> Visitor:
    """Resume the visitor of a valid token, or begin a new one."""
    shop, channel = await shop_and_channel(session, slug, box, create=True)
    visitor_id = read_token(secret_keys, shop.id, token)
    if visitor_id is None:
        visitor_id = secrets.token_urlsafe(16)
    chat = (
        await session.execute(
            select(ChatSession).where(
                ChatSession.channel_id == channel.id, ChatSession.visitor_id == visitor_id
            )
        )
    ).scalar_one_or_none()
    if chat is None:
        chat = ChatSession(
            shop_id=shop.id, channel_id=channel.id, visitor_id=visitor_id, language=_lang(language)
        )
        session.add(chat)
        await session.flush()
    chat.last_seen_at = utcnow()
    return Visitor(shop, channel, chat, issue_token(secret_keys, shop.id, visitor_id))


async def visitor(
    session: AsyncSession, *, slug: str, box: SecretBox, secret_keys: Sequence[str], token: str | None
) -> Visitor:
    """The session behind a token; 401 for a missing, forged or foreign token."""
    shop, channel = await shop_and_channel(session, slug, box)
    visitor_id = read_token(secret_keys, shop.id, token)
    if visitor_id is None:
        raise Unauthenticated("the visitor token is not valid; start a new chat session")
    chat = (
        await session.execute(
            select(ChatSession).where(
                ChatSession.channel_id == channel.id, ChatSession.visitor_id == visitor_id
            )
        )
    ).scalar_one_or_none()
    if chat is None:
        raise Unauthenticated("the chat session has ended; start a new one")
    return Visitor(shop, channel, chat, token or "")


def _lang(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().lower()[:2]
    return code if code.isalpha() and len(code) == 2 else None


async def identify(
    session: AsyncSession, who: Visitor, *, name: str | None, email: str | None, order_number: str | None
) -> ChatSession:
    """Pre-chat identification. The email links the chat to the customer known by that address."""
    if email:
        who.chat.email = normalise_email(email)
    if name:
        who.chat.name = name.strip()[:200]
    if order_number:
        who.chat.order_number = order_number.strip()[:64]
    return who.chat


# --- messages ------------------------------------------------------------------------------------------------


def _identities(who: Visitor) -> tuple[SenderIdentity, tuple[SenderIdentity, ...]]:
    sender = SenderIdentity(IdentityKind.chat_visitor, who.chat.visitor_id)
    aka = (SenderIdentity(IdentityKind.email, who.chat.email),) if who.chat.email else ()
    return sender, aka


async def post_message(
    session: AsyncSession,
    who: Visitor,
    *,
    text: str,
    client_id: str,
    attachments: Sequence[dict[str, Any]] = (),
    page_url: str | None = None,
) -> Message:
    """A visitor's message: stored as the raw event and ingested in the caller's transaction."""
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"a chat message is at most {MAX_TEXT} characters", details={"field": "text"})
    if not text.strip() and not attachments:
        raise ValidationFailed("a message needs text or an attachment", details={"field": "text"})
    sender, aka = _identities(who)
    provider_id = f"{who.chat.visitor_id}:{client_id}"
    meta: dict[str, Any] = {"chat_session_id": who.chat.id}
    if who.chat.order_number:
        meta["order_number"] = who.chat.order_number
    if page_url:
        meta["page_url"] = page_url[:500]
    message = InboundMessage(
        channel_id=who.channel.id,
        sender=sender,
        also_known_as=aka,
        name=who.chat.name,
        text=text,
        attachments=tuple(attachments),
        provider_message_id=provider_id,
        thread=ThreadHints(chat_session_id=who.chat.id),
        language=who.chat.language,
        meta=meta,
    )
    raw = orjson.dumps(
        {"text": text, "client_id": client_id, "attachments": list(attachments), "page_url": page_url}
    )
    results = await ingest.ingest_now(
        session,
        source="widget",
        dedupe_key=ingest.event_key(who.channel.id, provider_id),
        shop_id=who.shop.id,
        channel_id=who.channel.id,
        headers={"visitor_id": who.chat.visitor_id},
        body=raw,
        items=[message],
    )
    stored_id = results[0].message_id if results else None
    if stored_id is None:  # the same client_id again (a retried POST): the stored message
        existing = (
            await session.execute(
                select(Message).where(
                    Message.shop_id == who.shop.id,
                    Message.channel_id == who.channel.id,
                    Message.provider_message_id == provider_id,
                )
            )
        ).scalar_one_or_none()
        if existing is None:
            raise ValidationFailed("this message id was used before", details={"field": "client_id"})
        return existing
    stored = await session.get(Message, stored_id)
    assert stored is not None
    for att in attachments:
        if att.get("attachment_id"):
            row = await session.get(Attachment, int(att["attachment_id"]))
            if row is not None and row.shop_id == who.shop.id and row.message_id is None:
                row.message_id = stored.id
    who.chat.last_seen_at = utcnow()
    return stored


async def visible_messages(
    session: AsyncSession, who: Visitor, *, after_id: int = 0, limit: int = 100
) -> list[tuple[Message, str | None]]:
    """Customer and agent messages of the session's conversation, with the agent's name."""
    if who.chat.conversation_id is None:
        return []
    rows = (
        await session.execute(
            select(Message, Agent.name)
            .outerjoin(Agent, Agent.id == Message.author_agent_id)
            .where(
                Message.shop_id == who.shop.id,
                Message.conversation_id == who.chat.conversation_id,
                Message.direction.in_([Direction.inbound.value, Direction.outbound.value]),
                Message.id > after_id,
            )
            .order_by(Message.id)
            .limit(limit)
        )
    ).all()
    return [(m, name) for m, name in rows]


def message_json(message: Message, agent_name: str | None, slug: str, token: str) -> dict[str, Any]:
    atts = []
    for att in message.attachments or []:
        item = {k: att.get(k) for k in ("filename", "content_type", "size")}
        if att.get("attachment_id"):
            item["url"] = f"/widget/{slug}/attachments/{att['attachment_id']}?token={token}"
        elif att.get("url"):
            item["url"] = att["url"]
        atts.append(item)
    return {
        "id": message.id,
        "from": "visitor" if message.direction == Direction.inbound else "agent",
        "author": (agent_name or "").split(" ")[0] if message.direction == Direction.outbound else None,
        "text": message.text,
        "attachments": atts,
        "created_at": message.created_at.isoformat(),
        # quick replies (a survey's scores): the widget shows them as buttons → POST /widget/{slug}/survey
        "buttons": [
            {k: b[k] for k in ("id", "title", "description") if b.get(k)}
            for b in (message.meta or {}).get("buttons") or []
            if message.direction == Direction.outbound
        ],
    }


# --- attachments ---------------------------------------------------------------------------------------------


sniff = filetypes.sniff  # images, PDF and office documents, by their bytes (storedesk.channels.filetypes)


def storage_path(data_dir: Path, storage_key: str) -> Path:
    return data_dir / "attachments" / storage_key


async def store_attachment(
    session: AsyncSession, *, data_dir: Path, shop_id: int, filename: str, data: bytes
) -> Attachment:
    """Check size and type (by content), write the bytes once per content hash, add the row."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            f"attachments are at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB", details={"field": "file"}
        )
    if not data:
        raise ValidationFailed("the file is empty", details={"field": "file"})
    content_type = sniff(data)
    if content_type is None:
        raise ValidationFailed(UPLOAD_TYPES_MESSAGE, details={"field": "file"})
    digest = hashlib.sha256(data).hexdigest()
    key = f"{shop_id}/{digest[:2]}/{digest}"
    path = storage_path(data_dir, key)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    safe_name = (
        "".join(ch for ch in Path(filename or "file").name if ch.isprintable() and ch not in '\\/"')[:200]
        or "file"
    )
    row = Attachment(
        shop_id=shop_id,
        filename=safe_name,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_key=key,
    )
    session.add(row)
    await session.flush()
    return row


async def visitor_attachment(session: AsyncSession, who: Visitor, attachment_id: int) -> Attachment:
    """An attachment of a message the visitor can see; 404 for anything else."""
    row = (
        await session.execute(
            select(Attachment)
            .join(Message, Message.id == Attachment.message_id)
            .where(
                Attachment.id == attachment_id,
                Attachment.shop_id == who.shop.id,
                Message.conversation_id == who.chat.conversation_id,
                Message.direction.in_([Direction.inbound.value, Direction.outbound.value]),
            )
        )
    ).scalar_one_or_none()
    if row is None or who.chat.conversation_id is None:
        raise NotFound("attachment", attachment_id)
    return row


# --- presence ------------------------------------------------------------------------------------------------


def within_business_hours(shop: Shop, now: datetime) -> bool:
    try:
        local = now.astimezone(ZoneInfo(shop.timezone or "UTC"))
    except (KeyError, ValueError):
        local = now
    hours = shop.business_hours or {}
    if local.date().isoformat() in (hours.get("holidays") or []):
        return False
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in hours.get(day) or [])


async def agents_online(session: AsyncSession, shop: Shop, *, now: datetime | None = None) -> bool:
    """Someone can answer: an agent's UI session was used in the last 5 minutes, or it is business hours."""
    now = now or utcnow()
    seen = func.coalesce(AuthToken.last_used_at, AuthToken.created_at)
    recent = (
        await session.execute(
            select(AuthToken.id)
            .join(Agent, Agent.id == AuthToken.agent_id)
            .where(
                AuthToken.shop_id == shop.id,
                AuthToken.kind == TokenKind.session,
                AuthToken.revoked_at.is_(None),
                or_(AuthToken.expires_at.is_(None), AuthToken.expires_at > now),
                seen >= now - ONLINE_WINDOW,
                Agent.is_active.is_(True),
            )
            .limit(1)
        )
    ).first()
    return recent is not None or within_business_hours(shop, now)


# --- offline form --------------------------------------------------------------------------------------------


async def leave_message(
    session: AsyncSession,
    *,
    slug: str,
    box: SecretBox,
    secret_keys: Sequence[str],
    token: str | None,
    name: str | None,
    email: str,
    text: str,
    client_id: str,
) -> ingest.IngestResult:
    """No agent online: the visitor leaves an email address and a message; the reply goes by email
    when the shop has an email channel, else it waits in the chat conversation."""
    shop, chat_channel = await shop_and_channel(session, slug, box, create=True)
    address = normalise_email(email)
    if not text.strip() or len(text) > MAX_TEXT:
        raise ValidationFailed(f"the message needs 1–{MAX_TEXT} characters", details={"field": "text"})
    email_channel = (
        await session.execute(
            select(Channel)
            .where(Channel.shop_id == shop.id, Channel.kind == ChannelKind.email, Channel.is_active.is_(True))
            .order_by(Channel.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    channel = email_channel or chat_channel
    visitor_id = read_token(secret_keys, shop.id, token)
    aka = (SenderIdentity(IdentityKind.chat_visitor, visitor_id),) if visitor_id else ()
    message = InboundMessage(
        channel_id=channel.id,
        sender=SenderIdentity(IdentityKind.email, address),
        also_known_as=aka,
        name=(name or "").strip()[:200] or None,
        text=text,
        subject="Message from the website chat (offline)",
        thread=ThreadHints(new_conversation=True),
        meta={"offline_form": True, "reply_by_email": True},
    )
    key = ingest.event_key(channel.id, f"offline:{address}:{client_id}")
    results = await ingest.ingest_now(
        session,
        source="widget",
        dedupe_key=key,
        shop_id=shop.id,
        channel_id=channel.id,
        headers={},
        body=orjson.dumps({"name": name, "email": address, "text": text, "client_id": client_id}),
        items=[message],
    )
    if results is None:
        return ingest.IngestResult(None, None, None, False)
    return results[0]
