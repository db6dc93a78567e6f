"""Twilio wire format → our items (SMS, message status, call events, voicemail) and outbound SMS.

Stored events keep the form body as Twilio sent it, plus two headers of ours: ``x-storedesk-endpoint``
(which callback it was) and ``x-storedesk-query`` (the query string Twilio signed, e.g. the caller we
put into a recording callback URL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape, quoteattr

import httpx

from storedesk.channels.ingest import (
    ChannelRef,
    DeliveryUpdate,
    InboundMessage,
    Item,
    MalformedPayload,
    SenderIdentity,
    register_parser,
)
from storedesk.channels.outbound import (
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TemporarySendError,
    register_sender,
)
from storedesk.conversations.models import DeliveryStatus
from storedesk.customers.models import IdentityKind

SOURCE = "twilio"
DEFAULT_API_BASE = "https://api.twilio.com"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)

MESSAGE_STATUS = {
    "sent": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "read": DeliveryStatus.read,
    "undelivered": DeliveryStatus.failed,
    "failed": DeliveryStatus.failed,
}
FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}
# Twilio error codes that mean "not now": too many requests, queue overflow
TEMPORARY_CODES = {20429, 21611, 30001}
PERMANENT_HINTS = {
    21211: "the customer's phone number is not valid",
    21610: "the customer has unsubscribed from SMS (replied STOP)",
    21614: "the customer's number cannot receive SMS",
    21408: "SMS to this country is not enabled on the Twilio account",
    20003: "Twilio rejected the account credentials",
}
ERROR_TEXT = {
    "30003": "unreachable handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered as spam by the carrier",
    "30008": "unknown error",
}


def form_params(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise MalformedPayload("form body is not UTF-8") from exc


def _duration(value: str | None) -> str:
    if not value or not value.isdigit():
        return ""
    seconds = int(value)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def parse(channel: ChannelRef, body: bytes, headers: Mapping[str, str]) -> Sequence[Item]:
    form = dict(form_params(body))
    query = dict(parse_qsl(headers.get("x-storedesk-query", ""), keep_blank_values=True))
    endpoint = headers.get("x-storedesk-endpoint", "")
    if endpoint == "sms":
        sender = form.get("From") or ""
        attachments = []
        count = int(form["NumMedia"]) if form.get("NumMedia", "").isdigit() else 0
        for index in range(min(count, 10)):
            url = form.get(f"MediaUrl{index}")
            if url:
                attachments.append(
                    {"kind": "media", "url": url, "content_type": form.get(f"MediaContentType{index}", "")}
                )
        if not sender or not form.get("MessageSid"):
            raise MalformedPayload("an SMS needs From and MessageSid")
        return [
            InboundMessage(
                channel_id=channel.id,
                sender=SenderIdentity(IdentityKind.phone, sender),
                text=form.get("Body", ""),
                attachments=tuple(attachments),
                provider_message_id=form["MessageSid"],
                meta={"from_country": form.get("FromCountry")} if form.get("FromCountry") else {},
            )
        ]
    if endpoint == "status":
        status = MESSAGE_STATUS.get(form.get("MessageStatus", ""))
        sid = form.get("MessageSid") or form.get("SmsSid")
        if status is None or not sid:
            return []
        error = None
        if status == DeliveryStatus.failed:
            code = form.get("ErrorCode", "")
            error = f"Twilio: {form.get('MessageStatus')}" + (
                f" (error {code}: {ERROR_TEXT.get(code, 'see the Twilio error dictionary')})" if code else ""
            )
        return [DeliveryUpdate(channel.id, sid, status, None, error)]
    if endpoint in ("voice", "voice_status"):
        caller = form.get("From") or form.get("Caller") or ""
        call_sid = form.get("CallSid", "")
        call_status = form.get("CallStatus", "")
        if not caller or not call_sid:
            raise MalformedPayload("a call event needs From and CallSid")
        if endpoint == "voice":
            text = f"📞 Incoming call from {caller}"
        elif call_status in FINAL_CALL_STATUSES:
            duration = _duration(form.get("CallDuration"))
            text = f"📞 Call from {caller} ended: {call_status}" + (f", {duration}" if duration else "")
        else:
            return []
        return [
            InboundMessage(
                channel_id=channel.id,
                sender=SenderIdentity(IdentityKind.phone, caller),
                text=text,
                kind="system",
                provider_message_id=f"{call_sid}:{call_status or 'ringing'}",
                meta={"call": {"sid": call_sid, "status": call_status, "duration": form.get("CallDuration")}},
            )
        ]
    if endpoint == "recording":
        caller = query.get("from") or form.get("From") or ""
        url = form.get("RecordingUrl")
        if not caller or not url or not form.get("RecordingSid"):
            raise MalformedPayload("a recording needs RecordingSid, RecordingUrl and the caller")
        if form.get("RecordingStatus", "completed") != "completed":
            return []
        duration = _duration(form.get("RecordingDuration"))
        return [
            InboundMessage(
                channel_id=channel.id,
                sender=SenderIdentity(IdentityKind.phone, caller),
                text="🎙 Voicemail" + (f" ({duration})" if duration else "") + f": {url}.mp3",
                attachments=({"kind": "audio", "url": f"{url}.mp3", "content_type": "audio/mpeg"},),
                provider_message_id=form["RecordingSid"],
                meta={"call": {"sid": form.get("CallSid"), "recording_sid": form["RecordingSid"]}},
            )
        ]
    raise MalformedPayload(f"unknown Twilio endpoint {endpoint!r}")


def natural_key(endpoint: str, form: Mapping[str, str]) -> str:
    if endpoint == "sms":
        return f"sms:{form.get('MessageSid', '')}"
    if endpoint == "status":
        return f"status:{form.get('MessageSid') or form.get('SmsSid', '')}:{form.get('MessageStatus', '')}"
    if endpoint == "recording":
        return f"recording:{form.get('RecordingSid', '')}:{form.get('RecordingStatus', '')}"
    return f"call:{form.get('CallSid', '')}:{endpoint}:{form.get('CallStatus', '')}"


register_parser(SOURCE, parse)


def empty_twiml() -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def voice_twiml(settings: Mapping[str, Any], recording_callback: str) -> str:
    """Answer an incoming call: forward it to a phone (``forward_to``) or take a voicemail."""
    greeting = str(
        settings.get("voice_greeting")
        or "Thank you for calling. Please leave a message after the tone and we will get back to you."
    )
    language = str(settings.get("voice_language") or "en-US")
    parts = [f"<Say language={quoteattr(language)}>{escape(greeting)}</Say>"]
    if settings.get("forward_to"):
        parts = [f'<Dial timeout="20">{escape(str(settings["forward_to"]))}</Dial>']
    else:
        parts.append(
            f'<Record maxLength="{int(settings.get("voicemail_max_seconds", 120))}" playBeep="true" '
            f'recordingStatusCallback={quoteattr(recording_callback)} recordingStatusCallbackEvent="completed"/>'
        )
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(parts) + "</Response>"


class TwilioSmsSender:
    """Outbound SMS through the Messages API (form POST, basic auth ``AccountSid:AuthToken``)."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport

    async def send(self, message: OutboundMessage) -> SendResult:
        phones = message.recipients.get(IdentityKind.phone.value)
        if not phones:
            raise PermanentSendError("the customer has no phone number")
        sid = str(message.credentials.get("account_sid") or "")
        token = str(message.credentials.get("auth_token") or "")
        if not sid or not token:
            raise PermanentSendError("the Twilio channel needs account_sid and auth_token credentials")
        if not message.text.strip():
            raise PermanentSendError("an SMS needs text")
        form: dict[str, str] = {"To": phones[0], "Body": message.text[:1600]}
        if message.settings.get("messaging_service_sid"):
            form["MessagingServiceSid"] = str(message.settings["messaging_service_sid"])
        else:
            sender = message.settings.get("from_number") or message.channel_external_id
            if not sender:
                raise PermanentSendError(
                    "the Twilio channel has no sending number (external_id or from_number)"
                )
            form["From"] = str(sender)
        public = str(message.settings.get("public_base_url") or "").rstrip("/")
        if public:
            form["StatusCallback"] = f"{public}/webhooks/twilio/{message.channel_id}/status"
        base = str(message.settings.get("api_base_url") or DEFAULT_API_BASE).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, transport=self.transport) as client:
                response = await client.post(url, data=form, auth=(sid, token))
        except httpx.TimeoutException as exc:
            raise TemporarySendError("Twilio did not answer in time") from exc
        except httpx.TransportError as exc:
            raise TemporarySendError(f"Twilio could not be reached: {exc}") from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        if response.status_code < 300 and isinstance(body, dict) and body.get("sid"):
            status = str(body.get("status") or "")
            return SendResult(provider_message_id=str(body["sid"]), delivered=status == "delivered")
        code = body.get("code") if isinstance(body, dict) else None
        detail = (
            f"Twilio answered {response.status_code}: {body.get('message') if isinstance(body, dict) else ''}"
        )
        if code:
            detail += f" (error {code})"
        if response.status_code == 429 or response.status_code >= 500 or code in TEMPORARY_CODES:
            raise TemporarySendError(detail)
        if isinstance(code, int) and code in PERMANENT_HINTS:
            detail = f"{PERMANENT_HINTS[code]} — {detail}"
        raise PermanentSendError(detail)


register_sender("sms", TwilioSmsSender())
# a reply to a call (e.g. a voicemail) goes out as an SMS from the same number
register_sender("voice", TwilioSmsSender())
