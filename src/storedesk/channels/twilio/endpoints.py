"""Twilio webhooks, one URL set per channel: ``/webhooks/twilio/{channel_id}/{sms,status,voice,...}``.

The signature covers the URL Twilio called, which behind a proxy is not the URL we see: it is rebuilt
from ``STOREDESK_BASE_URL`` (or the channel's ``webhook_base_url`` setting) plus path and query.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from storedesk.channels import ingest
from storedesk.channels.ingest import MalformedPayload
from storedesk.channels.models import ChannelKind
from storedesk.channels.twilio import adapter
from storedesk.channels.twilio.signature import signature_ok
from storedesk.channels.webhooks.kit import RoutedChannel, channel_routes

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

ENDPOINT_KIND = {
    "sms": ChannelKind.sms,
    "status": ChannelKind.sms,
    "voice": ChannelKind.voice,
    "voice_status": ChannelKind.voice,
    "recording": ChannelKind.voice,
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": None}}, status_code=status)


def public_url(request: Request, channel: RoutedChannel) -> str:
    base = str(channel.settings.get("webhook_base_url") or request.app.state.settings.base_url).rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def _handle(
    request: Request, channel_id: int, endpoint: str
) -> tuple[RoutedChannel | None, Response | None]:
    """Verify and store one callback (no request session: the routing cache and one durable write)."""
    body = await request.body()
    header = request.headers.get("x-twilio-signature")
    if not header:
        return None, _error(401, "unauthenticated", "missing X-Twilio-Signature")
    channel = await channel_routes(request).by_id(channel_id)
    if channel is None or channel.kind != ENDPOINT_KIND[endpoint].value:
        return None, _error(404, "not_found", "no such Twilio channel")
    try:
        params = adapter.form_params(body)
    except MalformedPayload:
        return None, _error(400, "malformed_payload", "form body is not UTF-8")
    token = str(channel.secrets.get("auth_token") or "")
    if not signature_ok(public_url(request, channel), params, header, token):
        return None, _error(401, "unauthenticated", "signature does not verify")
    headers = {
        "x-twilio-signature": header,
        "x-storedesk-endpoint": endpoint,
        "x-storedesk-query": request.url.query,
    }
    await ingest.accept_durably(
        request.app.state.db,
        source=adapter.SOURCE,
        dedupe_key=ingest.event_key(channel.id, adapter.natural_key(endpoint, dict(params))),
        shop_id=channel.shop_id,
        channel_id=channel.id,
        headers=headers,
        body=body,
    )
    return channel, None


def _twiml(xml: str) -> Response:
    return Response(xml, media_type="text/xml")


@router.post("/{channel_id}/sms", summary="Inbound SMS (signed); answers empty TwiML")
async def inbound_sms(channel_id: int, request: Request) -> Response:
    _, error = await _handle(request, channel_id, "sms")
    return error or _twiml(adapter.empty_twiml())


@router.post("/{channel_id}/status", summary="Message status callback (signed)")
async def message_status(channel_id: int, request: Request) -> Response:
    _, error = await _handle(request, channel_id, "status")
    return error or Response(status_code=204)


@router.post("/{channel_id}/voice", summary="Incoming call (signed); answers TwiML: forward or voicemail")
async def incoming_call(channel_id: int, request: Request) -> Response:
    channel, error = await _handle(request, channel_id, "voice")
    if error is not None:
        return error
    assert channel is not None
    form = dict(adapter.form_params(await request.body()))
    base = str(channel.settings.get("webhook_base_url") or request.app.state.settings.base_url).rstrip("/")
    callback = (
        f"{base}/webhooks/twilio/{channel.id}/voice/recording?from={quote(form.get('From', ''), safe='')}"
    )
    return _twiml(adapter.voice_twiml(channel.settings, callback))


@router.post("/{channel_id}/voice/status", summary="Call status callback (signed)")
async def call_status(channel_id: int, request: Request) -> Response:
    _, error = await _handle(request, channel_id, "voice_status")
    return error or Response(status_code=204)


@router.post("/{channel_id}/voice/recording", summary="Voicemail recording callback (signed)")
async def recording(channel_id: int, request: Request) -> Response:
    _, error = await _handle(request, channel_id, "recording")
    return error or Response(status_code=204)
