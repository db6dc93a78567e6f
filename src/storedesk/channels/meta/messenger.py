"""Messenger (``object: page``) and Instagram DMs (``object: instagram``): webhook payloads and replies.

Both use ``entry[].messaging[]`` events: ``sender.id`` is the customer's page-scoped id (PSID / IGSID),
``entry[].id`` is our page or Instagram account id (the channel's ``external_id``). ``message.is_echo``
marks messages we sent ourselves and is never ingested. Replies go to Graph ``/me/messages``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

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
from storedesk.channels.models import ChannelKind
from storedesk.channels.outbound import OutboundMessage, PermanentSendError, SendResult, register_sender
from storedesk.conversations.models import DeliveryStatus
from storedesk.customers.models import IdentityKind

OBJECTS = {"page": ChannelKind.messenger, "instagram": ChannelKind.instagram}
IDENTITY = {ChannelKind.messenger: IdentityKind.messenger, ChannelKind.instagram: IdentityKind.instagram}

PERMANENT_HINTS = {
    2018278: "outside the 24-hour messaging window: the customer has to write first",
    2018108: "the customer cannot receive messages from this page",
    551: "this person is not available right now",
    10: "the page is not allowed to message this person now (messaging window or permissions)",
    190: "the page access token has expired or is invalid",
}


def _ts_ms(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def account_ids(payload: Any) -> tuple[ChannelKind, list[str]]:
    """``(channel kind, page/IG account ids)`` a delivery is addressed to (routing, before verification)."""
    if not isinstance(payload, dict) or payload.get("object") not in OBJECTS:
        raise MalformedPayload("not a page or instagram delivery")
    ids: list[str] = []
    for entry in payload.get("entry") or []:
        eid = str(entry.get("id") or "")
        if eid and eid not in ids:
            ids.append(eid)
    return OBJECTS[payload["object"]], ids


FETCHED_KINDS = ("image", "video", "audio", "file")


def _attachments(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for att in message.get("attachments") or []:
        if not isinstance(att, dict):
            continue
        payload = att.get("payload") or {}
        item: dict[str, Any] = {"kind": att.get("type")}
        if isinstance(payload, dict) and payload.get("url"):
            item["url"] = payload["url"]
            if att.get("type") in FETCHED_KINDS:
                item["media"] = PENDING  # the bytes are fetched by the channels.fetch_media job
        out.append(item)
    return out


def parse(channel: ChannelRef, body: bytes, headers: Mapping[str, str]) -> Sequence[Item]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedPayload("body is not JSON") from exc
    kind, _ = account_ids(payload)
    if kind.value != channel.kind:
        return []
    identity = IDENTITY[kind]
    items: list[Item] = []
    for entry in payload.get("entry") or []:
        if str(entry.get("id") or "") != channel.external_id:
            continue
        for event in entry.get("messaging") or []:
            sender = str((event.get("sender") or {}).get("id") or "")
            when = _ts_ms(event.get("timestamp"))
            if "message" in event:
                message = event["message"] or {}
                if message.get("is_echo") or sender == channel.external_id or not sender:
                    continue  # our own outbound message echoed back
                meta: dict[str, Any] = {}
                if isinstance(message.get("quick_reply"), dict):
                    meta["quick_reply_payload"] = message["quick_reply"].get("payload")
                if isinstance(message.get("reply_to"), dict) and message["reply_to"].get("mid"):
                    meta["reply_to_provider_id"] = message["reply_to"]["mid"]
                text = str(message.get("text") or "")
                attachments = _attachments(message)
                if not text.strip() and not attachments:
                    continue
                items.append(
                    InboundMessage(
                        channel_id=channel.id,
                        sender=SenderIdentity(identity, sender),
                        text=text,
                        attachments=tuple(attachments),
                        provider_message_id=str(message.get("mid")) if message.get("mid") else None,
                        timestamp=when,
                        meta=meta,
                    )
                )
            elif "postback" in event:
                postback = event["postback"] or {}
                mid = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
                items.append(
                    InboundMessage(
                        channel_id=channel.id,
                        sender=SenderIdentity(identity, sender),
                        text=str(postback.get("title") or postback.get("payload") or ""),
                        provider_message_id=str(mid),
                        timestamp=when,
                        meta={"postback_payload": postback.get("payload")},
                    )
                )
            elif "delivery" in event:
                for mid in (event["delivery"] or {}).get("mids") or []:
                    items.append(DeliveryUpdate(channel.id, str(mid), DeliveryStatus.delivered, when))
            elif "read" in event:
                mid = (event["read"] or {}).get("mid")
                if mid:  # Instagram names the message; Messenger's watermark-only reads are not tracked
                    items.append(DeliveryUpdate(channel.id, str(mid), DeliveryStatus.read, when))
    return items


def natural_key(item: Item) -> str:
    if isinstance(item, DeliveryUpdate):
        return f"status:{item.provider_message_id}:{item.status.value}"
    return str(item.provider_message_id)


register_parser("messenger", parse)
register_parser("instagram", parse)


class MetaDirectSender:
    """Replies through Graph ``/me/messages`` with the page (or Instagram) access token."""

    def __init__(self, kind: ChannelKind, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.kind = kind
        self.transport = transport

    async def send(self, message: OutboundMessage) -> SendResult:
        identity = IDENTITY[self.kind].value
        recipients = message.recipients.get(identity)
        if not recipients:
            raise PermanentSendError(f"the customer has no {self.kind.value} id")
        url = graph_url(message.settings, "me/messages")
        token = str(
            message.credentials.get("access_token") or message.credentials.get("page_access_token") or ""
        )
        payloads: list[dict[str, Any]] = []
        if message.text.strip():
            payloads.append({"text": message.text[:2000]})
        for att in message.attachments:
            if att.get("url"):
                kind = "image" if str(att.get("content_type", "")).startswith("image/") else "file"
                payloads.append(
                    {"attachment": {"type": kind, "payload": {"url": att["url"], "is_reusable": False}}}
                )
        if not payloads:
            raise PermanentSendError("nothing to send: the reply has no text and no attachment with a link")
        first: str | None = None
        for content in payloads:
            body = await post_graph(
                url,
                {"recipient": {"id": recipients[0]}, "messaging_type": "RESPONSE", "message": content},
                access_token=token,
                provider="Instagram" if self.kind == ChannelKind.instagram else "Messenger",
                permanent_hint=PERMANENT_HINTS,
                transport=self.transport,
            )
            if first is None and body.get("message_id"):
                first = str(body["message_id"])
        return SendResult(provider_message_id=first)


register_sender("messenger", MetaDirectSender(ChannelKind.messenger))
register_sender("instagram", MetaDirectSender(ChannelKind.instagram))
