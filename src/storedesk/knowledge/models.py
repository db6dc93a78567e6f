from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk


class Article(IdMixin, TimestampMixin, Base):
    """A help-center article; its text lives in per-language versions."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("shop_id", "slug"),)

    shop_id: Mapped[int] = shop_fk()
    slug: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    visibility: Mapped[str] = mapped_column(String(16), default="public")


class ArticleVersion(IdMixin, TimestampMixin, Base):
    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "language"),)

    shop_id: Mapped[int] = shop_fk()
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")


class Macro(IdMixin, TimestampMixin, Base):
    """A canned reply with per-language bodies and ``{{customer.first_name}}``-style variables."""

    __tablename__ = "macros"
    __table_args__ = (UniqueConstraint("shop_id", "name"),)

    shop_id: Mapped[int] = shop_fk()
    name: Mapped[str] = mapped_column(String(200))
    bodies: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the customer intent it answers (an NLU intent name); suggested first for that intent
    intent: Mapped[str | None] = mapped_column(String(48), default=None)
    actions: Mapped[dict[str, Any]] = mapped_column(default=dict)
