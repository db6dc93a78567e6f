"""The public help center (``/help/{shop}/{lang}/…``), the chat widget's suggestions
(``/help/{shop}/suggest``) and, through ``agent_routes``, the editor in the agent UI (``/app/help``).

Public pages are indexable: one URL per language, ``hreflang`` alternates, a sitemap, canonical links
and JSON-LD; they work without JavaScript.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

import storedesk.helpcenter.i18n
import storedesk.returns.i18n
import storedesk.tracking.i18n  # noqa: F401
from storedesk.api.deps import Session
from storedesk.helpcenter import agent_routes, service
from storedesk.helpcenter.models import HelpCategory
from storedesk.helpcenter.public import (
    LANG_COOKIE,
    STATIC_DIR,
    env,
    locale,
    negotiate,
    render_public,
    switcher,
    t,
)
from storedesk.helpcenter.repository import VersionRepository
from storedesk.helpcenter.text import LANGUAGES, plain_text, summary
from storedesk.kit.errors import NotFound, StoredeskError, TooManyRequests
from storedesk.shops.models import Shop
from storedesk.shops.service import get_shop_by_slug
from storedesk.tracking import limits

STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
SLUG = r"^[a-z0-9][a-z0-9-]{0,199}$"


class PublicRoute(APIRoute):
    """Errors on public pages leave as a small HTML page in the visitor's language, not API JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except TooManyRequests as exc:
                retry = exc.details.get("retry_after", 60) if isinstance(exc.details, dict) else 60
                return Response(
                    "Too many requests",
                    status_code=429,
                    headers={"Retry-After": str(retry)},
                    media_type="text/plain",
                )
            except StoredeskError as exc:
                if request.url.path.endswith(("/suggest", ".json")):
                    return JSONResponse(exc.as_body(), status_code=exc.status_code)
                return Response(
                    "Not found" if exc.status_code == 404 else exc.message,
                    status_code=exc.status_code,
                    media_type="text/plain",
                )

        return wrapped


router = APIRouter(include_in_schema=False, route_class=PublicRoute)


def language_name(code: str, reader: str) -> str:
    """``code``'s name in the reader's language ("angol" for a Hungarian reader of English)."""
    name = locale(reader).languages.get(code) or code
    return str(name)


async def shop_for(session: Session, slug: str) -> Shop:
    if len(slug) > 64:
        raise NotFound("shop", slug)
    return await get_shop_by_slug(session, slug)


def base_url(request: Request) -> str:
    configured: str = getattr(request.app.state.settings, "base_url", "") or ""
    return configured.rstrip("/") or str(request.base_url).rstrip("/")


def frame(shop: Shop, lang: str, nav: str, link_for: Callable[[str], str]) -> dict[str, Any]:
    return {
        "shop": shop,
        "nav": nav,
        "lang_links": [
            (code, name, link_for(code), current) for code, name, current in switcher(lang, shop.languages)
        ],
        "lang_name": lambda code: language_name(code, lang),
    }


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise NotFound("language", lang)
    return lang


def _category_name(category: HelpCategory | None, slug: str, lang: str, default: str) -> str:
    return service.category_name(category, slug, lang, default)


# --- static files -------------------------------------------------------------------------------------------


