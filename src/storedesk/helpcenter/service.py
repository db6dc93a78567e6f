"""Help-center write paths (one per state change, each records its event) and the reads the portal,
the chat widget and the editor need. Services never commit; the search cache is told after commit."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.db.session import after_commit
from storedesk.events.service import record
from storedesk.helpcenter import search as search_engine
from storedesk.helpcenter.models import (
    ArticleAttachment,
    ArticleDraft,
    ArticleFeedback,
    ArticleOpen,
    HelpCategory,
)
from storedesk.helpcenter.repository import (
    ArticleRepository,
    AttachmentRepository,
    CategoryRepository,
    DraftRepository,
    OpenRepository,
    RelationRepository,
    SearchIndexRepository,
    VersionRepository,
)
from storedesk.helpcenter.text import LANGUAGES, fold, plain_text, render_markdown, summary, terms, words
from storedesk.kit.actor import Actor
from storedesk.kit.errors import Conflict, NotFound, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.knowledge.models import Article, ArticleVersion

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
VISIBILITIES = ("public", "internal")
MAX_TITLE = 300
MAX_BODY = 100_000
MAX_COMMENT = 2000
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
OPEN_SOURCES = ("portal", "widget", "search")
DEFLECTION_WINDOW = timedelta(minutes=30)
VISITOR = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", fold(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:120] or "article"


def _invalidate_after_commit(session: AsyncSession, shop_id: int) -> None:
    def hook() -> None:
        search_engine.invalidate(shop_id)

    hook.__qualname__ = f"invalidate_help_search_{shop_id}"
    after_commit(session, hook)


def _check_language(language: str, shop_languages: Sequence[str]) -> None:
    if language not in shop_languages:
        raise ValidationFailed(
            f"{language} is not one of the shop's languages", details={"field": "language"}
        )


def _check_text(title: str, body: str) -> tuple[str, str]:
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise ValidationFailed(f"a title needs 1–{MAX_TITLE} characters", details={"field": "title"})
    body = body.strip()
    if not body:
        raise ValidationFailed("write the article's text", details={"field": "body"})
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"the text is longer than {MAX_BODY} characters", details={"field": "body"})
    return title, body


# --- the search index -------------------------------------------------------------------------------------


def index_entry(article: Article, version: ArticleVersion) -> dict[str, object]:
    text = plain_text(version.body)
    language = version.language
    vocabulary = sorted({w for w in words(version.title + "\n" + text) if len(w) >= 3 and not w.isdigit()})
    return {
        "article_id": article.id,
        "language": language,
        "visibility": article.visibility,
        "category": article.category,
        "slug": article.slug,
        "title": version.title,
        "body_text": text,
        "title_terms": " ".join(terms(version.title, language)),
        "body_terms": " ".join(terms(text, language)),
        "words": " ".join(vocabulary),
        "fts_scope": f"xs{article.shop_id} xl{language} xv{article.visibility}",
        "updated_at": utcnow(),
    }


async def reindex_article(session: AsyncSession, *, shop_id: int, article_id: int) -> int:
    """Bring the article's search entries in line with its published versions. Returns how many."""
    article = await ArticleRepository(session, shop_id).get_or_404(article_id)
    versions = await VersionRepository(session, shop_id).for_article(article_id)
    index = SearchIndexRepository(session, shop_id)
    count = 0
    for language, version in versions.items():
        if version.status == "published":
            await index.upsert(index_entry(article, version))
            count += 1
        else:
            await index.remove(article_id, language)
    for language in set(LANGUAGES) - set(versions):
        await index.remove(article_id, language)
    _invalidate_after_commit(session, shop_id)
    return count


async def reindex_shop(session: AsyncSession, *, shop_id: int) -> int:
    """Rebuild the shop's search index from its published versions (bulk; demo seed, CLI, upgrades)."""
    pairs = await VersionRepository(session, shop_id).published(visibility=VISIBILITIES)
    count = await SearchIndexRepository(session, shop_id).replace_all([index_entry(a, v) for a, v in pairs])
    _invalidate_after_commit(session, shop_id)
    return count


# --- categories ---------------------------------------------------------------------------------------------


