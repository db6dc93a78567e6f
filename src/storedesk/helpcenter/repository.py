"""Tenant-scoped queries of the help center, the search index and its two full-text backends.

Every statement starts from the acting shop. The backends sit behind one small interface
(:class:`FullText`): SQLite FTS5 over our own light stems, PostgreSQL ``tsvector`` with one text-search
configuration per language (migration 0200).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels.models import ChatSession
from storedesk.conversations.models import Conversation
from storedesk.helpcenter.models import (
    ArticleAttachment,
    ArticleDraft,
    ArticleFeedback,
    ArticleOpen,
    ArticleRelation,
    HelpCategory,
    SearchEntry,
)
from storedesk.helpcenter.text import stem
from storedesk.kit.repository import ShopRepository
from storedesk.knowledge.models import Article, ArticleVersion

# language → PostgreSQL text-search configuration created by migration 0200
PG_CONFIGS = {lang: f"storedesk_{lang}" for lang in ("en", "de", "hu", "nb", "fr", "sv", "es", "pl")}
PG_DEFAULT_CONFIG = "storedesk_xx"
RANK_CANDIDATES = 400
_SAFE = re.compile(r"^\w+$", re.UNICODE)


class ArticleRepository(ShopRepository[Article]):
    model = Article
    label = "article"

    async def by_slug(self, slug: str) -> Article | None:
        return (await self.session.execute(self.select().where(Article.slug == slug))).scalar_one_or_none()

    async def list(self, *, category: str | None = None, visibility: str | None = None) -> Sequence[Article]:
        stmt = self.select()
        if category is not None:
            stmt = stmt.where(Article.category == category)
        if visibility is not None:
            stmt = stmt.where(Article.visibility == visibility)
        return (await self.session.execute(stmt.order_by(Article.category, Article.id))).scalars().all()

    async def by_ids(self, ids: Sequence[int]) -> dict[int, Article]:
        if not ids:
            return {}
        rows = await self.session.execute(self.select().where(Article.id.in_(list(ids))))
        return {a.id: a for a in rows.scalars()}

    async def count(self) -> int:
        stmt = select(func.count()).select_from(Article).where(Article.shop_id == self.shop_id)
        return int((await self.session.execute(stmt)).scalar_one())


class VersionRepository(ShopRepository[ArticleVersion]):
    model = ArticleVersion
    label = "article version"

    async def for_article(self, article_id: int) -> dict[str, ArticleVersion]:
        rows = await self.session.execute(self.select().where(ArticleVersion.article_id == article_id))
        return {v.language: v for v in rows.scalars()}

    async def for_articles(self, article_ids: Sequence[int]) -> dict[int, dict[str, ArticleVersion]]:
        out: dict[int, dict[str, ArticleVersion]] = {aid: {} for aid in article_ids}
        if article_ids:
            rows = await self.session.execute(
                self.select().where(ArticleVersion.article_id.in_(list(article_ids)))
            )
            for v in rows.scalars():
                out.setdefault(v.article_id, {})[v.language] = v
        return out

    async def published(self, *, visibility: Sequence[str]) -> Sequence[tuple[Article, ArticleVersion]]:
        stmt = (
            select(Article, ArticleVersion)
            .join(ArticleVersion, ArticleVersion.article_id == Article.id)
            .where(
                Article.shop_id == self.shop_id,
                ArticleVersion.shop_id == self.shop_id,
                ArticleVersion.status == "published",
                Article.visibility.in_(list(visibility)),
            )
            .order_by(Article.category, Article.id)
        )
        return [(a, v) for a, v in (await self.session.execute(stmt)).all()]

    async def get_for_update_by(self, article_id: int, language: str) -> ArticleVersion | None:
        stmt = (
            self.select()
            .where(ArticleVersion.article_id == article_id, ArticleVersion.language == language)
            .with_for_update()
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class CategoryRepository(ShopRepository[HelpCategory]):
    model = HelpCategory
    label = "category"

    async def list(self) -> Sequence[HelpCategory]:
        stmt = self.select().order_by(HelpCategory.position, HelpCategory.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def by_slug(self, slug: str) -> HelpCategory | None:
        stmt = self.select().where(HelpCategory.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class DraftRepository(ShopRepository[ArticleDraft]):
    model = ArticleDraft
    label = "draft"

    async def for_article(self, article_id: int) -> dict[str, ArticleDraft]:
        rows = await self.session.execute(self.select().where(ArticleDraft.article_id == article_id))
        return {d.language: d for d in rows.scalars()}

    async def one(self, article_id: int, language: str) -> ArticleDraft | None:
        stmt = self.select().where(ArticleDraft.article_id == article_id, ArticleDraft.language == language)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class RelationRepository(ShopRepository[ArticleRelation]):
    model = ArticleRelation
    label = "related article"

    async def related_ids(self, article_id: int) -> list[int]:
        stmt = (
            select(ArticleRelation.related_id)
            .where(ArticleRelation.shop_id == self.shop_id, ArticleRelation.article_id == article_id)
            .order_by(ArticleRelation.position, ArticleRelation.id)
        )
        return [int(r) for r in (await self.session.execute(stmt)).scalars()]

    async def replace(self, article_id: int, related_ids: Sequence[int]) -> None:
        await self.session.execute(
            delete(ArticleRelation).where(
                ArticleRelation.shop_id == self.shop_id, ArticleRelation.article_id == article_id
            )
        )
        for position, related in enumerate(related_ids):
            self.session.add(
                ArticleRelation(
                    shop_id=self.shop_id, article_id=article_id, related_id=related, position=position
                )
            )


class AttachmentRepository(ShopRepository[ArticleAttachment]):
    model = ArticleAttachment
    label = "attachment"

    async def for_article(self, article_id: int) -> Sequence[ArticleAttachment]:
        stmt = self.select().where(ArticleAttachment.article_id == article_id).order_by(ArticleAttachment.id)
        return (await self.session.execute(stmt)).scalars().all()


class FeedbackRepository(ShopRepository[ArticleFeedback]):
    model = ArticleFeedback
    label = "feedback"

    async def totals(self, article_ids: Sequence[int] | None = None) -> dict[int, tuple[int, int]]:
        """article id → (helpful, not helpful)."""
        stmt = (
            select(ArticleFeedback.article_id, ArticleFeedback.helpful, func.count())
            .where(ArticleFeedback.shop_id == self.shop_id)
            .group_by(ArticleFeedback.article_id, ArticleFeedback.helpful)
        )
        if article_ids is not None:
            stmt = stmt.where(ArticleFeedback.article_id.in_(list(article_ids)))
        out: dict[int, tuple[int, int]] = {}
        for article_id, helpful, n in (await self.session.execute(stmt)).all():
            yes, no = out.get(article_id, (0, 0))
            out[article_id] = (yes + int(n), no) if helpful else (yes, no + int(n))
        return out

    async def comments(self, article_id: int, limit: int = 20) -> Sequence[ArticleFeedback]:
        stmt = (
            self.select()
            .where(ArticleFeedback.article_id == article_id, ArticleFeedback.comment.is_not(None))
            .order_by(ArticleFeedback.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()


class OpenRepository(ShopRepository[ArticleOpen]):
    model = ArticleOpen
    label = "article open"

    async def widget_opens(self, since: datetime) -> Sequence[ArticleOpen]:
        stmt = self.select().where(ArticleOpen.source == "widget", ArticleOpen.opened_at >= since)
        return (await self.session.execute(stmt.order_by(ArticleOpen.id))).scalars().all()

    async def chats_started(self, visitor_ids: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        """When each visitor's widget conversation started (read-only look at the chat sessions)."""
        if not visitor_ids:
            return {}
        stmt = (
            select(ChatSession.visitor_id, Conversation.created_at)
            .join(Conversation, Conversation.id == ChatSession.conversation_id)
            .where(
                ChatSession.shop_id == self.shop_id,
                Conversation.shop_id == self.shop_id,
                ChatSession.visitor_id.in_(list(visitor_ids)),
                Conversation.created_at >= since,
            )
        )
        out: dict[str, list[datetime]] = {}
        for visitor, created in (await self.session.execute(stmt)).all():
            out.setdefault(visitor, []).append(created)
        return out


