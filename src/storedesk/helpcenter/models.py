"""Help-center tables beside ``knowledge.Article``/``ArticleVersion`` (which hold the published text).

``Article.category`` holds the slug of a :class:`HelpCategory`; ``Article.visibility`` is ``public`` or
``internal`` (agents only). A language version is ``draft`` until first published; later edits of a
published version are kept in :class:`ArticleDraft` until they are published, so the live text never
changes by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk
from storedesk.kit.time import utcnow


class HelpCategory(IdMixin, TimestampMixin, Base):
    __tablename__ = "help_categories"
    __table_args__ = (UniqueConstraint("shop_id", "slug"),)

    shop_id: Mapped[int] = shop_fk()
    slug: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    descriptions: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ArticleDraft(IdMixin, TimestampMixin, Base):
    """Unpublished changes to a published language version."""

    __tablename__ = "help_article_drafts"
    __table_args__ = (UniqueConstraint("article_id", "language"),)

    shop_id: Mapped[int] = shop_fk()
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    author_agent_id: Mapped[int | None] = mapped_column(BigId)


class ArticleRelation(IdMixin, Base):
    __tablename__ = "help_article_relations"
    __table_args__ = (UniqueConstraint("article_id", "related_id"),)

    shop_id: Mapped[int] = shop_fk()
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    related_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)


class ArticleAttachment(IdMixin, TimestampMixin, Base):
    """A file (image, PDF) of an article, stored by content hash under the data directory."""

    __tablename__ = "help_attachments"

    shop_id: Mapped[int] = shop_fk()
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))


class ArticleFeedback(IdMixin, Base):
    """ "Was this helpful?" with an optional comment."""

    __tablename__ = "help_feedback"
    __table_args__ = (Index("ix_help_feedback_shop_article", "shop_id", "article_id", "id"),)

    shop_id: Mapped[int] = shop_fk()
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    helpful: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleOpen(IdMixin, Base):
    """An article opened from the chat widget's suggestions (or the portal): the deflection ledger."""

    __tablename__ = "help_article_opens"
    __table_args__ = (Index("ix_help_opens_shop_time", "shop_id", "opened_at"),)

    shop_id: Mapped[int] = shop_fk()
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))
    visitor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchEntry(IdMixin, Base):
    """One searchable language version (published only), derived from the article: the search index.

    ``title_terms``/``body_terms`` are our own normalised stems (SQLite FTS5 indexes them with
    ``fts_scope``); PostgreSQL
    additionally keeps a ``document tsvector`` column (per-language configuration, see migration 0200)
    that is not mapped here.
    """

    __tablename__ = "help_search_entries"
    __table_args__ = (
        UniqueConstraint("article_id", "language"),
        Index("ix_help_search_shop_lang", "shop_id", "language"),
    )

    shop_id: Mapped[int] = shop_fk()
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    visibility: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    title_terms: Mapped[str] = mapped_column(Text)
    body_terms: Mapped[str] = mapped_column(Text)
    words: Mapped[str] = mapped_column(Text)
    # "xs<shop> xl<language> xv<visibility>": lets SQLite FTS5 narrow a match to one shop, language and
    # visibility before ranking (bm25 is computed on the intersection only)
    fts_scope: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