def _clean_names(values: dict[str, str], shop_languages: Sequence[str], field_: str) -> dict[str, str]:
    cleaned = {lang: " ".join(v.split()) for lang, v in values.items() if v and v.strip()}
    for lang, value in cleaned.items():
        _check_language(lang, shop_languages)
        if len(value) > 300:
            raise ValidationFailed("at most 300 characters", details={"field": f"{field_}_{lang}"})
    return cleaned


async def save_category(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    shop_languages: Sequence[str],
    slug: str,
    names: dict[str, str],
    descriptions: dict[str, str] | None = None,
    position: int = 0,
    category_id: int | None = None,
) -> HelpCategory:
    if not SLUG.match(slug) or len(slug) > 100:
        raise ValidationFailed("the slug is lowercase letters, digits and dashes", details={"field": "slug"})
    cleaned = _clean_names(names, shop_languages, "name")
    if not cleaned:
        raise ValidationFailed("name the category in at least one language", details={"field": "names"})
    repo = CategoryRepository(session, shop_id)
    if category_id is None:
        category = HelpCategory(shop_id=shop_id, slug=slug, position=position, names=cleaned, descriptions={})
        session.add(category)
        old_slug = None
    else:
        category = await repo.get_or_404(category_id)
        old_slug = category.slug
        category.slug = slug
        category.position = position
        category.names = cleaned
    category.descriptions = _clean_names(descriptions or {}, shop_languages, "description")
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a category {slug!r} already exists", details={"field": "slug"}) from exc
    if old_slug is not None and old_slug != slug:
        for article in await ArticleRepository(session, shop_id).list(category=old_slug):
            article.category = slug
            await reindex_article(session, shop_id=shop_id, article_id=article.id)
    await record(
        session,
        shop_id=shop_id,
        type="help.category_saved",
        actor=actor,
        data={"category_id": category.id, "slug": slug},
    )
    return category


# --- articles -----------------------------------------------------------------------------------------------


async def create_article(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    shop_languages: Sequence[str],
    category: str,
    visibility: str,
    language: str,
    title: str,
    body: str,
    slug: str | None = None,
    publish: bool = False,
) -> Article:
    title, body = _check_text(title, body)
    _check_language(language, shop_languages)
    if visibility not in VISIBILITIES:
        raise ValidationFailed("visibility is public or internal", details={"field": "visibility"})
    slug = slug or slugify(title)
    if not SLUG.match(slug):
        raise ValidationFailed("the slug is lowercase letters, digits and dashes", details={"field": "slug"})
    await _check_category(session, shop_id, category)
    article = Article(shop_id=shop_id, slug=slug, category=category, visibility=visibility)
    session.add(article)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"an article with the address {slug!r} exists", details={"field": "slug"}) from exc
    session.add(
        ArticleVersion(
            shop_id=shop_id,
            article_id=article.id,
            language=language,
            title=title,
            body=body,
            status="published" if publish else "draft",
        )
    )
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="help.article_created",
        actor=actor,
        data={"article_id": article.id, "language": language, "published": publish},
    )
    if publish:
        await reindex_article(session, shop_id=shop_id, article_id=article.id)
    return article


async def _check_category(session: AsyncSession, shop_id: int, category: str) -> None:
    if not category or await CategoryRepository(session, shop_id).by_slug(category) is None:
        raise ValidationFailed("choose one of the shop's categories", details={"field": "category"})


async def update_article(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    article_id: int,
    slug: str,
    category: str,
    visibility: str,
) -> Article:
    article = await ArticleRepository(session, shop_id).get_for_update(article_id)
    if visibility not in VISIBILITIES:
        raise ValidationFailed("visibility is public or internal", details={"field": "visibility"})
    if not SLUG.match(slug):
        raise ValidationFailed("the slug is lowercase letters, digits and dashes", details={"field": "slug"})
    if category != article.category:
        await _check_category(session, shop_id, category)
    before = {"slug": article.slug, "category": article.category, "visibility": article.visibility}
    article.slug, article.category, article.visibility = slug, category, visibility
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"an article with the address {slug!r} exists", details={"field": "slug"}) from exc
    after = {"slug": slug, "category": category, "visibility": visibility}
    if before != after:
        await record(
            session,
            shop_id=shop_id,
            type="help.article_updated",
            actor=actor,
            data={"article_id": article.id, "before": before, "after": after},
        )
        await reindex_article(session, shop_id=shop_id, article_id=article.id)
    return article


