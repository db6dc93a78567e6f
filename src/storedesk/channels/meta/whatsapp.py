"""WhatsApp Cloud API adapter: webhook payloads → our items; our replies → ``POST /{phone_number_id}/messages``.

Wire format: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components — one delivery
carries ``entry[].changes[].value`` with ``metadata.phone_number_id`` (our channel's ``external_id``),
``contacts`` (profile names), ``messages`` (from customers) and ``statuses`` (of our messages).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels.ingest import (
    ChannelRef,
    DeliveryUpdate,
    InboundMessage,
    Item,
    MalformedPayload,
    SenderIdentity,
    register_parser,
)
from storedesk.channels.media import PENDING
from storedesk.channels.meta.graph import graph_url, post_graph
from storedesk.channels.outbound import OutboundMessage, PermanentSendError, SendResult, register_sender
from storedesk.conversations.models import DeliveryStatus
from storedesk.conversations.repository import ConversationRepository
from storedesk.conversations.service import last_inbound_at
from storedesk.customers.models import IdentityKind
from storedesk.kit.time import utcnow

SOURCE = "whatsapp"
WINDOW = timedelta(hours=24)

STATUS_MAP = {
    "sent": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "read": DeliveryStatus.read,
    "failed": DeliveryStatus.failed,
}

PERMANENT_HINTS = {
    131047: "outside WhatsApp's 24-hour customer-service window: only an approved template can be sent",
    131026: "the recipient cannot receive WhatsApp messages",
    131051: "WhatsApp does not support this message type",
    190: "the WhatsApp access token has expired or is invalid",
    100: "WhatsApp rejected a parameter (check the recipient number and the template)",
}


def _ts(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _changes(payload: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise MalformedPayload("not a whatsapp_business_account delivery")
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            # only "messages" carries customer messages and statuses; echoes of messages we (or the
            # WhatsApp Business app) sent arrive under other fields and are never customer messages
            if change.get("field") == "messages" and isinstance(change.get("value"), dict):
                yield change["value"]


def phone_number_ids(payload: Any) -> list[str]:
    """The business phone number ids a delivery is addressed to (routing; read before verification)."""
    out: list[str] = []
    for value in _changes(payload):
        pid = str((value.get("metadata") or {}).get("phone_number_id") or "")
        if pid and pid not in out:
            out.append(pid)
    return out


def _media(kind: str, media: Mapping[str, Any]) -> dict[str, Any]:
    att: dict[str, Any] = {"kind": kind, "provider_media_id": media.get("id")}
    if media.get("id"):
        att["media"] = PENDING  # the bytes are fetched by the channels.fetch_media job
    if media.get("mime_type"):
        att["content_type"] = media["mime_type"]
    if media.get("filename"):
        att["filename"] = media["filename"]
    if media.get("sha256"):
        att["sha256"] = media["sha256"]
    return att


def _content(message: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, Any]] | None:
    """``(text, attachments, meta)`` of one customer message, or None for what is not a message."""
    kind = message.get("type")
    meta: dict[str, Any] = {"whatsapp_type": kind}
    if kind == "text":
        return str((message.get("text") or {}).get("body") or ""), [], meta
    if kind in ("image", "document", "audio", "video", "sticker"):
        media = message.get(kind) or {}
        return str(media.get("caption") or ""), [_media(str(kind), media)], meta
    if kind == "location":
        loc = message.get("location") or {}
        meta["location"] = {k: loc.get(k) for k in ("latitude", "longitude", "name", "address") if k in loc}
        label = ", ".join(str(loc[k]) for k in ("name", "address") if loc.get(k))
        where = f"{loc.get('latitude')}, {loc.get('longitude')}"
        return (f"📍 {label} ({where})" if label else f"📍 {where}"), [], meta
    if kind == "interactive":
        inter = message.get("interactive") or {}
        itype = inter.get("type")
        reply = inter.get(itype) if itype in ("button_reply", "list_reply") else None
        if not isinstance(reply, dict):
            return None
        meta["interactive"] = {"type": itype, "id": reply.get("id"), "title": reply.get("title")}
        text = str(reply.get("title") or "")
        if reply.get("description"):
            text += f" — {reply['description']}"
        return text, [], meta
    if kind == "button":
        button = message.get("button") or {}
        meta["button"] = {"payload": button.get("payload"), "text": button.get("text")}
        return str(button.get("text") or ""), [], meta
    if kind == "contacts":
        lines = []
        for contact in message.get("contacts") or []:
            name = (contact.get("name") or {}).get("formatted_name") or ""
            phones = ", ".join(p.get("phone", "") for p in contact.get("phones") or [])
            lines.append(f"{name} {phones}".strip())
        meta["contacts"] = message.get("contacts")
        return "👤 " + "; ".join(lines), [], meta
    # reactions, "unsupported", "system" notices (number changed), ephemeral types: not a customer message
    return None


def parse(channel: ChannelRef, body: bytes, headers: Mapping[str, str]) -> Sequence[Item]:
    """Items of a stored delivery for ``channel`` (entries for other phone numbers are skipped)."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedPayload("body is not JSON") from exc
    items: list[Item] = []
    for value in _changes(payload):
        metadata = value.get("metadata") or {}
        if str(metadata.get("phone_number_id") or "") != channel.external_id:
            continue
        own_number = "".join(ch for ch in str(metadata.get("display_phone_number") or "") if ch.isdigit())
        names = {
            str(c.get("wa_id")): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []
        }
        for message in value.get("messages") or []:
            sender = str(message.get("from") or "")
            if not sender or sender == own_number:
                continue  # our own number: an echo, never a customer message
            content = _content(message)
            if content is None:
                continue
            text, attachments, meta = content
            context = message.get("context") or {}
            if context.get("id"):
                meta["reply_to_provider_id"] = context["id"]
            items.append(
                InboundMessage(
                    channel_id=channel.id,
                    sender=SenderIdentity(IdentityKind.whatsapp, sender),
                    name=names.get(sender),
                    text=text,
                    attachments=tuple(attachments),
                    provider_message_id=str(message.get("id")),
                    timestamp=_ts(message.get("timestamp")),
                    meta=meta,
                )
            )
        for status in value.get("statuses") or []:
            mapped = STATUS_MAP.get(str(status.get("status")))
            if mapped is None or not status.get("id"):
                continue
            error = None
            if mapped == DeliveryStatus.failed:
                parts = []
                for err in status.get("errors") or []:
                    details = (err.get("error_data") or {}).get("details")
                    code = err.get("code")
                    hint = PERMANENT_HINTS.get(int(code)) if str(code).isdigit() else None
                    parts.append(
                        f"{hint or err.get('title') or 'failed'} (code {code})"
                        + (f": {details}" if details else "")
                    )
                error = "WhatsApp: " + ("; ".join(parts) or "the message could not be delivered")
            items.append(
                DeliveryUpdate(
                    channel_id=channel.id,
                    provider_message_id=str(status["id"]),
                    status=mapped,
                    timestamp=_ts(status.get("timestamp")),
                    error=error,
                )
            )
    return items


