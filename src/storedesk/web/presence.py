"""Who is looking at (or typing in) a conversation: in memory per process, announced through the
real-time broker so other agents see a collision warning."""

from __future__ import annotations

import time
from dataclasses import dataclass

from storedesk.realtime import broker

VIEW_TTL = 35.0  # seconds without a heartbeat before an agent counts as gone
TYPING_TTL = 8.0


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

    def touch(self, shop_id: int, conversation_id: int, agent_id: int, *, typing: bool) -> None:
        before = self.snapshot(shop_id, conversation_id)
        now = time.monotonic()
        room = self._room(shop_id, conversation_id)
        seen = room.setdefault(agent_id, Seen(until=now + VIEW_TTL))
        seen.until = now + VIEW_TTL
        seen.typing_until = now + TYPING_TTL if typing else 0.0
        if self.snapshot(shop_id, conversation_id) != before:
            self._announce(shop_id, conversation_id)

    def leave(self, shop_id: int, conversation_id: int, agent_id: int) -> None:
        room = self._room(shop_id, conversation_id)
        if room.pop(agent_id, None) is not None:
            self._announce(shop_id, conversation_id)

    def others(self, shop_id: int, conversation_id: int, agent_id: int) -> dict[int, bool]:
        return {a: t for a, t in self.snapshot(shop_id, conversation_id).items() if a != agent_id}

    @staticmethod
    def _announce(shop_id: int, conversation_id: int) -> None:
        broker.publish(
            shop_id, {"type": "presence.changed", "conversation_id": conversation_id, "customer_id": None}
        )


presence = Presence()