@dataclass
class SavedVersion:
    version: ArticleVersion
    draft: ArticleDraft | None
    published: bool


async def save_version(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    shop_languages: Sequence[str],
    article_id: int,
    language: str,
    title: str,
    body: str,
    publish: bool,
) -> SavedVersion:
    """Save a language version. Publishing makes the text live; saving a draft of a published version
    keeps the live text and stores the change aside until it is published."""
    title, body = _check_text(title, body)
    _check_language(language, shop_languages)
    await ArticleRepository(session, shop_id).get_for_update(article_id)
    versions = VersionRepository(session, shop_id)
    drafts = DraftRepository(session, shop_id)
    version = await versions.get_for_update_by(article_id, language)
    draft = await drafts.one(article_id, language)
    if version is None:
        version = ArticleVersion(
            shop_id=shop_id,
            article_id=article_id,
            language=language,
            title=title,
            body=body,
            status="published" if publish else "draft",
        )
        session.add(version)
    elif publish or version.status == "draft":
        version.title, version.body = title, body
        if publish:
            version.status = "published"
    else:
        if draft is None:
            draft = ArticleDraft(
                shop_id=shop_id, article_id=article_id, language=language, title=title, body=body
            )
            session.add(draft)
        draft.title, draft.body = title, body
        draft.author_agent_id = actor.id if actor.type == "agent" else None
    if publish and draft is not None:
        await session.delete(draft)
        draft = None
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="help.article_published" if publish else "help.draft_saved",
        actor=actor,
        data={"article_id": article_id, "language": language},
    )
    if publish:
        await reindex_article(session, shop_id=shop_id, article_id=article_id)
    return SavedVersion(version, draft, version.status == "published")


async def unpublish(
    session: AsyncSession, *, shop_id: int, actor: Actor, article_id: int, language: str
) -> ArticleVersion:
    version = await VersionRepository(session, shop_id).get_for_update_by(article_id, language)
    if version is None:
        raise NotFound("article version", f"{article_id}/{language}")
    if version.status != "published":
        raise Conflict("this language version is not published")
    version.status = "draft"
    await record(
        session,
        shop_id=shop_id,
        type="help.article_unpublished",
        actor=actor,
        data={"article_id": article_id, "language": language},
    )
    await reindex_article(session, shop_id=shop_id, article_id=article_id)
    return version


async def delete_article(session: AsyncSession, *, shop_id: int, actor: Actor, article_id: int) -> None:
    article = await ArticleRepository(session, shop_id).get_for_update(article_id)
    await SearchIndexRepository(session, shop_id).remove(article_id)
    await session.delete(article)
    await record(
        session, shop_id=shop_id, type="help.article_deleted", actor=actor, data={"article_id": article_id}
    )
    _invalidate_after_commit(session, shop_id)


async def set_related(
    session: AsyncSession, *, shop_id: int, actor: Actor, article_id: int, related_ids: Sequence[int]
) -> list[int]:
    articles = ArticleRepository(session, shop_id)
    await articles.get_for_update(article_id)
    wanted = [i for i in dict.fromkeys(related_ids) if i != article_id][:10]
    found = await articles.by_ids(wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound("article", missing[0])
    await RelationRepository(session, shop_id).replace(article_id, wanted)
    await record(
        session,
        shop_id=shop_id,
        type="help.related_changed",
        actor=actor,
        data={"article_id": article_id, "related": wanted},
    )
    return wanted


async def add_attachment(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    article_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    data_dir: Path,
) -> ArticleAttachment:
    await ArticleRepository(session, shop_id).get_or_404(article_id)
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in ATTACHMENT_TYPES:
        raise ValidationFailed(
            "attach images (PNG, JPEG, GIF, WebP), PDF or text files", details={"field": "file"}
        )
    if not data or len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed("a file can be at most 5 MB", details={"field": "file"})
    digest = hashlib.sha256(data).hexdigest()
    key = f"helpcenter/{shop_id}/{digest[:2]}/{digest}"
    path = data_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    safe = re.sub(r"[^\w.\- ]+", "_", Path(filename or "file").name).strip(" .") or "file"
    attachment = ArticleAttachment(
        shop_id=shop_id,
        article_id=article_id,
        filename=safe[:200],
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_key=key,
    )
    session.add(attachment)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="help.attachment_added",
        actor=actor,
        data={"article_id": article_id, "attachment_id": attachment.id, "filename": attachment.filename},
    )
    return attachment