# --- the search index ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRow:
    id: int
    article_id: int
    language: str
    visibility: str
    category: str
    slug: str
    title: str
    body_text: str


class SearchIndexRepository(ShopRepository[SearchEntry]):
    model = SearchEntry
    label = "search entry"

    async def upsert(self, entry: dict[str, Any]) -> SearchEntry:
        stmt = self.select().where(
            SearchEntry.article_id == entry["article_id"], SearchEntry.language == entry["language"]
        )
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            row = SearchEntry(shop_id=self.shop_id, **entry)
            self.session.add(row)
        else:
            for key, value in entry.items():
                setattr(row, key, value)
        await self.session.flush()
        if self.session.get_bind().dialect.name == "postgresql":
            config = PG_CONFIGS.get(entry["language"], PG_DEFAULT_CONFIG)
            await self.session.execute(
                text(
                    "UPDATE help_search_entries SET document = "
                    f"setweight(to_tsvector('{config}', title), 'A') || "
                    f"setweight(to_tsvector('{config}', body_text), 'B'), "
                    f"title_document = to_tsvector('{config}', title) WHERE id = :id AND shop_id = :shop"
                ),
                {"id": row.id, "shop": self.shop_id},
            )
        return row

    async def replace_all(self, entries: Sequence[dict[str, Any]]) -> int:
        """Rebuild the shop's whole index in a few statements (bulk insert; on PostgreSQL one
        ``tsvector`` update per language)."""
        await self.session.execute(delete(SearchEntry).where(SearchEntry.shop_id == self.shop_id))
        if not entries:
            return 0
        rows = [{**entry, "shop_id": self.shop_id} for entry in entries]
        for start in range(0, len(rows), 2000):
            await self.session.execute(insert(SearchEntry), rows[start : start + 2000])
        if self.session.get_bind().dialect.name == "postgresql":
            for language in sorted({str(e["language"]) for e in entries}):
                config = PG_CONFIGS.get(language, PG_DEFAULT_CONFIG)
                await self.session.execute(
                    text(
                        "UPDATE help_search_entries SET document = "
                        f"setweight(to_tsvector('{config}', title), 'A') || "
                        f"setweight(to_tsvector('{config}', body_text), 'B'), "
                        f"title_document = to_tsvector('{config}', title) "
                        "WHERE shop_id = :shop AND language = :lang"
                    ),
                    {"shop": self.shop_id, "lang": language},
                )
            await self.session.execute(text("ANALYZE help_search_entries"))
        return len(rows)

    async def remove(self, article_id: int, language: str | None = None) -> None:
        stmt = delete(SearchEntry).where(
            SearchEntry.shop_id == self.shop_id, SearchEntry.article_id == article_id
        )
        if language is not None:
            stmt = stmt.where(SearchEntry.language == language)
        await self.session.execute(stmt)

    async def fingerprint(self) -> tuple[int, int, str]:
        stmt = select(func.count(), func.max(SearchEntry.id), func.max(SearchEntry.updated_at)).where(
            SearchEntry.shop_id == self.shop_id
        )
        count, max_id, updated = (await self.session.execute(stmt)).one()
        return int(count or 0), int(max_id or 0), str(updated)

    async def vocabulary_rows(self) -> Sequence[tuple[int, int, str, str, str, str]]:
        """(entry id, article id, language, visibility, title, words) of every entry."""
        stmt = select(
            SearchEntry.id,
            SearchEntry.article_id,
            SearchEntry.language,
            SearchEntry.visibility,
            SearchEntry.title,
            SearchEntry.words,
        ).where(SearchEntry.shop_id == self.shop_id)
        return [tuple(r) for r in (await self.session.execute(stmt)).all()]  # type: ignore[misc]

    async def rows(self, entry_ids: Sequence[int]) -> dict[int, EntryRow]:
        if not entry_ids:
            return {}
        stmt = select(
            SearchEntry.id,
            SearchEntry.article_id,
            SearchEntry.language,
            SearchEntry.visibility,
            SearchEntry.category,
            SearchEntry.slug,
            SearchEntry.title,
            SearchEntry.body_text,
        ).where(SearchEntry.shop_id == self.shop_id, SearchEntry.id.in_(list(entry_ids)))
        return {int(r[0]): EntryRow(*r) for r in (await self.session.execute(stmt)).all()}

    async def rows_for_articles(self, article_ids: Sequence[int], language: str) -> list[EntryRow]:
        """The entries of these articles in ``language``."""
        if not article_ids:
            return []
        stmt = select(
            SearchEntry.id,
            SearchEntry.article_id,
            SearchEntry.language,
            SearchEntry.visibility,
            SearchEntry.category,
            SearchEntry.slug,
            SearchEntry.title,
            SearchEntry.body_text,
        ).where(
            SearchEntry.shop_id == self.shop_id,
            SearchEntry.article_id.in_(list(article_ids)),
            SearchEntry.language == language,
        )
        return [EntryRow(*r) for r in (await self.session.execute(stmt)).all()]


