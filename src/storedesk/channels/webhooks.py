"""Inbound channel endpoints (provider webhooks, chat widget, contact form). Mounted by storedesk.api.app."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
