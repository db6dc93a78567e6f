"""The help-center editor in the agent UI (``/app/help``): agents and admins write, viewers read.

Session cookie + CSRF come from ``storedesk.web.deps`` (``Web``/``AgentWeb``/``AdminWeb``); every change
calls one help-center service function.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse

from storedesk.api.deps import Session
from storedesk.helpcenter import service
from storedesk.helpcenter.agent_pages import agent_page
from storedesk.helpcenter.repository import (
    ArticleRepository,
    AttachmentRepository,
    CategoryRepository,
    DraftRepository,
    FeedbackRepository,
    RelationRepository,
    VersionRepository,
)
from storedesk.helpcenter.text import LANGUAGE_NAMES, render_markdown
from storedesk.kit.errors import StoredeskError
from storedesk.kit.time import utcnow
from storedesk.web.deps import AdminWeb, AgentWeb, Web, WebContext, WebRoute, redirect
from storedesk.web.i18n import _

router = APIRouter(prefix="/app/help", route_class=WebRoute)


def _message(exc: StoredeskError) -> str:
    return _(exc.message)


async def _list_context(session: Session, ctx: WebContext) -> dict[str, Any]:
    articles = await ArticleRepository(session, ctx.shop_id).list()
    versions = await VersionRepository(session, ctx.shop_id).for_articles([a.id for a in articles])
    feedback = await FeedbackRepository(session, ctx.shop_id).totals()
    categories = {c.slug: c for c in await CategoryRepository(session, ctx.shop_id).list()}
    stats = await service.deflection_stats(session, shop_id=ctx.shop_id, since=utcnow() - timedelta(days=30))
    rows = []
    for article in articles:
        by_lang = versions.get(article.id, {})
        title_version = service.pick_version(by_lang, ctx.language, ctx.shop.default_language) or next(
            iter(by_lang.values()), None
        )
        rows.append(
            {
                "article": article,
                "title": title_version.title if title_version else article.slug,
                "versions": by_lang,
                "feedback": feedback.get(article.id, (0, 0)),
                "category": service.category_name(
                    categories.get(article.category),
                    article.category,
                    ctx.language,
                    ctx.shop.default_language,
                ),
            }
        )
    return {"rows": rows, "stats": stats, "categories": categories, "help_nav": "articles"}


@router.get("")
async def article_list(request: Request, ctx: Web, session: Session) -> HTMLResponse:
    return agent_page(request, "agent/help_list.html", await _list_context(session, ctx))


@router.get("/new")
async def new_article(request: Request, ctx: AgentWeb, session: Session) -> HTMLResponse:
    categories = await CategoryRepository(session, ctx.shop_id).list()
    return agent_page(
        request,
        "agent/help_new.html",
        {
            "categories": categories,
            "values": {"language": ctx.shop.default_language},
            "errors": {},
            "help_nav": "articles",
        },
    )


@router.post("")
async def create_article(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    title: Annotated[str, Form(max_length=400)] = "",
    body: Annotated[str, Form(max_length=120_000)] = "",
    category: Annotated[str, Form(max_length=100)] = "",
    visibility: Annotated[str, Form(max_length=16)] = "public",
    language: Annotated[str, Form(max_length=8)] = "",
    slug: Annotated[str, Form(max_length=200)] = "",
    action: Annotated[str, Form(max_length=16)] = "draft",
) -> Response:
    try:
        article = await service.create_article(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            shop_languages=ctx.shop.languages,
            category=category,
            visibility=visibility,
            language=language,
            title=title,
            body=body,
            slug=slug.strip() or None,
            publish=action == "publish",
        )
    except StoredeskError as exc:
        await session.rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return agent_page(
            request,
            "agent/help_new.html",
            {
                "categories": await CategoryRepository(session, ctx.shop_id).list(),
                "values": {
                    "title": title,
                    "body": body,
                    "category": category,
                    "visibility": visibility,
                    "language": language,
                    "slug": slug,
                },
                "errors": {str(field or "title"): _message(exc)},
                "help_nav": "articles",
            },
            status_code=422,
        )
    flash = _("Article published.") if action == "publish" else _("Draft saved.")
    return redirect(f"/app/help/{article.id}?lang={language}", flash=flash, request=request)


async def _editor_context(
    session: Session, ctx: WebContext, article_id: int, lang: str | None
) -> dict[str, Any]:
    article = await ArticleRepository(session, ctx.shop_id).get_or_404(article_id)
    versions = await VersionRepository(session, ctx.shop_id).for_article(article.id)
    drafts = await DraftRepository(session, ctx.shop_id).for_article(article.id)
    languages = list(ctx.shop.languages)
    current = lang if lang in languages else (next(iter(versions), None) or ctx.shop.default_language)
    version = versions.get(current)
    draft = drafts.get(current)
    editing = draft or version
    related_ids = await RelationRepository(session, ctx.shop_id).related_ids(article.id)
    all_articles = await ArticleRepository(session, ctx.shop_id).list()
    all_versions = await VersionRepository(session, ctx.shop_id).for_articles([a.id for a in all_articles])
    titles = {}
    for other in all_articles:
        chosen = service.pick_version(all_versions.get(other.id, {}), ctx.language, ctx.shop.default_language)
        titles[other.id] = chosen.title if chosen else other.slug
    yes, no = (await FeedbackRepository(session, ctx.shop_id).totals([article.id])).get(article.id, (0, 0))
    return {
        "article": article,
        "versions": versions,
        "drafts": drafts,
        "shop_languages": languages,
        "language_names": LANGUAGE_NAMES,
        "current": current,
        "version": version,
        "draft": draft,
        "title": editing.title if editing else "",
        "body": editing.body if editing else "",
        "preview": render_markdown(editing.body) if editing else "",
        "related_ids": related_ids,
        "titles": titles,
        "categories": await CategoryRepository(session, ctx.shop_id).list(),
        "attachments": await AttachmentRepository(session, ctx.shop_id).for_article(article.id),
        "comments": await FeedbackRepository(session, ctx.shop_id).comments(article.id),
        "feedback": (yes, no),
        "errors": {},
        "help_nav": "articles",
        "can_edit": ctx.can("agent"),
    }


@router.get("/{article_id:int}")
async def editor(
    request: Request, ctx: Web, session: Session, article_id: int, lang: str | None = None
) -> HTMLResponse:
    return agent_page(request, "agent/help_edit.html", await _editor_context(session, ctx, article_id, lang))


@router.post("/{article_id:int}/versions/{lang}")
async def save_version(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    article_id: int,
    lang: str,
    title: Annotated[str, Form(max_length=400)] = "",
    body: Annotated[str, Form(max_length=120_000)] = "",
    action: Annotated[str, Form(max_length=16)] = "draft",
) -> Response:
    try:
        await service.save_version(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            shop_languages=ctx.shop.languages,
            article_id=article_id,
            language=lang,
            title=title,
            body=body,
            publish=action == "publish",
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        await session.rollback()
        context = await _editor_context(session, ctx, article_id, lang)
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        context.update(title=title, body=body, errors={str(field or "body"): _message(exc)})
        return agent_page(request, "agent/help_edit.html", context, status_code=422)
    flash = _("Published.") if action == "publish" else _("Draft saved.")
    return redirect(f"/app/help/{article_id}?lang={lang}", flash=flash, request=request)


@router.post("/{article_id:int}/versions/{lang}/unpublish")
async def unpublish(
    request: Request, ctx: AgentWeb, session: Session, article_id: int, lang: str
) -> Response:
    await service.unpublish(
        session, shop_id=ctx.shop_id, actor=ctx.auth.actor, article_id=article_id, language=lang
    )
    return redirect(f"/app/help/{article_id}?lang={lang}", flash=_("Unpublished."), request=request)


@router.post("/{article_id:int}/settings")
async def article_settings(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    article_id: int,
    slug: Annotated[str, Form(max_length=200)] = "",
    category: Annotated[str, Form(max_length=100)] = "",
    visibility: Annotated[str, Form(max_length=16)] = "public",
    related: Annotated[list[int] | None, Form()] = None,
) -> Response:
    try:
        await service.update_article(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            article_id=article_id,
            slug=slug.strip(),
            category=category,
            visibility=visibility,
        )
        await service.set_related(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            article_id=article_id,
            related_ids=related or [],
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        await session.rollback()
        context = await _editor_context(session, ctx, article_id, None)
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        context["errors"] = {str(field or "slug"): _message(exc)}
        return agent_page(request, "agent/help_edit.html", context, status_code=422)
    return redirect(f"/app/help/{article_id}", flash=_("Saved."), request=request)


@router.post("/{article_id:int}/attachments")
async def upload(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    article_id: int,
    file: Annotated[UploadFile, File()],
) -> Response:
    data = await file.read(service.MAX_ATTACHMENT_BYTES + 1)
    try:
        await service.add_attachment(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            article_id=article_id,
            filename=file.filename or "file",
            content_type=file.content_type or "application/octet-stream",
            data=data,
            data_dir=request.app.state.settings.data_dir,
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        return redirect(f"/app/help/{article_id}", flash=_message(exc), request=request)
    return redirect(f"/app/help/{article_id}", flash=_("File attached."), request=request)


@router.post("/{article_id:int}/attachments/{attachment_id:int}/delete")
async def remove_attachment(
    request: Request, ctx: AgentWeb, session: Session, article_id: int, attachment_id: int
) -> Response:
    found = await AttachmentRepository(session, ctx.shop_id).get_or_404(attachment_id)
    if found.article_id != article_id:
        from storedesk.kit.errors import NotFound

        raise NotFound("attachment", attachment_id)
    await service.delete_attachment(
        session, shop_id=ctx.shop_id, actor=ctx.auth.actor, attachment_id=attachment_id
    )
    return redirect(f"/app/help/{article_id}", flash=_("File removed."), request=request)


@router.post("/{article_id:int}/delete")
async def delete(request: Request, ctx: AdminWeb, session: Session, article_id: int) -> Response:
    await service.delete_article(session, shop_id=ctx.shop_id, actor=ctx.auth.actor, article_id=article_id)
    return redirect("/app/help", flash=_("Article deleted."), request=request)


@router.post("/preview")
async def preview(ctx: Web, body: Annotated[str, Form(max_length=120_000)] = "") -> HTMLResponse:
    """The sanitised HTML of a body being edited (htmx swaps it into the preview pane)."""
    return HTMLResponse(render_markdown(body), headers={"Cache-Control": "no-store"})


# --- categories (admins) ---------------------------------------------------------------------------------


@router.get("/categories")
async def categories(request: Request, ctx: Web, session: Session) -> HTMLResponse:
    return agent_page(
        request,
        "agent/help_categories.html",
        {
            "categories": await CategoryRepository(session, ctx.shop_id).list(),
            "shop_languages": list(ctx.shop.languages),
            "language_names": LANGUAGE_NAMES,
            "errors": {},
            "values": {},
            "help_nav": "categories",
        },
    )


@router.post("/categories")
async def save_category(request: Request, ctx: AdminWeb, session: Session) -> Response:
    form = await request.form()
    names = {lang: str(form.get(f"name_{lang}") or "") for lang in ctx.shop.languages}
    descriptions = {lang: str(form.get(f"description_{lang}") or "") for lang in ctx.shop.languages}
    raw_id = str(form.get("category_id") or "")
    raw_position = str(form.get("position") or "0")
    try:
        await service.save_category(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            shop_languages=ctx.shop.languages,
            slug=str(form.get("slug") or "").strip(),
            names=names,
            descriptions=descriptions,
            position=int(raw_position) if raw_position.lstrip("-").isdigit() and len(raw_position) < 6 else 0,
            category_id=int(raw_id) if raw_id.isdigit() and len(raw_id) < 18 else None,
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        await session.rollback()
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return agent_page(
            request,
            "agent/help_categories.html",
            {
                "categories": await CategoryRepository(session, ctx.shop_id).list(),
                "shop_languages": list(ctx.shop.languages),
                "language_names": LANGUAGE_NAMES,
                "errors": {str(field or "slug"): _message(exc)},
                "values": dict(form),
                "help_nav": "categories",
            },
            status_code=422,
        )
    return redirect("/app/help/categories", flash=_("Category saved."), request=request)
