from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from storedesk.channels.models import ChannelKind
from storedesk.kit.schemas import In, Out


class ChannelOut(Out):
    id: int
    kind: ChannelKind
    name: str
    external_id: str | None
    settings: dict[str, Any]
    is_active: bool
    has_credentials: bool
    created_at: datetime


class ChannelCreate(In):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=320)
    credentials: dict[str, str] | None = Field(default=None, description="write-only; stored encrypted")
    settings: dict[str, Any] = Field(default_factory=dict)


class ChannelUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=320)
    credentials: dict[str, str] | None = None
    settings: dict[str, Any] | None = None
    is_active: bool | None = None
