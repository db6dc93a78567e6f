"""Surveys, survey responses and reviews over the API (the public survey page lives in ``surveys.web``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from storedesk.api.deps import AdminAuth, AgentAuth, Auth, Session
from storedesk.api.params import IdPath, IdQuery
from storedesk.kit.errors import Conflict, ValidationFailed
from storedesk.kit.schemas import Page
from storedesk.shops.service import get_shop
from storedesk.surveys import reviews, service
from storedesk.surveys.models import SurveyKind, SurveyStatus, SurveyTrigger
from storedesk.surveys.repository import (
    ResponseFilter,
    ReviewRepository,
    SurveyRepository,
    SurveyResponseRepository,
)
from storedesk.surveys.schemas import (
    ReviewImportOut,
    ReviewOut,
    ReviewReplyIn,
    SurveyCreate,
    SurveyOut,
    SurveyResponseOut,
    SurveySettingsIn,
    SurveySettingsOut,
)

router = APIRouter(tags=["surveys"])
Cursor = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="id of the last item of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/surveys/settings", response_model=SurveySettingsOut, summary="When surveys go out")
async def get_settings(ctx: Auth, session: Session) -> SurveySettingsOut:
    return SurveySettingsOut(**service.settings_of(await get_shop(session, ctx.shop_id)).as_dict())


@router.put(
    "/surveys/settings", response_model=SurveySettingsOut, summary="Change when surveys go out (admin)"
)
async def put_settings(body: SurveySettingsIn, ctx: AdminAuth, session: Session) -> SurveySettingsOut:
    changes = body.model_dump(exclude_unset=True, mode="json")
    settings = await service.update_settings(session, shop_id=ctx.shop_id, actor=ctx.actor, changes=changes)
    return SurveySettingsOut(**settings.as_dict())


async def _survey_out(session: Session, shop_id: int, survey_id: int) -> SurveyOut:
    survey = await SurveyRepository(session, shop_id).get_or_404(survey_id)
    out = SurveyOut.model_validate(survey)
    out.responses = [
        SurveyResponseOut.model_validate(r)
        for r in await SurveyResponseRepository(session, shop_id).for_survey(survey.id)
    ]
    return out


@router.get("/surveys", response_model=Page[SurveyOut], summary="Surveys sent, newest first")
async def list_surveys(
    ctx: Auth,
    session: Session,
    status: SurveyStatus | None = None,
    customer_id: IdQuery = None,
    conversation_id: IdQuery = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[SurveyOut]:
    rows = await SurveyRepository(session, ctx.shop_id).page(
        status=status.value if status else None,
        customer_id=customer_id,
        conversation_id=conversation_id,
        before_id=cursor,
        limit=limit + 1,
    )
    answers = await SurveyResponseRepository(session, ctx.shop_id).for_surveys([s.id for s in rows[:limit]])
    items = []
    for survey in rows[:limit]:
        out = SurveyOut.model_validate(survey)
        out.responses = [SurveyResponseOut.model_validate(r) for r in answers[survey.id]]
        items.append(out)
    return Page(items=items, next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None)


@router.post("/surveys", response_model=SurveyOut, status_code=201, summary="Send a survey to a customer")
async def create_survey(body: SurveyCreate, ctx: AgentAuth, session: Session) -> SurveyOut:
    survey = await service.create_survey(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        customer_id=body.customer_id,
        kinds=body.kinds,
        trigger=SurveyTrigger.manual,
        conversation_id=body.conversation_id,
        order_id=body.order_id,
        channel_id=body.channel_id,
        respect_frequency=not body.ignore_frequency,
    )
    if survey is None:
        raise Conflict(
            "this customer was asked recently (see the surveys settings); send with ignore_frequency to ask anyway",
            code="asked_recently",
        )
    return await _survey_out(session, ctx.shop_id, survey.id)


@router.get("/surveys/{survey_id}", response_model=SurveyOut)
async def get_survey(survey_id: IdPath, ctx: Auth, session: Session) -> SurveyOut:
    return await _survey_out(session, ctx.shop_id, survey_id)


@router.get(
    "/survey-responses", response_model=Page[SurveyResponseOut], summary="Survey answers, newest first"
)
async def list_responses(
    ctx: Auth,
    session: Session,
    kind: SurveyKind | None = None,
    agent_id: IdQuery = None,
    customer_id: IdQuery = None,
    conversation_id: IdQuery = None,
    max_score: Annotated[int | None, Query(ge=0, le=10)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[SurveyResponseOut]:
    flt = ResponseFilter(
        kind=kind.value if kind else None,
        agent_id=agent_id,
        customer_id=customer_id,
        conversation_id=conversation_id,
        max_score=max_score,
    )
    rows = await SurveyResponseRepository(session, ctx.shop_id).page(flt, before_id=cursor, limit=limit + 1)
    return Page(
        items=[SurveyResponseOut.model_validate(r) for r in rows[:limit]],
        next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None,
    )


@router.post(
    "/reviews/import",
    response_model=ReviewImportOut,
    summary="Import product reviews from CSV (admin)",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_reviews(
    request: Request,
    ctx: AdminAuth,
    session: Session,
    source: Annotated[str, Query(pattern=r"^[a-z0-9_-]{1,32}$")] = "csv",
) -> ReviewImportOut:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the CSV must be UTF-8", details={"field": "file"}) from None
    result = await reviews.import_csv(session, shop_id=ctx.shop_id, actor=ctx.actor, text=text, source=source)
    return ReviewImportOut(
        created=result.created,
        updated=result.updated,
        follow_ups=result.follow_ups,
        errors=result.errors,
        review_ids=result.review_ids,
    )


@router.get("/reviews", response_model=Page[ReviewOut], summary="Product reviews, newest first")
async def list_reviews(
    ctx: Auth,
    session: Session,
    max_rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    customer_id: IdQuery = None,
    unanswered: bool = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ReviewOut]:
    rows = await ReviewRepository(session, ctx.shop_id).page(
        max_rating=max_rating,
        customer_id=customer_id,
        unanswered=unanswered,
        before_id=cursor,
        limit=limit + 1,
    )
    return Page(
        items=[ReviewOut.model_validate(r) for r in rows[:limit]],
        next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None,
    )


@router.get("/reviews/{review_id}", response_model=ReviewOut)
async def get_review(review_id: IdPath, ctx: Auth, session: Session) -> ReviewOut:
    return ReviewOut.model_validate(await ReviewRepository(session, ctx.shop_id).get_or_404(review_id))


@router.post("/reviews/{review_id}/reply", response_model=ReviewOut, summary="Reply to a review")
async def reply_to_review(
    review_id: IdPath, body: ReviewReplyIn, ctx: AgentAuth, session: Session
) -> ReviewOut:
    review = await reviews.reply(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        review_id=review_id,
        text=body.text,
        message_customer=body.message_customer,
    )
    await session.flush()
    await session.refresh(review)
    return ReviewOut.model_validate(review)
