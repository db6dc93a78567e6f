from __future__ import annotations

from collections.abc import Sequence

from storedesk.events.models import Event
from storedesk.kit.repository import ShopRepository


class EventRepository(ShopRepository[Event]):
    model = Event
    label = "event"

    async def for_conversation_after(
        self, conversation_id: int, after_id: int, limit: int = 200
    ) -> Sequence[Event]:
        """The conversation's events newer than ``after_id``, oldest first."""
        stmt = (
            self.select()
            .where(Event.conversation_id == conversation_id, Event.id > after_id)
            .order_by(Event.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def for_conversation(self, conversation_id: int, limit: int = 500) -> Sequence[Event]:
        stmt = self.select().where(Event.conversation_id == conversation_id).order_by(Event.id).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()
