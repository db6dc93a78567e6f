from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels.models import Channel
from storedesk.conversations.models import (
    PRIORITY_RANK,
    PRIORITY_RANK_SQL,
    Conversation,
    ConversationTag,
    Message,
)
from storedesk.db.base import UTCDateTime
from storedesk.kit.errors import NotFound, ValidationFailed
from storedesk.kit.pagination import SortKey, decode_cursor, encode_cursor, keyset_order, keyset_segments
from storedesk.kit.repository import ShopRepository
from storedesk.kit.time import ensure_aware
from storedesk.shops.models import Shop


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


@dataclass(frozen=True)
class ConversationFacts:
    """What the write paths' hooks (the SLA clock) need besides the row: the shop's settings token
    (checks the process-wide SLA cache) and the kind of the conversation's channel."""

    settings_token: str | None
    channel_kind: str | None


_FACTS = "conversation_facts"


def _facts_columns(shop_id: int) -> tuple[Any, Any]:
    token = select(Shop.settings_token).where(Shop.id == shop_id).scalar_subquery()
    kind = select(Channel.kind).where(Channel.id == Conversation.channel_id).scalar_subquery()
    return token, kind


def forget_facts(session: AsyncSession) -> None:
    """Settings changed in this transaction: hooks read the facts again."""
    session.info.pop(_FACTS, None)


def remember_facts(session: AsyncSession, conversation_id: int, token: str | None, kind: Any) -> None:
    """Keep facts read with the row (see :func:`_facts_columns`) for the hooks of this transaction."""
    memo: dict[int, ConversationFacts] = session.info.setdefault(_FACTS, {})
    memo[conversation_id] = ConversationFacts(token, str(kind) if kind else None)


async def conversation_facts(session: AsyncSession, conversation: Conversation) -> ConversationFacts:
    """The facts read with the row by :meth:`ConversationRepository.get_for_update`, or one query."""
    return await facts_for(session, conversation.shop_id, conversation.id)


async def facts_for(session: AsyncSession, shop_id: int, conversation_id: int) -> ConversationFacts:
    memo: dict[int, ConversationFacts] = session.info.setdefault(_FACTS, {})
    facts = memo.get(conversation_id)
    if facts is None:
        token, kind = _facts_columns(shop_id)
        stmt = select(token, kind).where(Conversation.shop_id == shop_id, Conversation.id == conversation_id)
        row = (await session.execute(stmt)).one()
        facts = memo[conversation_id] = ConversationFacts(row[0], str(row[1]) if row[1] else None)
    return facts