class FullText(Protocol):
    async def match_languages(
        self, specs: Sequence[tuple[str, Sequence[Sequence[str]]]], *, visibility: Sequence[str], limit: int
    ) -> list[tuple[int, float, str]]:
        """Any-word matches in several languages at once (the cross-language fallback), up to ``limit``
        per language, best first:
        ``(entry id, score, language)``; each language's words are stemmed in that language."""
        ...

    async def match(
        self,
        language: str,
        groups: Sequence[Sequence[str]],
        *,
        mode: str,
        visibility: Sequence[str],
        limit: int,
        title_only: bool = False,
    ) -> list[tuple[int, float]]:
        """``(entry id, score)`` of entries in ``language``; higher score is better.

        ``groups`` are lists of alternative surface words; ``mode`` ``and`` requires one word of every
        group, ``or`` any word of any group. Words are prefix-matched after stemming. ``title_only``
        looks at titles alone (few matches: cheap to rank even for common words).
        """
        ...


def _clean(words_: Sequence[str]) -> list[str]:
    return [w for w in dict.fromkeys(words_) if w and _SAFE.match(w)]


class SqliteFullText:
    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    @staticmethod
    def expression(
        language: str, groups: Sequence[Sequence[str]], mode: str, title_only: bool = False
    ) -> str | None:
        columns = "title_terms" if title_only else "{title_terms body_terms}"
        parts: list[str] = []
        for group in groups:
            stems = list(dict.fromkeys(stem(w, language) for w in _clean(group)))
            stems = [s for s in stems if s]
            if not stems:
                continue
            parts.append(f"({columns} : (" + " OR ".join(f'"{s}"*' for s in stems) + "))")
        if not parts:
            return None
        return (" AND " if mode == "and" else " OR ").join(parts)

    async def match(
        self,
        language: str,
        groups: Sequence[Sequence[str]],
        *,
        mode: str,
        visibility: Sequence[str],
        limit: int,
        title_only: bool = False,
    ) -> list[tuple[int, float]]:
        expression = self.expression(language, groups, mode, title_only)
        if expression is None:
            return []
        allowed = [v for v in visibility if v in ("public", "internal")]
        scope = (
            f"fts_scope : (xs{self.shop_id} AND xl{language} AND ({' OR '.join(f'xv{v}' for v in allowed)}))"
        )
        rows = await self.session.execute(
            text(
                "SELECT rowid, bm25(help_search_fts, 10.0, 1.0, 0.0) AS rank FROM help_search_fts "
                "WHERE help_search_fts MATCH :q ORDER BY rank LIMIT :limit"
            ),
            {"q": f"{scope} AND ({expression})", "limit": limit},
        )
        return [(int(i), -float(r)) for i, r in rows.all()]

    async def match_languages(
        self, specs: Sequence[tuple[str, Sequence[Sequence[str]]]], *, visibility: Sequence[str], limit: int
    ) -> list[tuple[int, float, str]]:
        allowed = [v for v in visibility if v in ("public", "internal")]
        vis = " OR ".join(f"xv{v}" for v in allowed)
        clauses = []
        for language, groups in specs:
            expression = self.expression(language, groups, "or")
            if expression is not None:
                clauses.append(f"(fts_scope : (xl{language}) AND ({expression}))")
        if not clauses:
            return []
        query = f"fts_scope : (xs{self.shop_id} AND ({vis})) AND ({' OR '.join(clauses)})"
        rows = await self.session.execute(
            text(
                "WITH m AS MATERIALIZED (SELECT f.rowid AS id, bm25(help_search_fts, 10.0, 1.0, 0.0) AS rank, "
                "e.language AS language FROM help_search_fts f JOIN help_search_entries e ON e.id = f.rowid "
                "WHERE help_search_fts MATCH :q AND e.shop_id = :shop) "
                "SELECT id, rank, language FROM (SELECT id, rank, language, row_number() OVER "
                "(PARTITION BY language ORDER BY rank) AS n FROM m) WHERE n <= :limit ORDER BY rank"
            ),
            {"q": query, "shop": self.shop_id, "limit": limit},
        )
        return [(int(i), -float(r), str(lang)) for i, r, lang in rows.all()]


