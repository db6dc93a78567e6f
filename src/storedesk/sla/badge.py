"""What the inbox shows of a conversation's SLA: "breached" or "due soon", from the due times the SLA
clock writes on the conversation row (no extra query per row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storedesk.conversations.models import Conversation, ConversationStatus

DUE_SOON = timedelta(hours=1)  # the inbox's "SLA due soon" view uses the same window


@dataclass(frozen=True)
class SlaBadge:
    state: str  # "breached" or "due_soon"
    due_at: datetime


def earliest_due(conversation: Conversation) -> datetime | None:
    """The earliest running due time: an unanswered first response, a next response, the resolution."""
    if conversation.status in (ConversationStatus.resolved, ConversationStatus.closed):
        return None
    due = [
        conversation.first_response_due_at if conversation.first_response_at is None else None,
        conversation.next_response_due_at,
        conversation.resolution_due_at,
    ]
    return min((d for d in due if d is not None), default=None)


def badge(conversation: Conversation, now: datetime, window: timedelta = DUE_SOON) -> SlaBadge | None:
    due = earliest_due(conversation)
    if due is None or due > now + window:
        return None
    return SlaBadge("breached" if due <= now else "due_soon", due)
