from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from storedesk.conversations.models import Conversation, ConversationTag, Message
from storedesk.kit.pagination import decode_cursor, encode_cursor
from storedesk.kit.repository import ShopRepository
from storedesk.kit.time import ensure_aware


@dataclass(frozen=True)
class ConversationFilter:
    status: list[str] | None = None
    channel_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    tag: str | None = None
    language: str | None = None
    priority: str | None = None
    customer_id: int | None = None


class ConversationRepository(ShopRepository[Conversation]):
    model = Conversation
    label = "conversation"

    async def page(
        self, flt: ConversationFilter, *, cursor: str | None, limit: int
    ) -> tuple[Sequence[Conversation], str | None]:
        """Newest activity first, keyset-paginated on ``(last_activity_at, id)``."""
        stmt = self.select()
        if flt.status:
            stmt = stmt.where(Conversation.status.in_(flt.status))
        if flt.channel_id is not None:
            stmt = stmt.where(Conversation.channel_id == flt.channel_id)
        if flt.unassigned:
            stmt = stmt.where(Conversation.assignee_id.is_(None))
        elif flt.assignee_id is not None:
            stmt = stmt.where(Conversation.assignee_id == flt.assignee_id)
        if flt.team_id is not None:
            stmt = stmt.where(Conversation.team_id == flt.team_id)
        if flt.language:
            stmt = stmt.where(Conversation.language == flt.language)
        if flt.priority:
            stmt = stmt.where(Conversation.priority == flt.priority)
        if flt.customer_id is not None:
            stmt = stmt.where(Conversation.customer_id == flt.customer_id)
        if flt.tag:
            tagged = select(ConversationTag.conversation_id).where(
                ConversationTag.shop_id == self.shop_id, ConversationTag.name == flt.tag
            )
            stmt = stmt.where(Conversation.id.in_(tagged))
        if cursor:
            ts_raw, last_id = decode_cursor(cursor, 2)
            try:
                ts = ensure_aware(datetime.fromisoformat(str(ts_raw)))
                last_id = int(last_id)
            except (TypeError, ValueError):
                from storedesk.kit.errors import ValidationFailed

                raise ValidationFailed("cursor is not valid", details={"field": "cursor"}) from None
            stmt = stmt.where(
                or_(
                    Conversation.last_activity_at < ts,
                    and_(Conversation.last_activity_at == ts, Conversation.id < last_id),
                )
            )
        stmt = stmt.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(limit + 1)
        rows = (await self.session.execute(stmt)).scalars().all()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor([last.last_activity_at.isoformat(), last.id])
        return rows, next_cursor

    async def tags_for(self, conversation_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {cid: [] for cid in conversation_ids}
        if not conversation_ids:
            return out
        stmt = (
            select(ConversationTag.conversation_id, ConversationTag.name)
            .where(ConversationTag.shop_id == self.shop_id)
            .where(ConversationTag.conversation_id.in_(conversation_ids))
            .order_by(ConversationTag.name)
        )
        for cid, name in (await self.session.execute(stmt)).all():
            out[cid].append(name)
        return out


class MessageRepository(ShopRepository[Message]):
    model = Message
    label = "message"

    async def for_conversation(
        self, conversation_id: int, *, after_id: int | None = None, limit: int = 200
    ) -> Sequence[Message]:
        stmt = self.select().where(Message.conversation_id == conversation_id)
        if after_id is not None:
            stmt = stmt.where(Message.id > after_id)
        return (await self.session.execute(stmt.order_by(Message.id).limit(limit))).scalars().all()

    async def by_provider_id(self, channel_id: int, provider_message_id: str) -> Message | None:
        stmt = self.select().where(
            Message.channel_id == channel_id, Message.provider_message_id == provider_message_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
