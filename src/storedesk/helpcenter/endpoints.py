"""The help center's JSON API under /api/v1 (thin: parse, authorize, one service call, serialise)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from storedesk.api.deps import AdminAuth, AgentAuth, Auth, Session
from storedesk.api.params import IdPath
from storedesk.helpcenter import search as search_engine
from storedesk.helpcenter import service
from storedesk.helpcenter.repository import (
    ArticleRepository,
    AttachmentRepository,
    CategoryRepository,
    DraftRepository,
    FeedbackRepository,
    RelationRepository,
    VersionRepository,
)
from storedesk.helpcenter.schemas import (
    ArticleCreate,
    ArticleDetailOut,
    ArticleOut,
    ArticleUpdate,
    AttachmentOut,
    CategoryIn,
    CategoryOut,
    SearchHitOut,
    SearchOut,
    StatsOut,
    VersionDetailOut,
    VersionOut,
    VersionSave,
)
from storedesk.kit.time import utcnow
from storedesk.shops.service import get_shop

router = APIRouter(prefix="/help", tags=["help center"])


async def _detail(session: Session, shop_id: int, article_id: int) -> ArticleDetailOut:
    article = await ArticleRepository(session, shop_id).get_or_404(article_id)
    shop = await get_shop(session, shop_id)
    versions = await VersionRepository(session, shop_id).for_article(article.id)
    drafts = await DraftRepository(session, shop_id).for_article(article.id)
    yes, no = (await FeedbackRepository(session, shop_id).totals([article.id])).get(article.id, (0, 0))
    return ArticleDetailOut(
        id=article.id,
        slug=article.slug,
        category=article.category,
        visibility=article.visibility,
        versions=[
            VersionDetailOut(
                language=v.language,
                title=v.title,
                status=v.status,
                updated_at=v.updated_at,
                has_draft=lang in drafts,
                body=v.body,
                draft_title=drafts[lang].title if lang in drafts else None,
                draft_body=drafts[lang].body if lang in drafts else None,
            )
            for lang, v in sorted(versions.items())
        ],
        related=await RelationRepository(session, shop_id).related_ids(article.id),
        attachments=[
            AttachmentOut(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                url=f"/help/{shop.slug}/files/{a.id}/{a.filename}",
            )
            for a in await AttachmentRepository(session, shop_id).for_article(article.id)
        ],
        helpful=yes,
        not_helpful=no,
    )


@router.get("/articles", response_model=list[ArticleOut], summary="Help-center articles (all languages)")
async def list_articles(ctx: Auth, session: Session) -> list[ArticleOut]:
    articles = await ArticleRepository(session, ctx.shop_id).list()
    versions = await VersionRepository(session, ctx.shop_id).for_articles([a.id for a in articles])
    out = []
    for a in articles:
        drafts = await DraftRepository(session, ctx.shop_id).for_article(a.id)
        out.append(
            ArticleOut(
                id=a.id,
                slug=a.slug,
                category=a.category,
                visibility=a.visibility,
                versions=[
                    VersionOut(
                        language=v.language,
                        title=v.title,
                        status=v.status,
                        updated_at=v.updated_at,
                        has_draft=lang in drafts,
                    )
                    for lang, v in sorted(versions.get(a.id, {}).items())
                ],
            )
        )
    return out


@router.post("/articles", response_model=ArticleDetailOut, status_code=201, summary="Write a new article")
async def create_article(body: ArticleCreate, ctx: AgentAuth, session: Session) -> ArticleDetailOut:
    shop = await get_shop(session, ctx.shop_id)
    article = await service.create_article(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        shop_languages=shop.languages,
        category=body.category,
        visibility=body.visibility,
        language=body.language,
        title=body.title,
        body=body.body,
        slug=body.slug,
        publish=body.publish,
    )
    return await _detail(session, ctx.shop_id, article.id)


@router.get(
    "/articles/{article_id}", response_model=ArticleDetailOut, summary="One article with its versions"
)
async def get_article(article_id: IdPath, ctx: Auth, session: Session) -> ArticleDetailOut:
    return await _detail(session, ctx.shop_id, article_id)


@router.patch(
    "/articles/{article_id}",
    response_model=ArticleDetailOut,
    summary="Address, category, visibility, related",
)
async def update_article(
    article_id: IdPath, body: ArticleUpdate, ctx: AgentAuth, session: Session
) -> ArticleDetailOut:
    article = await ArticleRepository(session, ctx.shop_id).get_or_404(article_id)
    if body.slug is not None or body.category is not None or body.visibility is not None:
        await service.update_article(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.actor,
            article_id=article.id,
            slug=body.slug or article.slug,
            category=body.category or article.category,
            visibility=body.visibility or article.visibility,
        )
    if body.related is not None:
        await service.set_related(
            session, shop_id=ctx.shop_id, actor=ctx.actor, article_id=article.id, related_ids=body.related
        )
    return await _detail(session, ctx.shop_id, article.id)


@router.put(
    "/articles/{article_id}/versions/{language}",
    response_model=ArticleDetailOut,
    summary="Save a language version (publish or keep as draft)",
)
async def save_version(
    article_id: IdPath,
    language: Annotated[str, Path(min_length=2, max_length=8)],
    body: VersionSave,
    ctx: AgentAuth,
    session: Session,
) -> ArticleDetailOut:
    shop = await get_shop(session, ctx.shop_id)
    await service.save_version(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        shop_languages=shop.languages,
        article_id=article_id,
        language=language,
        title=body.title,
        body=body.body,
        publish=body.publish,
    )
    return await _detail(session, ctx.shop_id, article_id)


@router.post(
    "/articles/{article_id}/versions/{language}/unpublish",
    response_model=ArticleDetailOut,
    summary="Take a language version off the help center",
)
async def unpublish(
    article_id: IdPath,
    language: Annotated[str, Path(min_length=2, max_length=8)],
    ctx: AgentAuth,
    session: Session,
) -> ArticleDetailOut:
    await service.unpublish(
        session, shop_id=ctx.shop_id, actor=ctx.actor, article_id=article_id, language=language
    )
    return await _detail(session, ctx.shop_id, article_id)


@router.delete("/articles/{article_id}", status_code=204, summary="Delete an article (admins)")
async def delete_article(article_id: IdPath, ctx: AdminAuth, session: Session) -> Response:
    await service.delete_article(session, shop_id=ctx.shop_id, actor=ctx.actor, article_id=article_id)
    return Response(status_code=204)


@router.get("/categories", response_model=list[CategoryOut], summary="Help-center categories")
async def list_categories(ctx: Auth, session: Session) -> list[CategoryOut]:
    return [CategoryOut.model_validate(c) for c in await CategoryRepository(session, ctx.shop_id).list()]


@router.post("/categories", response_model=CategoryOut, status_code=201, summary="Create a category (admins)")
async def create_category(body: CategoryIn, ctx: AdminAuth, session: Session) -> CategoryOut:
    shop = await get_shop(session, ctx.shop_id)
    category = await service.save_category(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        shop_languages=shop.languages,
        slug=body.slug,
        names=dict(body.names),
        descriptions=dict(body.descriptions),
        position=body.position,
    )
    return CategoryOut.model_validate(category)


@router.put("/categories/{category_id}", response_model=CategoryOut, summary="Change a category (admins)")
async def update_category(
    category_id: IdPath, body: CategoryIn, ctx: AdminAuth, session: Session
) -> CategoryOut:
    shop = await get_shop(session, ctx.shop_id)
    category = await service.save_category(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        shop_languages=shop.languages,
        slug=body.slug,
        names=dict(body.names),
        descriptions=dict(body.descriptions),
        position=body.position,
        category_id=category_id,
    )
    return CategoryOut.model_validate(category)


@router.get(
    "/search", response_model=SearchOut, summary="Search the help center (internal articles included)"
)
async def search(
    ctx: Auth,
    session: Session,
    q: Annotated[str, Query(max_length=200)],
    language: Annotated[str | None, Query(min_length=2, max_length=8)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    shop = await get_shop(session, ctx.shop_id)
    result = await search_engine.search(
        session,
        shop_id=ctx.shop_id,
        query=q,
        language=language or shop.default_language,
        default_language=shop.default_language,
        include_internal=True,
        limit=limit,
    )
    return SearchOut(
        query=result.query,
        language=result.language,
        corrections=result.corrections,
        hits=[
            SearchHitOut(
                article_id=h.article_id,
                language=h.language,
                title=h.title,
                slug=h.slug,
                category=h.category,
                visibility=h.visibility,
                snippet=h.snippet,
                via=h.via,
                other_language=h.language != result.language,
            )
            for h in result.hits
        ],
    )


@router.get("/stats", response_model=StatsOut, summary="Deflection and feedback")
async def stats(ctx: Auth, session: Session, days: Annotated[int, Query(ge=1, le=365)] = 30) -> StatsOut:
    deflection = await service.deflection_stats(
        session, shop_id=ctx.shop_id, since=utcnow() - timedelta(days=days)
    )
    totals = await FeedbackRepository(session, ctx.shop_id).totals()
    return StatsOut(
        days=days,
        opened_from_widget=deflection.opened,
        judged=deflection.with_visitor,
        deflected=deflection.deflected,
        chats_after=deflection.chats_after,
        deflection_rate=deflection.rate,
        helpful=sum(y for y, _ in totals.values()),
        not_helpful=sum(n for _, n in totals.values()),
    )
