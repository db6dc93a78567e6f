from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from storedesk.kit.schemas import In, Out

LANG = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"


class ShopOut(Out):
    id: int
    slug: str
    name: str
    languages: list[str]
    default_language: str
    currency: str
    timezone: str
    country: str | None
    support_email: str | None
    order_number_pattern: str
    business_hours: dict[str, Any]
    policies: dict[str, Any]
    created_at: datetime


class ShopUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    languages: list[str] | None = Field(default=None, min_length=1, max_length=30)
    default_language: str | None = Field(default=None, pattern=LANG)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    support_email: str | None = Field(default=None, max_length=320)
    policies: dict[str, Any] | None = None
