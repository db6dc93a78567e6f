"""Tenant-scoped queries of the assistant: its turns, and the facts it reads about a customer."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from storedesk.agents.models import Agent, TeamMember
from storedesk.assistant.models import AssistantTurn
from storedesk.commerce.models import Order, Product, Refund, Return, Shipment, Variant
from storedesk.commerce.repository import OrderRepository
from storedesk.conversations.models import Conversation, ConversationStatus, Direction, Message
from storedesk.customers.models import CustomerIdentity, IdentityKind
from storedesk.kit.repository import ShopRepository


class TurnRepository(ShopRepository[AssistantTurn]):
    model = AssistantTurn
    label = "assistant turn"

    async def for_message(self, message_id: int) -> AssistantTurn | None:
        stmt = self.select().where(AssistantTurn.message_id == message_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_conversation(self, conversation_id: int, *, limit: int = 100) -> Sequence[AssistantTurn]:
        stmt = (
            self.select()
            .where(AssistantTurn.conversation_id == conversation_id)
            .order_by(AssistantTurn.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def latest_done(self, conversation_id: int, before_id: int | None = None) -> AssistantTurn | None:
        stmt = self.select().where(
            AssistantTurn.conversation_id == conversation_id, AssistantTurn.status == "done"
        )
        if before_id is not None:
            stmt = stmt.where(AssistantTurn.id < before_id)
        return (
            await self.session.execute(stmt.order_by(AssistantTurn.id.desc()).limit(1))
        ).scalar_one_or_none()

    async def latest_handover(self, conversation_id: int) -> AssistantTurn | None:
        stmt = self.select().where(
            AssistantTurn.conversation_id == conversation_id, AssistantTurn.outcome == "handover"
        )
        return (
            await self.session.execute(stmt.order_by(AssistantTurn.id.desc()).limit(1))
        ).scalar_one_or_none()

    async def corrections(self) -> Sequence[AssistantTurn]:
        stmt = self.select().where(AssistantTurn.corrected_intent.is_not(None)).order_by(AssistantTurn.id)
        return (await self.session.execute(stmt)).scalars().all()


class FactsRepository:
    """Reads of the commerce mirror and the team for one shop (every statement filters by shop)."""

    def __init__(self, session: object, shop_id: int) -> None:
        from sqlalchemy.ext.asyncio import AsyncSession

        assert isinstance(session, AsyncSession)
        self.session = session
        self.shop_id = shop_id
        self.orders = OrderRepository(session, shop_id)

    async def emails(self, customer_id: int) -> list[str]:
        stmt = select(CustomerIdentity.value).where(
            CustomerIdentity.shop_id == self.shop_id,
            CustomerIdentity.customer_id == customer_id,
            CustomerIdentity.kind == IdentityKind.email,
        )
        return [str(v).lower() for v in (await self.session.execute(stmt)).scalars()]

    async def orders_by_number(self, number: str) -> Sequence[Order]:
        stmt = select(Order).where(Order.shop_id == self.shop_id, Order.number == number).order_by(Order.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def latest_orders(self, customer_id: int, emails: list[str], *, limit: int = 5) -> Sequence[Order]:
        cond = Order.customer_id == customer_id
        if emails:
            cond = cond | func.lower(Order.email).in_(emails)
        stmt = (
            select(Order)
            .where(Order.shop_id == self.shop_id, cond)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    # an order's shipments, refunds and returns: the commerce mirror's own queries
    async def shipments(self, order_id: int) -> Sequence[Shipment]:
        return (await self.orders.shipments([order_id]))[order_id]

    async def refunds(self, order_id: int) -> Sequence[Refund]:
        return await self.orders.refunds(order_id)

    async def returns(self, order_id: int) -> Sequence[Return]:
        return await self.orders.returns(order_id)

    async def product_titles(self, *, limit: int = 3000) -> list[str]:
        stmt = select(Product.title).where(Product.shop_id == self.shop_id).order_by(Product.id).limit(limit)
        return [str(t) for t in (await self.session.execute(stmt)).scalars()]

    async def product_by_title(self, title: str) -> Product | None:
        stmt = select(Product).where(Product.shop_id == self.shop_id, Product.title == title).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def variants(self, product_id: int) -> Sequence[Variant]:
        stmt = (
            select(Variant)
            .where(Variant.shop_id == self.shop_id, Variant.product_id == product_id)
            .order_by(Variant.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def agents_speaking(self, language: str) -> list[Agent]:
        stmt = (
            select(Agent)
            .where(
                Agent.shop_id == self.shop_id, Agent.is_active.is_(True), Agent.role.in_(("agent", "admin"))
            )
            .order_by(Agent.id)
        )
        return [a for a in (await self.session.execute(stmt)).scalars() if language in (a.languages or [])]

    async def team_member_ids(self, team_id: int) -> set[int]:
        stmt = select(TeamMember.agent_id).where(
            TeamMember.shop_id == self.shop_id, TeamMember.team_id == team_id
        )
        return {int(x) for x in (await self.session.execute(stmt)).scalars()}

    async def open_load(self, agent_ids: list[int]) -> dict[int, int]:
        if not agent_ids:
            return {}
        stmt = (
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.shop_id == self.shop_id,
                Conversation.assignee_id.in_(agent_ids),
                Conversation.status.in_((ConversationStatus.open, ConversationStatus.pending)),
            )
            .group_by(Conversation.assignee_id)
        )
        return {int(a): int(n) for a, n in (await self.session.execute(stmt)).all() if a is not None}

    async def agent_replied_after(self, conversation_id: int, after_message_id: int) -> bool:
        stmt = (
            select(Message.id)
            .where(
                Message.shop_id == self.shop_id,
                Message.conversation_id == conversation_id,
                Message.id > after_message_id,
                Message.direction == Direction.outbound,
                Message.author_type == "agent",
            )
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def last_inbound(self, conversation_id: int) -> Message | None:
        stmt = (
            select(Message)
            .where(
                Message.shop_id == self.shop_id,
                Message.conversation_id == conversation_id,
                Message.direction == Direction.inbound,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def messages(self, ids: list[int]) -> Sequence[Message]:
        if not ids:
            return []
        stmt = select(Message).where(Message.shop_id == self.shop_id, Message.id.in_(ids))
        return (await self.session.execute(stmt)).scalars().all()