@router.get("/help/static/{name}")
async def static_file(name: str) -> Response:
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        return Response(status_code=404)
    return FileResponse(
        path,
        media_type=STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


# --- pages --------------------------------------------------------------------------------------------------


@router.get("/help/{shop_slug}")
async def portal_root(request: Request, session: Session, shop_slug: str) -> Response:
    shop = await shop_for(session, shop_slug)
    lang = negotiate(request, shop.default_language)
    return RedirectResponse(
        f"/help/{shop.slug}/{lang}", status_code=302, headers={"Vary": "Accept-Language, Cookie"}
    )


@router.get("/help/{shop_slug}/sitemap.xml")
async def sitemap(request: Request, session: Session, shop_slug: str) -> Response:
    shop = await shop_for(session, shop_slug)
    root = base_url(request)
    by_article: dict[int, dict[str, Any]] = {}
    for article, version in await VersionRepository(session, shop.id).published(visibility=("public",)):
        entry = by_article.setdefault(article.id, {"slug": article.slug, "versions": {}})
        entry["versions"][version.language] = version.updated_at
    urls: list[tuple[str, str | None, list[tuple[str, str]]]] = []
    for lang in [code for code in shop.languages if code in LANGUAGES]:
        urls.append((f"{root}/help/{shop.slug}/{lang}", None, []))
    for entry in by_article.values():
        alternates = [
            (lang, f"{root}/help/{shop.slug}/{lang}/a/{entry['slug']}") for lang in sorted(entry["versions"])
        ]
        for lang, updated in sorted(entry["versions"].items()):
            urls.append(
                (f"{root}/help/{shop.slug}/{lang}/a/{entry['slug']}", updated.date().isoformat(), alternates)
            )
    body = env.get_template("public/sitemap.xml").render(urls=urls)
    return Response(body, media_type="application/xml", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/help/{shop_slug}/suggest")
async def suggest(
    request: Request,
    session: Session,
    shop_slug: str,
    q: Annotated[str, Query(max_length=200)] = "",
    lang: Annotated[str | None, Query(max_length=8)] = None,
    visitor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> JSONResponse:
    """Articles for the chat widget while the visitor types (before any conversation exists). CORS-open:
    it serves public articles only. Links carry ``src=widget`` so opening one is counted (deflection)."""
    shop = await shop_for(session, shop_slug)
    limits.suggest_per_ip.check(str(shop.id), limits.client_ip(request))
    reader = negotiate(request, shop.default_language, lang)
    result = await service.suggest(
        session,
        shop_id=shop.id,
        query=q,
        language=reader,
        default_language=shop.default_language,
        limit=limit,
    )
    root = base_url(request)
    tail = "?src=widget" + (f"&v={quote(visitor)}" if visitor and service.VISITOR.match(visitor) else "")
    articles = [
        {
            "id": hit.article_id,
            "title": hit.title,
            "snippet": hit.snippet,
            "language": hit.language,
            "language_name": language_name(hit.language, reader),
            "other_language": hit.language != reader,
            "url": f"{root}/help/{shop.slug}/{reader}/a/{hit.slug}{tail}",
        }
        for hit in result.hits
    ]
    return JSONResponse(
        {"query": result.query, "language": reader, "articles": articles},
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store", "Vary": "Accept-Language"},
    )


@router.get("/help/{shop_slug}/files/{attachment_id}/{filename}")
async def attachment(
    request: Request, session: Session, shop_slug: str, attachment_id: int, filename: str
) -> Response:
    shop = await shop_for(session, shop_slug)
    found = await service.public_attachment(session, shop_id=shop.id, attachment_id=attachment_id)
    path = service.attachment_path(request.app.state.settings.data_dir, found)
    if path is None:
        raise NotFound("attachment", attachment_id)
    inline = found.content_type.startswith("image/") or found.content_type == "application/pdf"
    return FileResponse(
        path,
        media_type=found.content_type,
        filename=found.filename,
        content_disposition_type="inline" if inline else "attachment",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/help/{shop_slug}/{lang}")
async def home(request: Request, session: Session, shop_slug: str, lang: str) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    _check_lang(lang)
    categories = await service.portal_categories(
        session, shop_id=shop.id, language=lang, default_language=shop.default_language
    )
    root = base_url(request)
    return render_public(
        request,
        "public/home.html",
        {
            **frame(shop, lang, "help", lambda code: f"/help/{shop.slug}/{code}"),
            "categories": categories,
            "category_name": lambda c: _category_name(c.category, c.slug, lang, shop.default_language),
            "canonical": f"{root}/help/{shop.slug}/{lang}",
            "alternates": [
                (code, f"{root}/help/{shop.slug}/{code}") for code in shop.languages if code in LANGUAGES
            ],
            "og_title": f"{t(lang, 'portal.help')} · {shop.name}",
            "q": "",
        },
        lang=lang,
        cache_seconds=60,
        set_language=request.cookies.get(LANG_COOKIE) != lang,
    )


@router.get("/help/{shop_slug}/{lang}/c/{category}")
async def category_page(
    request: Request, session: Session, shop_slug: str, lang: str, category: str
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    _check_lang(lang)
    views = await service.portal_categories(
        session, shop_id=shop.id, language=lang, default_language=shop.default_language
    )
    view = next((v for v in views if v.slug == category), None)
    if view is None:
        raise NotFound("category", category)
    root = base_url(request)
    name = _category_name(view.category, view.slug, lang, shop.default_language)
    description = (view.category.descriptions or {}).get(lang) if view.category else None
    return render_public(
        request,
        "public/category.html",
        {
            **frame(shop, lang, "help", lambda code: f"/help/{shop.slug}/{code}/c/{category}"),
            "name": name,
            "description": description,
            "articles": view.articles,
            "summaries": {a.id: summary(plain_text(v.body)) for a, v in view.articles},
            "canonical": f"{root}/help/{shop.slug}/{lang}/c/{category}",
            "alternates": [
                (code, f"{root}/help/{shop.slug}/{code}/c/{category}")
                for code in shop.languages
                if code in LANGUAGES
            ],
            "og_title": name,
        },
        lang=lang,
        cache_seconds=60,
    )


@router.get("/help/{shop_slug}/{lang}/search")
async def search_page(
    request: Request,
    session: Session,
    shop_slug: str,
    lang: str,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    _check_lang(lang)
    result = await service.suggest(
        session, shop_id=shop.id, query=q, language=lang, default_language=shop.default_language, limit=20
    )
    corrected = " ".join(result.corrections.get(w, w) for w in q.split())
    return render_public(
        request,
        "public/search.html",
        {
            **frame(shop, lang, "help", lambda code: f"/help/{shop.slug}/{code}/search?q={quote(q)}"),
            "q": q,
            "result": result,
            "corrected": corrected,
        },
        lang=lang,
    )


@router.get("/help/{shop_slug}/{lang}/a/{slug}")
async def article_page(
    request: Request,
    session: Session,
    shop_slug: str,
    lang: str,
    slug: str,
    src: Annotated[str | None, Query(max_length=16)] = None,
    v: Annotated[str | None, Query(max_length=64)] = None,
    thanks: Annotated[str | None, Query(max_length=4)] = None,
    embed: Annotated[str | None, Query(max_length=2)] = None,
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    _check_lang(lang)
    embedded = embed == "1"
    view = await service.article_view(
        session, shop_id=shop.id, slug=slug, language=lang, default_language=shop.default_language
    )
    if src:
        await service.record_open(
            session, shop_id=shop.id, article_id=view.article.id, language=lang, source=src, visitor_id=v
        )
    root = base_url(request)
    version_lang = view.version.language
    canonical = f"{root}/help/{shop.slug}/{version_lang}/a/{slug}"
    structured = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": view.version.title,
            "inLanguage": version_lang,
            "dateModified": view.version.updated_at.isoformat(),
            "description": view.description,
            "publisher": {"@type": "Organization", "name": shop.name},
            "mainEntityOfPage": canonical,
        },
        ensure_ascii=False,
    ).replace("</", "<\\/")
    return render_public(
        request,
        "public/article.html",
        {
            **frame(shop, lang, "help", lambda code: f"/help/{shop.slug}/{code}/a/{slug}"),
            "view": view,
            "thanks": thanks == "1",
            "category_label": _category_name(
                view.category, view.article.category, lang, shop.default_language
            ),
            "canonical": canonical,
            "alternates": [(code, f"{root}/help/{shop.slug}/{code}/a/{slug}") for code in view.languages],
            "og_title": view.version.title,
            "og_type": "article",
            "structured": structured,
            "q": "",
        },
        lang=lang,
        embed=embedded,
        cache_seconds=0 if src or thanks or embedded else 60,
    )


@router.post("/help/{shop_slug}/{lang}/a/{slug}/feedback")
async def feedback(
    request: Request,
    session: Session,
    shop_slug: str,
    lang: str,
    slug: str,
    helpful: Annotated[str, Form(max_length=3)],
    comment: Annotated[str, Form(max_length=4000)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
    embed: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    shop = await shop_for(session, shop_slug)
    _check_lang(lang)
    limits.feedback_per_ip.check(str(shop.id), limits.client_ip(request))
    if helpful not in ("yes", "no"):
        raise NotFound("article", slug)
    await service.record_feedback(
        session,
        shop_id=shop.id,
        slug=slug,
        language=language if language in LANGUAGES else lang,
        helpful=helpful == "yes",
        comment=comment,
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, "message": t(lang, "help.thanks")})
    embedded = "&embed=1" if embed == "1" else ""
    return RedirectResponse(f"/help/{shop.slug}/{lang}/a/{slug}?thanks=1{embedded}#fb-title", status_code=303)


router.include_router(agent_routes.router)