class ConversationRepository(ShopRepository[Conversation]):
    model = Conversation
    label = "conversation"

    async def get_for_update(self, ident: int) -> Conversation:
        """The row, locked, read in one statement with its :class:`ConversationFacts`."""
        conversation = await self.first_for_update(self.select().where(Conversation.id == ident))
        if conversation is None:
            raise NotFound(self.label, ident)
        return conversation

    async def first_for_update(
        self, stmt: Select[Conversation], *, refresh: bool = False
    ) -> Conversation | None:
        """The first row of ``stmt`` (one of :meth:`select`'s), locked, with its :class:`ConversationFacts`;
        ``refresh``: overwrite the session's copy with the locked row's values."""
        locked: Select[Any] = stmt.add_columns(*_facts_columns(self.shop_id)).with_for_update(of=Conversation)
        if refresh:
            locked = locked.execution_options(populate_existing=True)
        row = (await self.session.execute(locked)).first()
        if row is None:
            return None
        conversation: Conversation = row[0]
        remember_facts(self.session, conversation.id, row[1], row[2])
        return conversation

    def filtered(self, flt: ConversationFilter) -> Select[Conversation]:
        """The statement for a filter; the API list and the agent inbox share it."""
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
        if isinstance(flt, InboxFilter) and flt.sla_due_before is not None:
            stmt = stmt.where(
                or_(
                    and_(
                        Conversation.first_response_due_at.is_not(None),
                        Conversation.first_response_at.is_(None),
                        Conversation.first_response_due_at <= flt.sla_due_before,
                    ),
                    and_(
                        Conversation.resolution_due_at.is_not(None),
                        Conversation.resolution_due_at <= flt.sla_due_before,
                    ),
                )
            )
        return stmt

    async def page(
        self, flt: ConversationFilter, *, cursor: str | None, limit: int
    ) -> tuple[Sequence[Conversation], str | None]:
        """Newest activity first, keyset-paginated on ``(last_activity_at, id)``."""
        position = parse_inbox_position("activity", decode_cursor(cursor, 2)) if cursor else None
        rows = await self.keyset(self.filtered(flt), INBOX_SORT_KEYS["activity"], position, limit)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(inbox_position("activity", rows[-1]))
        return rows, next_cursor

    async def keyset(
        self, stmt: Select[Any], keys: Sequence[SortKey], position: Sequence[Any] | None, limit: int
    ) -> list[Conversation]:
        """Up to ``limit + 1`` rows after ``position`` in the order of ``keys``, segment by segment (most
        pages need only the first)."""
        order = keyset_order(keys)
        if position is None:
            return list((await self.session.execute(stmt.order_by(*order).limit(limit + 1))).scalars())
        rows: list[Conversation] = []
        for where in keyset_segments(keys, position):
            page = stmt.where(where).order_by(*order).limit(limit + 1 - len(rows))
            rows.extend((await self.session.execute(page)).scalars())
            if len(rows) > limit:
                break
        return rows

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


# --- the agent workspace's inbox (storedesk.web) -------------------------------------------------------

INBOX_SORTS = ("activity", "waiting", "priority", "oldest")

# the priority rank as ix_conv_shop_status_priority's expression, literally (bound values would miss it)
_RANK: ColumnElement[int] = literal_column(
    PRIORITY_RANK_SQL.replace("CASE priority", "CASE conversations.priority"), type_=Integer
)
# each sort's keys; every one ends with the id, so equal sort values still have one order (each has an index)
INBOX_SORT_KEYS: dict[str, tuple[SortKey, ...]] = {
    "activity": (SortKey(Conversation.last_activity_at, True), SortKey(Conversation.id, True)),
    "oldest": (SortKey(Conversation.last_activity_at), SortKey(Conversation.id)),
    "waiting": (SortKey(Conversation.waiting_since, nullable=True), SortKey(Conversation.id)),
    "priority": (
        SortKey(_RANK),
        SortKey(Conversation.last_activity_at, True),
        SortKey(Conversation.id, True),
    ),
}


def inbox_position(sort: str, conversation: Conversation) -> list[Any]:
    """A row's place in a sort as JSON values (what an inbox cursor carries)."""
    if sort == "waiting":
        waiting = conversation.waiting_since
        return [waiting.isoformat() if waiting else None, conversation.id]
    when = conversation.last_activity_at.isoformat()
    if sort == "priority":
        return [PRIORITY_RANK.get(str(conversation.priority), len(PRIORITY_RANK)), when, conversation.id]
    return [when, conversation.id]


def parse_inbox_position(sort: str, raw: Sequence[Any]) -> list[Any]:
    """The values of :func:`inbox_position` back from JSON; ``ValidationFailed`` when they do not fit."""
    keys = INBOX_SORT_KEYS[sort]
    if len(raw) != len(keys):
        raise _bad_cursor()
    out: list[Any] = []
    for key, value in zip(keys, raw, strict=True):
        if value is None and key.nullable:
            out.append(None)
        elif isinstance(key.expr.type, UTCDateTime) and isinstance(value, str) and len(value) <= 40:
            try:
                out.append(ensure_aware(datetime.fromisoformat(value)))
            except ValueError:
                raise _bad_cursor() from None
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
            if isinstance(key.expr.type, UTCDateTime):
                raise _bad_cursor()
            out.append(value)
        else:
            raise _bad_cursor()
    return out


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("cursor is not valid", details={"field": "cursor"}, reason="cursor_invalid")