def natural_key(item: Item) -> str:
    if isinstance(item, DeliveryUpdate):
        return f"status:{item.provider_message_id}:{item.status.value}"
    return str(item.provider_message_id)


register_parser(SOURCE, parse)


# --- the 24-hour customer-service window ---------------------------------------------------------------------


async def window_open_until(
    session: AsyncSession, *, shop_id: int, conversation_id: int, channel_id: int | None = None
) -> datetime | None:
    """Until when free text may be sent: 24 h after the customer's last message on the channel."""
    conversation = await ConversationRepository(session, shop_id).get_or_404(conversation_id)
    last = await last_inbound_at(
        session,
        shop_id=shop_id,
        customer_id=conversation.customer_id,
        channel_id=channel_id if channel_id is not None else conversation.channel_id,
    )
    return last + WINDOW if last is not None else None


WindowLookup = Callable[[OutboundMessage], Awaitable[datetime | None]]


# --- sending -------------------------------------------------------------------------------------------------


class WhatsAppSender:
    """Sends replies through the Cloud API. Free text only inside the 24-hour window; templates any time.

    ``window`` looks up when the window closes (set by :func:`storedesk.channels.meta.configure`); without
    it the check is left to Meta, which reports error 131047 in a ``failed`` status callback.
    """

    def __init__(
        self, *, window: WindowLookup | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.window = window
        self.transport = transport

    async def send(self, message: OutboundMessage) -> SendResult:
        recipients = message.recipients.get(IdentityKind.whatsapp.value) or message.recipients.get(
            IdentityKind.phone.value
        )
        if not recipients:
            raise PermanentSendError("the customer has no WhatsApp number")
        to = recipients[0].lstrip("+")
        phone_number_id = message.channel_external_id
        if not phone_number_id:
            raise PermanentSendError("the WhatsApp channel has no phone number id (external_id)")
        template = message.thread.get("whatsapp_template")
        if not isinstance(template, dict) and self.window is not None:
            until = await self.window(message)
            if until is None or until <= utcnow():
                since = (until - WINDOW).strftime("%Y-%m-%d %H:%M UTC") if until else "never"
                raise PermanentSendError(
                    "outside WhatsApp's 24-hour customer-service window (the customer last wrote: "
                    f"{since}); free text cannot be sent — send an approved template instead"
                )
        url = graph_url(message.settings, f"{phone_number_id}/messages")
        token = str(message.credentials.get("access_token") or "")
        first_id: str | None = None
        for payload in _payloads(to, message, template if isinstance(template, dict) else None):
            body = await post_graph(
                url,
                payload,
                access_token=token,
                provider="WhatsApp",
                permanent_hint=PERMANENT_HINTS,
                transport=self.transport,
            )
            ids = [m.get("id") for m in body.get("messages") or [] if isinstance(m, dict)]
            if first_id is None and ids:
                first_id = str(ids[0])
        return SendResult(provider_message_id=first_id)


def _payloads(to: str, message: OutboundMessage, template: dict[str, Any] | None) -> list[dict[str, Any]]:
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    if template is not None:
        tpl: dict[str, Any] = {
            "name": str(template.get("name")),
            "language": {"code": str(template.get("language") or "en")},
        }
        if template.get("components"):
            tpl["components"] = template["components"]
        return [{**base, "type": "template", "template": tpl}]
    out: list[dict[str, Any]] = []
    interactive = _interactive(message)
    if interactive is not None:
        out.append({**base, "type": "interactive", "interactive": interactive})
    elif message.text.strip():
        out.append({**base, "type": "text", "text": {"preview_url": False, "body": message.text[:4096]}})
    for att in message.attachments:
        link = att.get("url")
        if not link:
            continue
        kind = "image" if str(att.get("content_type", "")).startswith("image/") else "document"
        media: dict[str, Any] = {"link": link}
        if kind == "document" and att.get("filename"):
            media["filename"] = att["filename"]
        out.append({**base, "type": kind, kind: media})
    if not out:
        raise PermanentSendError("nothing to send: the reply has no text and no attachment with a link")
    return out


# Cloud API limits for interactive messages: body 1,024 characters; up to 3 reply buttons (title ≤ 20,
# id ≤ 256); a list of up to 10 rows (title ≤ 24, description ≤ 72, id ≤ 200) behind a button (≤ 20)
MAX_REPLY_BUTTONS, MAX_LIST_ROWS = 3, 10


def _interactive(message: OutboundMessage) -> dict[str, Any] | None:
    """Quick-reply buttons as an interactive message: reply buttons for up to 3, a list for up to 10.
    More (an NPS scale has 11) cannot be sent as one: then the text goes, with its link."""
    buttons = [b for b in message.buttons if b.get("id") and b.get("title")]
    if not buttons or len(buttons) > MAX_LIST_ROWS or not message.text.strip():
        return None
    body = {"text": message.text[:1024]}
    if len(buttons) <= MAX_REPLY_BUTTONS:
        return {
            "type": "button",
            "body": body,
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": str(b["id"])[:256], "title": str(b["title"])[:20]}}
                    for b in buttons
                ]
            },
        }
    rows = []
    for b in buttons:
        row = {"id": str(b["id"])[:200], "title": str(b["title"])[:24]}
        if b.get("description"):
            row["description"] = str(b["description"])[:72]
        rows.append(row)
    label = str(message.buttons_label or "Choose")[:20]
    return {
        "type": "list",
        "body": body,
        "action": {"button": label, "sections": [{"title": label[:24], "rows": rows}]},
    }


register_sender("whatsapp", WhatsAppSender())
