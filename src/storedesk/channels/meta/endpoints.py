"""Meta webhooks (WhatsApp, Messenger, Instagram): GET handshake and signed POST deliveries.

Thin: find the channel(s) the delivery is addressed to, verify ``X-Hub-Signature-256`` over the raw
bytes with each channel's own app secret, store the raw body (deduplicated) and answer. The work happens
in the ``channels.ingest`` job.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select

from storedesk.api.deps import Session
from storedesk.channels import ingest
from storedesk.channels.ingest import MalformedPayload
from storedesk.channels.meta import messenger, whatsapp
from storedesk.channels.meta.graph import signature_ok
from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.webhooks.kit import channel_routes
from storedesk.kit.crypto import constant_time_equals

router = APIRouter(tags=["webhooks"])

META_KINDS = (ChannelKind.whatsapp, ChannelKind.messenger, ChannelKind.instagram)
PATHS = ("/webhooks/meta", "/webhooks/whatsapp", "/webhooks/messenger", "/webhooks/instagram")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": None}}, status_code=status)


async def verify_subscription(
    session: Session,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=500)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=500)] = None,
) -> Response:
    """Meta's subscription handshake: echo ``hub.challenge`` when ``hub.verify_token`` is one of ours."""
    if mode != "subscribe" or not token or challenge is None:
        return _error(400, "bad_handshake", "expected hub.mode=subscribe, hub.verify_token and hub.challenge")
    rows = (
        await session.execute(
            select(Channel.settings).where(
                Channel.kind.in_([k.value for k in META_KINDS]), Channel.is_active.is_(True)
            )
        )
    ).scalars()
    matched = False
    for settings in rows:
        expected = str((settings or {}).get("verify_token") or "")
        # compare against every channel so timing does not reveal which one matched
        matched = (bool(expected) and constant_time_equals(expected, token)) or matched
    if not matched:
        return _error(403, "verify_token_mismatch", "hub.verify_token matches no channel")
    return PlainTextResponse(challenge)


def _route(payload: Any) -> tuple[str, list[tuple[ChannelKind, str]]]:
    if isinstance(payload, dict) and payload.get("object") == "whatsapp_business_account":
        return whatsapp.SOURCE, [(ChannelKind.whatsapp, pid) for pid in whatsapp.phone_number_ids(payload)]
    kind, ids = messenger.account_ids(payload)
    return kind.value, [(kind, i) for i in ids]


async def receive(request: Request) -> Any:
    """No request session: the channels come from the routing cache and the write is one statement
    (:func:`ingest.accept_durably`) committed before the answer."""
    body = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    if not signature:
        return _error(401, "unauthenticated", "missing X-Hub-Signature-256")
    try:
        source, targets = _route(orjson.loads(body))
    except (orjson.JSONDecodeError, MalformedPayload):
        return _error(400, "malformed_payload", "not a Meta webhook delivery")
    found = await channel_routes(request).by_address([k for k, _ in targets], [i for _, i in targets])
    channels = [found[(k.value, i)] for k, i in targets if (k.value, i) in found]
    if not channels:
        return _error(404, "not_found", "no active channel for this account")
    for channel in channels:
        if not signature_ok(body, signature, str(channel.secrets.get("app_secret") or "")):
            return _error(401, "unauthenticated", "signature does not verify")
    parser = whatsapp if source == whatsapp.SOURCE else messenger
    headers = {"x-hub-signature-256": signature, "content-type": request.headers.get("content-type", "")}
    for channel in channels:
        items = parser.parse(channel, body, headers)
        keys = sorted(parser.natural_key(item) for item in items)
        natural = (
            keys[0]
            if len(keys) == 1
            else "sha256:"
            + hashlib.sha256(
                ("\n".join(keys) if keys else body.decode("utf-8", "replace")).encode()
            ).hexdigest()
        )
        await ingest.accept_durably(
            request.app.state.db,
            source=source,
            dedupe_key=ingest.event_key(channel.id, natural),
            shop_id=channel.shop_id,
            channel_id=channel.id,
            headers=headers,
            body=body,
        )
    return PlainTextResponse("EVENT_RECEIVED")


for _path in PATHS:
    router.add_api_route(
        _path,
        verify_subscription,
        methods=["GET"],
        summary="Meta subscription handshake",
        responses={
            200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "hub.challenge"}
        },
    )
    router.add_api_route(_path, receive, methods=["POST"], summary="Meta webhook delivery (signed)")
