"""Who is looking at (or typing in) a conversation, so other agents see a collision warning.

Every heartbeat is published through the real-time broker after the request commits — in memory on
SQLite, through PostgreSQL NOTIFY in the production shape — and each process applies it to its own
table when the broker delivers it. So an agent on one API process sees an agent on another, and the
table is written by one path in both shapes. An entry lapses ``VIEW_TTL`` seconds after its last
heartbeat (the browser beats every 20 s while the conversation is open)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.realtime import broker, publish_after_commit

VIEW_TTL = 35.0  # seconds without a heartbeat before an agent counts as gone
TYPING_TTL = 8.0
STATE_EVENT = "presence.state"

State = Literal["viewing", "typing", "left"]


@dataclass
class Seen:
    until: float
    typing_until: float = 0.0


class Presence:
    def __init__(self) -> None:
        self._rooms: dict[tuple[int, int], dict[int, Seen]] = {}

    def _room(self, shop_id: int, conversation_id: int) -> dict[int, Seen]:
        room = self._rooms.setdefault((shop_id, conversation_id), {})
        now = time.monotonic()
        for agent_id in [a for a, s in room.items() if s.until < now]:
            del room[agent_id]
        return room

    def snapshot(self, shop_id: int, conversation_id: int) -> dict[int, bool]:
        """agent id → typing, for everyone present."""
        now = time.monotonic()
        return {a: s.typing_until > now for a, s in self._room(shop_id, conversation_id).items()}

    def clear(self) -> None:
        """Forget everyone (tests: one process serves many shops whose ids repeat)."""
        self._rooms.clear()

    def others(self, shop_id: int, conversation_id: int, agent_id: int) -> dict[int, bool]:
        return {a: t for a, t in self.snapshot(shop_id, conversation_id).items() if a != agent_id}

    def announce(
        self, session: AsyncSession, shop_id: int, conversation_id: int, agent_id: int, state: State
    ) -> None:
        """Publish a heartbeat (or a goodbye) to every process once the request's transaction commits."""
        publish_after_commit(
            session,
            shop_id,
            {"type": STATE_EVENT, "conversation_id": conversation_id, "agent_id": agent_id, "state": state},
        )

    def apply(self, shop_id: int, event: dict[str, Any]) -> None:
        """The broker's handler for heartbeats: update this process's table, tell its SSE clients."""
        conversation_id, agent_id = event.get("conversation_id"), event.get("agent_id")
        state = event.get("state")
        if not isinstance(conversation_id, int) or not isinstance(agent_id, int):
            return
        before = self.snapshot(shop_id, conversation_id)
        room = self._room(shop_id, conversation_id)
        if state == "left":
            room.pop(agent_id, None)
        else:
            now = time.monotonic()
            seen = room.setdefault(agent_id, Seen(until=now + VIEW_TTL))
            seen.until = now + VIEW_TTL
            seen.typing_until = now + TYPING_TTL if state == "typing" else 0.0
        after = self.snapshot(shop_id, conversation_id)
        if after != before:
            broker.publish(
                shop_id,
                {"type": "presence.changed", "conversation_id": conversation_id, "customer_id": None},
            )
        typing = after.get(agent_id, False)
        if typing != before.get(agent_id, False):
            # the customer's chat widget shows "Support is typing…" while an agent writes a reply
            broker.publish(
                shop_id,
                {
                    "type": "typing",
                    "conversation_id": conversation_id,
                    "customer_id": None,
                    "actor": "agent",
                    "agent_id": agent_id,
                    "typing": typing,
                },
            )


presence = Presence()
broker.handle(STATE_EVENT, presence.apply)