class PostgresFullText:
    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    @staticmethod
    def expression(groups: Sequence[Sequence[str]], mode: str) -> str | None:
        parts: list[str] = []
        for group in groups:
            cleaned = _clean(group)
            if cleaned:
                parts.append("(" + " | ".join(f"{w}:*" for w in cleaned) + ")")
        if not parts:
            return None
        return (" & " if mode == "and" else " | ").join(parts)

    async def match(
        self,
        language: str,
        groups: Sequence[Sequence[str]],
        *,
        mode: str,
        visibility: Sequence[str],
        limit: int,
        title_only: bool = False,
    ) -> list[tuple[int, float]]:
        expression = self.expression(groups, mode)
        column = "title_document" if title_only else "document"
        if expression is None:
            return []
        config = PG_CONFIGS.get(language, PG_DEFAULT_CONFIG)
        # rank at most RANK_CANDIDATES matches: ts_rank_cd reads each document, and a common word can
        # match thousands (titles are searched first, so the best answers are already in)
        rows = await self.session.execute(
            text(
                f"WITH q AS (SELECT to_tsquery('{config}', :q) AS q), "
                f"cand AS (SELECT e.id, e.{column} AS doc FROM help_search_entries e, q WHERE e.shop_id = :shop "
                f"AND e.language = :lang AND e.visibility = ANY(:vis) AND e.{column} @@ q.q LIMIT :cand) "
                "SELECT cand.id, ts_rank_cd('{0.05, 0.1, 0.2, 1.0}', cand.doc, q.q) AS rank "
                "FROM cand, q ORDER BY rank DESC, cand.id LIMIT :limit"
            ),
            {
                "q": expression,
                "shop": self.shop_id,
                "lang": language,
                "vis": list(visibility),
                "cand": RANK_CANDIDATES,
                "limit": limit,
            },
        )
        return [(int(i), float(r)) for i, r in rows.all()]

    async def match_languages(
        self, specs: Sequence[tuple[str, Sequence[Sequence[str]]]], *, visibility: Sequence[str], limit: int
    ) -> list[tuple[int, float, str]]:
        parts: list[str] = []
        params: dict[str, Any] = {"shop": self.shop_id, "vis": list(visibility), "cand": RANK_CANDIDATES}
        for n, (language, groups) in enumerate(specs):
            expression = self.expression(groups, "or")
            if expression is None or (language not in PG_CONFIGS and language != "xx"):
                continue
            config = PG_CONFIGS.get(language, PG_DEFAULT_CONFIG)
            params[f"q{n}"], params[f"l{n}"] = expression, language
            parts.append(
                f"(SELECT c.id, ts_rank_cd('{{0.05, 0.1, 0.2, 1.0}}', c.document, c.q) AS rank, c.language FROM "
                f"(SELECT e.id, e.document, e.language, q.q FROM help_search_entries e, "
                f"to_tsquery('{config}', :q{n}) AS q WHERE e.shop_id = :shop AND e.language = :l{n} "
                f"AND e.visibility = ANY(:vis) AND e.document @@ q.q LIMIT :cand) c "
                "ORDER BY rank DESC, c.id LIMIT :limit)"
            )
        if not parts:
            return []
        params["limit"] = limit
        union = " UNION ALL ".join(parts)
        rows = await self.session.execute(
            text(f"SELECT id, rank, language FROM ({union}) u ORDER BY rank DESC, id"), params
        )
        return [(int(i), float(r), str(lang)) for i, r, lang in rows.all()]


def full_text_for(session: AsyncSession, shop_id: int) -> FullText:
    if session.get_bind().dialect.name == "postgresql":
        return PostgresFullText(session, shop_id)
    return SqliteFullText(session, shop_id)
