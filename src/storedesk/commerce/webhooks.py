"""Platform webhooks: ``POST /webhooks/{shopify,woocommerce,ecwid}/{store_id}``.

Thin: the raw body and headers go to :func:`storedesk.commerce.service.accept_webhook`, which verifies
the signature with that store's own secret, stores the delivery once and queues its application.
Answers: 200 once stored (also for a redelivery, WooCommerce's creation ping, and a malformed body —
stored as failed for inspection; retrying it would not help), 401 for a wrong or missing signature
(nothing stored), 404 for an unknown or disconnected store.
"""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from storedesk.api.deps import Box, Session
from storedesk.api.params import IdPath
from storedesk.commerce import service

router = APIRouter(tags=["webhooks"])


class Platform(StrEnum):
    shopify = "shopify"
    woocommerce = "woocommerce"
    ecwid = "ecwid"


STATUS = {
    service.WebhookReceipt.accepted: 200,
    service.WebhookReceipt.duplicate: 200,
    service.WebhookReceipt.ping: 200,
    service.WebhookReceipt.malformed: 200,
    service.WebhookReceipt.bad_signature: 401,
    service.WebhookReceipt.unknown_store: 404,
}

MESSAGES = {
    service.WebhookReceipt.bad_signature: ("unauthenticated", "the signature does not verify"),
    service.WebhookReceipt.unknown_store: ("not_found", "no connected store here"),
}


@router.post(
    "/webhooks/{platform}/{store_id}",
    summary="A store platform's webhook delivery (signed)",
    responses={401: {"description": "Signature missing or wrong"}, 404: {"description": "Unknown store"}},
)
async def receive(
    platform: Platform, store_id: IdPath, request: Request, session: Session, box: Box
) -> JSONResponse:
    receipt = await service.accept_webhook(
        session,
        platform=platform.value,
        store_id=store_id,
        body=await request.body(),
        headers=dict(request.headers),
        box=box,
    )
    status = STATUS[receipt]
    if status >= 400:
        code, message = MESSAGES[receipt]
        return JSONResponse(
            {"error": {"code": code, "message": message, "details": None}}, status_code=status
        )
    return JSONResponse({"status": receipt.value}, status_code=status)
