from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from storedesk.kit.schemas import MAX_ID, In, Out
from storedesk.surveys.models import SurveyKind, SurveyStatus, SurveyTrigger

Id = int


class SurveySettingsOut(Out):
    after_resolve: list[SurveyKind]
    delay_minutes: int
    min_days_between: int
    expires_after_days: int
    nps_after_delivery_days: int | None
    nps_every_days: int | None
    nps_min_days_between: int
    follow_up_kinds: list[SurveyKind]
    follow_up_assignee_id: int | None


class SurveySettingsIn(In):
    after_resolve: list[SurveyKind] | None = Field(default=None, max_length=2)
    delay_minutes: int | None = Field(default=None, ge=0, le=7 * 24 * 60)
    min_days_between: int | None = Field(default=None, ge=0, le=365)
    expires_after_days: int | None = Field(default=None, ge=1, le=365)
    nps_after_delivery_days: int | None = Field(default=None, ge=0, le=365)
    nps_every_days: int | None = Field(default=None, ge=7, le=3650)
    nps_min_days_between: int | None = Field(default=None, ge=0, le=3650)
    follow_up_kinds: list[SurveyKind] | None = Field(default=None, max_length=3)
    follow_up_assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class SurveyCreate(In):
    customer_id: int = Field(ge=1, le=MAX_ID)
    kinds: list[SurveyKind] = Field(min_length=1, max_length=3)
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    order_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    channel_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    ignore_frequency: bool = False


class SurveyResponseOut(Out):
    id: int
    survey_id: int
    kind: SurveyKind
    score: int
    comment: str | None
    customer_id: int
    conversation_id: int | None
    order_id: int | None
    agent_id: int | None
    team_id: int | None
    channel_id: int | None
    language: str
    answered_at: datetime
    follow_up_conversation_id: int | None


class SurveyOut(Out):
    id: int
    customer_id: int
    conversation_id: int | None
    order_id: int | None
    agent_id: int | None
    team_id: int | None
    channel_id: int | None
    message_id: int | None
    kinds: list[SurveyKind]
    trigger: SurveyTrigger
    language: str
    status: SurveyStatus
    skip_reason: str | None
    scheduled_for: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    expires_at: datetime
    created_at: datetime
    responses: list[SurveyResponseOut] = Field(default_factory=list)


class ReviewOut(Out):
    id: int
    source: str
    external_id: str
    rating: int
    title: str | None
    body: str
    author_name: str | None
    author_email: str | None
    language: str | None
    published_at: datetime
    product_id: int | None
    product_title: str | None
    customer_id: int | None
    order_id: int | None
    follow_up_conversation_id: int | None
    reply_text: str | None
    replied_at: datetime | None
    replied_by_agent_id: int | None


class ReviewReplyIn(In):
    text: str = Field(min_length=1, max_length=5000)
    message_customer: bool = True


class ReviewImportOut(Out):
    created: int
    updated: int
    follow_ups: int
    errors: list[dict[str, Any]]
    review_ids: list[int]
