"""API shapes of the help center."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from storedesk.kit.schemas import In, Out

Language = Annotated[str, Field(min_length=2, max_length=8, pattern=r"^[a-z]{2,3}$")]
Slug = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class VersionOut(Out):
    language: str
    title: str
    status: str
    updated_at: datetime
    has_draft: bool = False


class ArticleOut(Out):
    id: int
    slug: str
    category: str
    visibility: str
    versions: list[VersionOut]


class VersionDetailOut(VersionOut):
    body: str
    draft_title: str | None = None
    draft_body: str | None = None


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class ArticleDetailOut(Out):
    id: int
    slug: str
    category: str
    visibility: str
    versions: list[VersionDetailOut]
    related: list[int]
    attachments: list[AttachmentOut]
    helpful: int
    not_helpful: int


class ArticleCreate(In):
    category: Annotated[str, Field(min_length=1, max_length=100)]
    visibility: Literal["public", "internal"] = "public"
    language: Language
    title: Annotated[str, Field(min_length=1, max_length=300)]
    body: Annotated[str, Field(min_length=1, max_length=100_000)]
    slug: Slug | None = None
    publish: bool = False


class ArticleUpdate(In):
    slug: Slug | None = None
    category: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    visibility: Literal["public", "internal"] | None = None
    related: Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(max_length=10)] | None = None


class VersionSave(In):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    body: Annotated[str, Field(min_length=1, max_length=100_000)]
    publish: bool = False


class CategoryIn(In):
    slug: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    names: dict[Language, Annotated[str, Field(max_length=300)]]
    descriptions: dict[Language, Annotated[str, Field(max_length=300)]] = Field(default_factory=dict)
    position: Annotated[int, Field(ge=-1000, le=1000)] = 0


class CategoryOut(Out):
    id: int
    slug: str
    position: int
    names: dict[str, str]
    descriptions: dict[str, str]


class SearchHitOut(Out):
    article_id: int
    language: str
    title: str
    slug: str
    category: str
    visibility: str
    snippet: str
    via: str
    other_language: bool


class SearchOut(Out):
    query: str
    language: str
    corrections: dict[str, str]
    hits: list[SearchHitOut]


class StatsOut(Out):
    days: int
    opened_from_widget: int
    judged: int
    deflected: int
    chats_after: int
    deflection_rate: float | None
    helpful: int
    not_helpful: int
