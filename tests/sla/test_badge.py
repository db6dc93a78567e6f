"""The inbox's SLA badge: the earliest running due time of a conversation, "breached" once it has passed,
"due soon" within the hour, nothing otherwise or once the conversation is resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storedesk.conversations.models import Conversation
from storedesk.sla.badge import SlaBadge, badge, earliest_due

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def conv(status: str = "open", **due: datetime | None) -> Conversation:
    return Conversation(
        status=status,
        first_response_at=due.pop("first_response_at", None),
        first_response_due_at=due.pop("first", None),
        next_response_due_at=due.pop("next", None),
        resolution_due_at=due.pop("resolution", None),
    )


def test_badge_states() -> None:
    assert badge(conv(), NOW) is None  # no clock
    assert badge(conv(first=NOW + timedelta(hours=2)), NOW) is None  # not yet due soon
    assert badge(conv(first=NOW + timedelta(minutes=59)), NOW) == SlaBadge(
        "due_soon", NOW + timedelta(minutes=59)
    )
    assert badge(conv(first=NOW), NOW) == SlaBadge("breached", NOW)
    late = conv(first=NOW - timedelta(hours=3), resolution=NOW + timedelta(minutes=10))
    assert badge(late, NOW) == SlaBadge("breached", NOW - timedelta(hours=3))
    # the first response was given: its due time no longer counts, the resolution's does
    answered = conv(
        first=NOW - timedelta(hours=3),
        first_response_at=NOW - timedelta(hours=4),
        resolution=NOW + timedelta(minutes=10),
    )
    assert earliest_due(answered) == NOW + timedelta(minutes=10)
    assert badge(answered, NOW) == SlaBadge("due_soon", NOW + timedelta(minutes=10))
    assert badge(conv(next=NOW - timedelta(minutes=1)), NOW) == SlaBadge(
        "breached", NOW - timedelta(minutes=1)
    )
    for done in ("resolved", "closed"):
        assert badge(conv(done, first=NOW - timedelta(hours=1)), NOW) is None
