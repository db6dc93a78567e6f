from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import func, select

from storedesk.agents.models import Agent, Notification, Team, TeamMember
from storedesk.kit.repository import ShopRepository


class AgentRepository(ShopRepository[Agent]):
    model = Agent
    label = "agent"

    async def by_email(self, email: str) -> Agent | None:
        stmt = self.select().where(func.lower(Agent.email) == email.lower())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list(self) -> Sequence[Agent]:
        return (await self.session.execute(self.select().order_by(Agent.id))).scalars().all()


class TeamRepository(ShopRepository[Team]):
    model = Team
    label = "team"

    async def list(self) -> Sequence[Team]:
        return (await self.session.execute(self.select().order_by(Team.id))).scalars().all()

    async def member_ids(self, team_id: int) -> builtins.list[int]:
        stmt = select(TeamMember.agent_id).where(
            TeamMember.shop_id == self.shop_id, TeamMember.team_id == team_id
        )
        return list((await self.session.execute(stmt.order_by(TeamMember.agent_id))).scalars())


class NotificationRepository(ShopRepository[Notification]):
    """An agent's in-app notifications (assignment, mentions), newest first."""

    model = Notification
    label = "notification"

    async def for_agent(self, agent_id: int, *, limit: int = 30) -> Sequence[Notification]:
        stmt = self.select().where(Notification.agent_id == agent_id).order_by(Notification.id.desc())
        return (await self.session.execute(stmt.limit(limit))).scalars().all()

    async def unread_count(self, agent_id: int) -> int:
        stmt = (
            select(func.count())
            .select_from(Notification)
            .where(Notification.shop_id == self.shop_id, Notification.agent_id == agent_id)
            .where(Notification.read_at.is_(None))
        )
        return int((await self.session.execute(stmt)).scalar_one())
