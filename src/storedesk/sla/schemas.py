from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from storedesk.channels.models import ChannelKind
from storedesk.conversations.models import ConversationStatus, Priority
from storedesk.kit.schemas import In, Out

Minutes = int


class SlaPolicyCreate(In):
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=0, le=10_000)
    is_active: bool = True
    match_priority: Priority | None = None
    match_channel_kind: ChannelKind | None = None
    match_tag: str | None = Field(default=None, min_length=1, max_length=64)
    first_response_minutes: int | None = Field(default=None, ge=1, le=525_600)
    next_response_minutes: int | None = Field(default=None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(default=None, ge=1, le=525_600)
    business_hours: bool = True


class SlaPolicyUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=0, le=10_000)
    is_active: bool | None = None
    match_priority: Priority | None = None
    match_channel_kind: ChannelKind | None = None
    match_tag: str | None = Field(default=None, min_length=1, max_length=64)
    first_response_minutes: int | None = Field(default=None, ge=1, le=525_600)
    next_response_minutes: int | None = Field(default=None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(default=None, ge=1, le=525_600)
    business_hours: bool | None = None


class SlaPolicyOut(Out):
    id: int
    name: str
    position: int
    is_active: bool
    match_priority: Priority | None
    match_channel_kind: ChannelKind | None
    match_tag: str | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    created_at: datetime
    updated_at: datetime


class ConversationSlaOut(Out):
    conversation_id: int
    number: int
    subject: str | None
    status: ConversationStatus
    priority: Priority
    assignee_id: int | None
    team_id: int | None
    channel_id: int
    policy_id: int | None
    sla_state: Literal["none", "ok", "due_soon", "breached", "paused", "met"]
    next_due_at: datetime | None
    breached_targets: list[str]
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_outcome: str | None
    next_response_outcome: str | None
    resolution_outcome: str | None
    paused_since: datetime | None
