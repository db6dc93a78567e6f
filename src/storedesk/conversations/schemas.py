from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from storedesk.conversations.models import (
    AuthorType,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Priority,
)
from storedesk.kit.schemas import In, Out


class ConversationOut(Out):
    id: int
    number: int
    customer_id: int
    channel_id: int
    subject: str | None
    status: ConversationStatus
    priority: Priority
    assignee_id: int | None
    team_id: int | None
    language: str | None
    intent: str | None
    order_id: int | None
    tags: list[str] = Field(default_factory=list)
    snoozed_until: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    waiting_since: datetime | None
    last_message_at: datetime | None
    last_activity_at: datetime
    reopened_count: int
    message_count: int
    created_at: datetime


def conversation_out(conversation: Conversation, tags: list[str]) -> ConversationOut:
    out = ConversationOut.model_validate(conversation)
    out.tags = tags
    return out


class AttachmentIn(In):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(ge=0, le=25 * 1024 * 1024)
    url: str | None = Field(default=None, max_length=2000)


class MessageOut(Out):
    id: int
    conversation_id: int
    channel_id: int | None
    direction: Direction
    author_type: AuthorType
    author_agent_id: int | None
    text: str
    html: str | None
    attachments: list[dict[str, Any]]
    provider_message_id: str | None
    delivery_status: DeliveryStatus
    delivery_error: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None


class ConversationCreate(In):
    customer_id: int = Field(ge=1, le=2**63 - 1)
    channel_id: int = Field(ge=1, le=2**63 - 1)
    subject: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    priority: Priority = Priority.normal
    order_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    message: str | None = Field(
        default=None, max_length=100_000, description="first message, from the customer"
    )


class ConversationUpdate(In):
    subject: str | None = Field(default=None, max_length=500)
    priority: Priority | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    intent: str | None = Field(default=None, max_length=48)
    order_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class AssignIn(In):
    assignee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    team_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class StatusIn(In):
    status: ConversationStatus
    snoozed_until: AwareDatetime | None = None


class TagsIn(In):
    add: list[str] = Field(default_factory=list, max_length=50)
    remove: list[str] = Field(default_factory=list, max_length=50)


class TagsOut(Out):
    tags: list[str]


class MessageCreate(In):
    kind: Literal["reply", "note"] = "reply"
    text: str = Field(max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)
    channel_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="reply on another of the customer's channels"
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class EventOut(Out):
    id: int
    type: str
    occurred_at: datetime
    actor_type: str
    actor_id: int | None
    data: dict[str, Any]
