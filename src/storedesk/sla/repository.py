"""Tenant-scoped SLA queries: policies, per-conversation clocks, and the inbox's due-soon/breached views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.conversations.models import Conversation, ConversationStatus
from storedesk.kit.repository import ShopRepository
from storedesk.sla.models import ConversationSla, SlaPolicy

ACTIVE_STATUSES = (ConversationStatus.open, ConversationStatus.pending, ConversationStatus.snoozed)


class SlaPolicyRepository(ShopRepository[SlaPolicy]):
    model = SlaPolicy
    label = "SLA policy"

    async def ordered(self, *, active_only: bool = False) -> Sequence[SlaPolicy]:
        stmt = self.select()
        if active_only:
            stmt = stmt.where(SlaPolicy.is_active.is_(True))
        stmt = stmt.order_by(SlaPolicy.position, SlaPolicy.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def by_name(self, name: str) -> SlaPolicy | None:
        return (await self.session.execute(self.select().where(SlaPolicy.name == name))).scalar_one_or_none()


class ConversationSlaRepository(ShopRepository[ConversationSla]):
    model = ConversationSla
    label = "conversation SLA"

    async def for_conversation(self, conversation_id: int) -> ConversationSla | None:
        stmt = self.select().where(ConversationSla.conversation_id == conversation_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def due_for_breach_check(self, now: datetime, *, limit: int) -> list[int]:
        """Conversations with a due time at or before ``now`` that has not been reported yet."""
        stmt = (
            select(ConversationSla.conversation_id)
            .where(ConversationSla.shop_id == self.shop_id, ConversationSla.next_breach_at <= now)
            .order_by(ConversationSla.next_breach_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    def view(
        self, *, due_before: datetime, due_after: datetime | None
    ) -> Select[Conversation, ConversationSla]:
        """Active conversations whose earliest running due time is in ``(due_after, due_before]``."""
        conditions = [
            ConversationSla.shop_id == self.shop_id,
            ConversationSla.next_due_at.is_not(None),
            ConversationSla.next_due_at <= due_before,
        ]
        if due_after is not None:
            conditions.append(ConversationSla.next_due_at > due_after)
        return (
            select(Conversation, ConversationSla)
            .join(ConversationSla, ConversationSla.conversation_id == Conversation.id)
            .where(Conversation.shop_id == self.shop_id, Conversation.status.in_(ACTIVE_STATUSES))
            .where(and_(*conditions))
            .order_by(ConversationSla.next_due_at, Conversation.id)
        )


async def shops_with_due_breaches(session: AsyncSession, now: datetime) -> list[int]:
    """Shop ids that have a breach to report (the periodic job's fan-out; not tenant data)."""
    stmt = select(ConversationSla.shop_id).where(ConversationSla.next_breach_at <= now).distinct()
    return sorted(int(s) for s in (await session.execute(stmt)).scalars())