@dataclass(frozen=True)
class InboxFilter(ConversationFilter):
    """The inbox's filters: those of the API plus the SLA window ("due before")."""

    sla_due_before: datetime | None = None


class InboxRepository(ConversationRepository):
    """Sorted, keyset-paged inbox views and their (capped) counts."""

    async def inbox(
        self,
        flt: InboxFilter,
        *,
        sort: str,
        limit: int,
        after: Sequence[Any] | None = None,
        before: Sequence[Any] | None = None,
    ) -> tuple[Sequence[Conversation], bool]:
        """One page of the view in the order of ``sort``: the first, the one after the position ``after``
        or the one before ``before`` (positions from :func:`parse_inbox_position`); and whether more rows
        lie beyond it in the direction read."""
        keys = INBOX_SORT_KEYS[sort]
        position = after
        if before is not None:
            keys, position = tuple(k.reversed() for k in keys), before
        rows = await self.keyset(self.filtered(flt), keys, position, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        if before is not None:
            rows.reverse()
        return rows, more

    async def count_capped(self, flt: InboxFilter, cap: int) -> int:
        """How many conversations a view holds, counting no further than ``cap``."""
        inner = self.filtered(flt).with_only_columns(Conversation.id).limit(cap).subquery()
        return int((await self.session.execute(select(func.count()).select_from(inner))).scalar_one())

    async def tag_counts(self) -> list[tuple[str, int]]:
        stmt = (
            select(ConversationTag.name, func.count())
            .where(ConversationTag.shop_id == self.shop_id)
            .group_by(ConversationTag.name)
            .order_by(ConversationTag.name)
        )
        return [(name, int(n)) for name, n in (await self.session.execute(stmt)).all()]

    async def by_ids(self, ids: list[int]) -> Sequence[Conversation]:
        if not ids:
            return []
        return (await self.session.execute(self.select().where(Conversation.id.in_(ids)))).scalars().all()

    async def by_number(self, number: int) -> Conversation | None:
        stmt = self.select().where(Conversation.number == number)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class TimelineRepository(MessageRepository):
    """Messages as the agent workspace shows them: latest preview per conversation, customer timeline."""

    async def by_ids(self, ids: list[int]) -> Sequence[Message]:
        if not ids:
            return []
        return (await self.session.execute(self.select().where(Message.id.in_(ids)))).scalars().all()

    async def latest_previews(self, conversation_ids: list[int]) -> dict[int, Message]:
        if not conversation_ids:
            return {}
        last_ids = (
            select(func.max(Message.id))
            .where(Message.shop_id == self.shop_id, Message.conversation_id.in_(conversation_ids))
            .where(Message.direction.in_(("inbound", "outbound")))
            .group_by(Message.conversation_id)
        )
        rows = (await self.session.execute(self.select().where(Message.id.in_(last_ids)))).scalars()
        return {m.conversation_id: m for m in rows}

    async def for_customer(self, customer_id: int, *, limit: int) -> Sequence[Message]:
        """The newest ``limit`` messages of every conversation of a customer, oldest first."""
        conv_ids = select(Conversation.id).where(
            Conversation.shop_id == self.shop_id, Conversation.customer_id == customer_id
        )
        stmt = self.select().where(Message.conversation_id.in_(conv_ids)).order_by(Message.id.desc())
        rows = list((await self.session.execute(stmt.limit(limit))).scalars())
        rows.reverse()
        return rows

    async def latest_for_conversation(self, conversation_id: int, *, limit: int) -> Sequence[Message]:
        """The newest ``limit`` messages of a conversation, oldest first."""
        stmt = self.select().where(Message.conversation_id == conversation_id).order_by(Message.id.desc())
        rows = list((await self.session.execute(stmt.limit(limit))).scalars())
        rows.reverse()
        return rows
