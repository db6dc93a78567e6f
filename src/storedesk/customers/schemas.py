from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from storedesk.customers.models import IdentityKind
from storedesk.kit.schemas import Email, In, Out


class IdentityOut(Out):
    id: int
    kind: IdentityKind
    value: str


class CustomerOut(Out):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    language: str | None
    country: str | None
    preferred_channel: str | None
    consents: dict[str, Any]
    segments: list[str]
    address: dict[str, Any] | None
    note: str | None
    created_at: datetime
    identities: list[IdentityOut] = Field(default_factory=list)


class CustomerCreate(In):
    name: str | None = Field(default=None, max_length=200)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")


class CustomerUpdate(In):
    name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    preferred_channel: str | None = Field(default=None, max_length=16)
    consents: dict[str, bool] | None = None
    segments: list[str] | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=5000)


class IdentityCreate(In):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)


class MergeIn(In):
    merge_customer_id: int = Field(
        description="this customer is merged into the one in the path", ge=1, le=2**63 - 1
    )


class RedactIn(In):
    confirm: bool = Field(default=False, description="must be true: erasure cannot be undone")
    reason: str = Field(
        min_length=3, max_length=500, description="why, e.g. 'GDPR request by email of 3 May'"
    )


class RedactionOut(Out):
    customer_id: int
    messages: int = Field(description="messages by the customer whose text and files were erased")
    attachments: int
    orders: int = Field(description="orders whose contact data and addresses were erased")
    inbound_events: int = Field(description="raw provider payloads deleted")