async def delete_attachment(session: AsyncSession, *, shop_id: int, actor: Actor, attachment_id: int) -> None:
    attachment = await AttachmentRepository(session, shop_id).get_or_404(attachment_id)
    await session.delete(attachment)
    await record(
        session,
        shop_id=shop_id,
        type="help.attachment_removed",
        actor=actor,
        data={"article_id": attachment.article_id, "attachment_id": attachment_id},
    )


async def public_attachment(session: AsyncSession, *, shop_id: int, attachment_id: int) -> ArticleAttachment:
    """An attachment visitors may download: its article is public and has a published version."""
    found = await AttachmentRepository(session, shop_id).get(attachment_id)
    if found is None:
        raise NotFound("attachment", attachment_id)
    await _public_article(session, shop_id, found.article_id)
    return found


def attachment_path(data_dir: Path, attachment: ArticleAttachment) -> Path | None:
    root = data_dir.resolve()
    path = (data_dir / attachment.storage_key).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


# --- visitors: feedback, opens, deflection ------------------------------------------------------------------


async def _public_article(session: AsyncSession, shop_id: int, article_id: int) -> Article:
    article = await ArticleRepository(session, shop_id).get(article_id)
    versions = await VersionRepository(session, shop_id).for_article(article_id) if article else {}
    if (
        article is None
        or article.visibility != "public"
        or not any(v.status == "published" for v in versions.values())
    ):
        raise NotFound("article", article_id)
    return article


async def record_feedback(
    session: AsyncSession, *, shop_id: int, slug: str, language: str, helpful: bool, comment: str | None
) -> ArticleFeedback:
    """A visitor's "was this helpful?" (public, published articles only)."""
    found = await ArticleRepository(session, shop_id).by_slug(slug)
    if found is None:
        raise NotFound("article", slug)
    article_id = found.id
    await _public_article(session, shop_id, article_id)
    cleaned = " ".join((comment or "").split())[:MAX_COMMENT] or None
    feedback = ArticleFeedback(
        shop_id=shop_id,
        article_id=article_id,
        language=language if language in LANGUAGES else "en",
        helpful=helpful,
        comment=cleaned,
    )
    session.add(feedback)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="help.feedback",
        actor=Actor("customer"),
        data={"article_id": article_id, "helpful": helpful, "commented": cleaned is not None},
    )
    return feedback


