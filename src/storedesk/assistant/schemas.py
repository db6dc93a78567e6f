"""API shapes of the assistant's agent-side endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from storedesk.kit.schemas import In, Out


class TurnOut(Out):
    id: int
    conversation_id: int
    message_id: int | None
    status: str
    outcome: str | None
    language: str | None
    intent: str | None
    confidence: float | None
    decision: str | None
    entities: dict[str, Any]
    facts: dict[str, Any]
    policy_check: dict[str, Any]
    action: str | None
    action_result: dict[str, Any]
    pending: dict[str, Any] | None
    reply_message_id: int | None
    suggested_text: str | None
    template: str | None
    corrected_intent: str | None
    corrected_by: int | None
    corrected_at: datetime | None
    created_at: datetime


class CorrectionIn(In):
    intent: str = Field(min_length=2, max_length=48)


class MacroSuggestionOut(Out):
    macro_id: int
    name: str
    language: str = Field(description="the language its text is inserted in")
    score: float
    reasons: list[str] = Field(description="intent, language, words: why it is suggested")


class SuggestionOut(Out):
    conversation_id: int
    turn_id: int | None
    text: str | None
    language: str | None
    intent: str | None
    confidence: float | None
    source: str = Field(description="turn: stored with the assistant's turn; engine: computed now; none")
    macros: list[MacroSuggestionOut] = Field(
        default_factory=list, description="the shop's macros ranked for the last customer message (top 3)"
    )


class ToneIn(In):
    text: str = Field(max_length=20_000)
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")


class ToneFlagOut(Out):
    code: str
    message: str
    detail: str | None


class ToneOut(Out):
    ok: bool
    flags: list[ToneFlagOut]
