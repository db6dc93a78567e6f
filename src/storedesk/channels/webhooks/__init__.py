"""Inbound channel endpoints (provider webhooks, chat widget, contact form) and the ``/api/v1`` routes of
the channels work. Mounted by storedesk.api.app as one router; importing it also registers every
channel's parser (for the ``channels.ingest`` job) and sender (for ``delivery.send``)."""

from __future__ import annotations

from fastapi import APIRouter

from storedesk.channels import email_glue, webform
from storedesk.channels.meta import endpoints as meta_endpoints
from storedesk.channels.twilio import endpoints as twilio_endpoints
from storedesk.channels.webhooks import api
from storedesk.channels.widget import endpoints as widget_endpoints

router = APIRouter()
router.include_router(meta_endpoints.router)
router.include_router(twilio_endpoints.router)
router.include_router(widget_endpoints.router)
router.include_router(webform.router)
router.include_router(api.router)

__all__ = ["email_glue", "router"]