async def record_open(
    session: AsyncSession,
    *,
    shop_id: int,
    article_id: int,
    language: str,
    source: str,
    visitor_id: str | None,
) -> ArticleOpen | None:
    """Count an article opened from the widget's suggestions (deflection ledger). Unknown sources and
    malformed visitor ids are ignored, not errors: this is measurement, not a feature."""
    if source not in OPEN_SOURCES:
        return None
    visitor = visitor_id if visitor_id and VISITOR.match(visitor_id) else None
    row = ArticleOpen(
        shop_id=shop_id,
        article_id=article_id,
        language=language if language in LANGUAGES else "en",
        source=source,
        visitor_id=visitor,
        opened_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


@dataclass
class DeflectionStats:
    opened: int = 0
    with_visitor: int = 0
    deflected: int = 0
    chats_after: int = 0
    by_article: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.deflected / self.with_visitor if self.with_visitor else None


async def deflection_stats(
    session: AsyncSession, *, shop_id: int, since: datetime, now: datetime | None = None
) -> DeflectionStats:
    """Articles opened from the widget; an open is a deflection when the same visitor did not start a
    chat within 30 minutes after it (opens younger than 30 minutes are not judged yet)."""
    now = now or utcnow()
    opens = await OpenRepository(session, shop_id).widget_opens(since)
    stats = DeflectionStats(opened=len(opens))
    judged = [o for o in opens if o.visitor_id and o.opened_at + DEFLECTION_WINDOW <= now]
    stats.with_visitor = len(judged)
    chats = await OpenRepository(session, shop_id).chats_started([o.visitor_id or "" for o in judged], since)
    for o in judged:
        started = chats.get(o.visitor_id or "", [])
        if any(o.opened_at <= t <= o.opened_at + DEFLECTION_WINDOW for t in started):
            stats.chats_after += 1
        else:
            stats.deflected += 1
            stats.by_article[o.article_id] = stats.by_article.get(o.article_id, 0) + 1
    return stats


# --- reads for the portal and the widget --------------------------------------------------------------------


@dataclass
class ArticleView:
    article: Article
    version: ArticleVersion
    html: str
    languages: list[str]  # published languages
    requested: str
    related: list[tuple[Article, ArticleVersion]]
    attachments: Sequence[ArticleAttachment]
    category: HelpCategory | None

    @property
    def translated(self) -> bool:
        return self.version.language != self.requested

    @property
    def description(self) -> str:
        return summary(plain_text(self.version.body))


def pick_version(versions: dict[str, ArticleVersion], language: str, default: str) -> ArticleVersion | None:
    published = {lang: v for lang, v in versions.items() if v.status == "published"}
    for lang in (language, default, *sorted(published)):
        if lang in published:
            return published[lang]
    return None


async def article_view(
    session: AsyncSession,
    *,
    shop_id: int,
    slug: str,
    language: str,
    default_language: str,
    include_internal: bool = False,
) -> ArticleView:
    article = await ArticleRepository(session, shop_id).by_slug(slug)
    if article is None or (article.visibility != "public" and not include_internal):
        raise NotFound("article", slug)
    versions_repo = VersionRepository(session, shop_id)
    versions = await versions_repo.for_article(article.id)
    version = pick_version(versions, language, default_language)
    if version is None:
        raise NotFound("article", slug)
    related_ids = await RelationRepository(session, shop_id).related_ids(article.id)
    related_articles = await ArticleRepository(session, shop_id).by_ids(related_ids)
    related_versions = await versions_repo.for_articles(related_ids)
    related: list[tuple[Article, ArticleVersion]] = []
    for rid in related_ids:
        other = related_articles.get(rid)
        if other is None or (other.visibility != "public" and not include_internal):
            continue
        chosen = pick_version(related_versions.get(rid, {}), language, default_language)
        if chosen is not None:
            related.append((other, chosen))
    return ArticleView(
        article=article,
        version=version,
        html=render_markdown(version.body),
        languages=sorted(lang for lang, v in versions.items() if v.status == "published"),
        requested=language,
        related=related,
        attachments=await AttachmentRepository(session, shop_id).for_article(article.id),
        category=await CategoryRepository(session, shop_id).by_slug(article.category),
    )


@dataclass
class CategoryView:
    category: HelpCategory | None
    slug: str
    articles: list[tuple[Article, ArticleVersion]]


async def portal_categories(
    session: AsyncSession, *, shop_id: int, language: str, default_language: str
) -> list[CategoryView]:
    """Every category with its public, published articles (in the reader's language where possible)."""
    categories = {c.slug: c for c in await CategoryRepository(session, shop_id).list()}
    grouped: dict[str, dict[int, dict[str, ArticleVersion]]] = {}
    articles: dict[int, Article] = {}
    for article, version in await VersionRepository(session, shop_id).published(visibility=("public",)):
        articles[article.id] = article
        grouped.setdefault(article.category, {}).setdefault(article.id, {})[version.language] = version
    order = list(categories) + sorted(set(grouped) - set(categories))
    out: list[CategoryView] = []
    for slug in order:
        items: list[tuple[Article, ArticleVersion]] = []
        for article_id, versions in grouped.get(slug, {}).items():
            chosen = pick_version(versions, language, default_language)
            if chosen is not None:
                items.append((articles[article_id], chosen))
        if items:
            out.append(CategoryView(categories.get(slug), slug, items))
    return out


def category_name(category: HelpCategory | None, slug: str, language: str, default_language: str) -> str:
    if category is None:
        return slug
    names = category.names or {}
    return str(names.get(language) or names.get(default_language) or next(iter(names.values()), slug))


async def suggest(
    session: AsyncSession, *, shop_id: int, query: str, language: str, default_language: str, limit: int = 5
) -> search_engine.SearchResult:
    """What the chat widget shows while the visitor types (public articles only)."""
    return await search_engine.search(
        session,
        shop_id=shop_id,
        query=query,
        language=language,
        default_language=default_language,
        include_internal=False,
        limit=limit,
    )
