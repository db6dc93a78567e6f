"""The agent workspace (/app) and public pages: server-rendered HTML. Mounted by storedesk.api.app."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
