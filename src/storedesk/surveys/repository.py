"""Tenant-scoped queries for surveys, responses and reviews (plus the one public lookup: a survey by the
id inside its signed link, whose signature the caller verifies)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.kit.repository import ShopRepository
from storedesk.surveys.models import Review, Survey, SurveyResponse


class SurveyRepository(ShopRepository[Survey]):
    model = Survey
    label = "survey"

    async def latest_for_customer(
        self, customer_id: int, *, kinds: set[str], since: datetime
    ) -> Survey | None:
        """The newest survey sent (or scheduled) to the customer since ``since`` asking one of ``kinds``."""
        stmt = (
            self.select()
            .where(Survey.customer_id == customer_id, Survey.created_at >= since)
            .order_by(Survey.created_at.desc(), Survey.id.desc())
        )
        for survey in (await self.session.execute(stmt.limit(20))).scalars():
            if kinds & set(survey.kinds) and survey.status != "skipped":
                return survey
        return None

    async def page(
        self,
        *,
        status: str | None = None,
        customer_id: int | None = None,
        conversation_id: int | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> Sequence[Survey]:
        stmt = self.select()
        if status:
            stmt = stmt.where(Survey.status == status)
        if customer_id is not None:
            stmt = stmt.where(Survey.customer_id == customer_id)
        if conversation_id is not None:
            stmt = stmt.where(Survey.conversation_id == conversation_id)
        if before_id is not None:
            stmt = stmt.where(Survey.id < before_id)
        return (await self.session.execute(stmt.order_by(Survey.id.desc()).limit(limit))).scalars().all()


async def survey_for_link(session: AsyncSession, survey_id: int) -> Survey | None:
    """The survey a signed link names, in any shop: the link's signature is the credential (verify it
    with ``surveys.links.verify`` before showing or changing anything)."""
    stmt = select(Survey).where(Survey.id == survey_id)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True)
class ResponseFilter:
    kind: str | None = None
    customer_id: int | None = None
    conversation_id: int | None = None
    agent_id: int | None = None
    max_score: int | None = None
    answered_from: datetime | None = None
    answered_to: datetime | None = None


class SurveyResponseRepository(ShopRepository[SurveyResponse]):
    model = SurveyResponse
    label = "survey response"

    async def for_survey(self, survey_id: int) -> Sequence[SurveyResponse]:
        stmt = self.select().where(SurveyResponse.survey_id == survey_id).order_by(SurveyResponse.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def for_surveys(self, survey_ids: list[int]) -> dict[int, list[SurveyResponse]]:
        out: dict[int, list[SurveyResponse]] = {sid: [] for sid in survey_ids}
        if survey_ids:
            stmt = self.select().where(SurveyResponse.survey_id.in_(survey_ids)).order_by(SurveyResponse.id)
            for row in (await self.session.execute(stmt)).scalars():
                out[row.survey_id].append(row)
        return out

    async def page(
        self, flt: ResponseFilter, *, before_id: int | None, limit: int
    ) -> Sequence[SurveyResponse]:
        stmt = self.select()
        if flt.kind:
            stmt = stmt.where(SurveyResponse.kind == flt.kind)
        if flt.customer_id is not None:
            stmt = stmt.where(SurveyResponse.customer_id == flt.customer_id)
        if flt.conversation_id is not None:
            stmt = stmt.where(SurveyResponse.conversation_id == flt.conversation_id)
        if flt.agent_id is not None:
            stmt = stmt.where(SurveyResponse.agent_id == flt.agent_id)
        if flt.max_score is not None:
            stmt = stmt.where(SurveyResponse.score <= flt.max_score)
        if flt.answered_from is not None:
            stmt = stmt.where(SurveyResponse.answered_at >= flt.answered_from)
        if flt.answered_to is not None:
            stmt = stmt.where(SurveyResponse.answered_at < flt.answered_to)
        if before_id is not None:
            stmt = stmt.where(SurveyResponse.id < before_id)
        stmt = stmt.order_by(SurveyResponse.id.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()


class ReviewRepository(ShopRepository[Review]):
    model = Review
    label = "review"

    async def by_external_id(self, source: str, external_id: str) -> Review | None:
        stmt = self.select().where(Review.source == source, Review.external_id == external_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(
        self,
        *,
        max_rating: int | None = None,
        customer_id: int | None = None,
        unanswered: bool = False,
        before_id: int | None = None,
        limit: int = 50,
    ) -> Sequence[Review]:
        stmt = self.select()
        if max_rating is not None:
            stmt = stmt.where(Review.rating <= max_rating)
        if customer_id is not None:
            stmt = stmt.where(Review.customer_id == customer_id)
        if unanswered:
            stmt = stmt.where(Review.replied_at.is_(None))
        if before_id is not None:
            stmt = stmt.where(Review.id < before_id)
        return (await self.session.execute(stmt.order_by(Review.id.desc()).limit(limit))).scalars().all()
