"""help center (categories, drafts, relations, attachments, feedback, opens, search index) and returns
(RMA details, line choices, store credit)

Revision ID: 0200
Revises: 0002
Create Date: 2026-11-23 06:05:00

Search index: on SQLite an external-content FTS5 table over our own normalised stems
(``help_search_fts``), kept in step by triggers; on PostgreSQL ``document`` and ``title_document``
tsvector columns built with one text-search configuration per language (``storedesk_<lang>``: the Snowball stemmer of the language
with ``unaccent`` in front where the extension can be created; Polish has no stemmer: ``simple``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storedesk.db.base import UTCDateTime

revision: str = "0200"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# language → (PostgreSQL Snowball dictionary, template configuration); storedesk.helpcenter.search reads
# the same table (PG_CONFIGS)
PG_LANGUAGES = {
    "en": ("english_stem", "english"),
    "de": ("german_stem", "german"),
    "hu": ("hungarian_stem", "hungarian"),
    "nb": ("norwegian_stem", "norwegian"),
    "fr": ("french_stem", "french"),
    "sv": ("swedish_stem", "swedish"),
    "es": ("spanish_stem", "spanish"),
    "pl": ("simple", "simple"),
    "xx": ("simple", "simple"),  # every other language
}


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _shop() -> sa.Column[int]:
    return sa.Column("shop_id", ID, sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)


def _article(name: str = "article_id") -> sa.Column[int]:
    return sa.Column(name, ID, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False)


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    ]


def _tables() -> None:
    op.create_table(
        "help_categories",
        _id(),
        _shop(),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("names", JSON, nullable=False),
        sa.Column("descriptions", JSON, nullable=False),
        *_stamps(),
        sa.UniqueConstraint("shop_id", "slug", name="uq_help_categories_shop_id_slug"),
    )
    op.create_table(
        "help_article_drafts",
        _id(),
        _shop(),
        _article(),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_agent_id", ID, nullable=True),
        *_stamps(),
        sa.UniqueConstraint("article_id", "language", name="uq_help_article_drafts_article_id_language"),
    )
    op.create_table(
        "help_article_relations",
        _id(),
        _shop(),
        _article(),
        _article("related_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "article_id", "related_id", name="uq_help_article_relations_article_id_related_id"
        ),
    )
    op.create_table(
        "help_attachments",
        _id(),
        _shop(),
        _article(),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False),
        *_stamps(),
    )
    op.create_table(
        "help_feedback",
        _id(),
        _shop(),
        _article(),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "help_article_opens",
        _id(),
        _shop(),
        _article(),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("visitor_id", sa.String(64), nullable=True),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "help_search_entries",
        _id(),
        _shop(),
        _article(),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("title_terms", sa.Text(), nullable=False),
        sa.Column("body_terms", sa.Text(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("fts_scope", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("article_id", "language", name="uq_help_search_entries_article_id_language"),
    )
    op.create_table(
        "return_cases",
        _id(),
        _shop(),
        sa.Column("return_id", ID, sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("order_id", ID, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("items_minor", sa.Integer(), nullable=False),
        sa.Column("restocking_fee_minor", sa.Integer(), nullable=False),
        sa.Column("label_fee_minor", sa.Integer(), nullable=False),
        sa.Column("bonus_minor", sa.Integer(), nullable=False),
        sa.Column("payout_minor", sa.Integer(), nullable=False),
        sa.Column("customer_pays_shipping", sa.Boolean(), nullable=False),
        sa.Column("customs_note", sa.Text(), nullable=True),
        sa.Column("label_carrier", sa.String(64), nullable=True),
        sa.Column("label_number", sa.String(64), nullable=True),
        sa.Column("label_issued_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("inspected_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("inspection", JSON, nullable=False),
        sa.Column("decision", JSON, nullable=False),
        *_stamps(),
        sa.UniqueConstraint("return_id", name="uq_return_cases_return_id"),
    )
    op.create_table(
        "return_line_choices",
        _id(),
        _shop(),
        sa.Column("return_id", ID, sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("return_line_id", ID, sa.ForeignKey("return_lines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("order_line_id", ID, sa.ForeignKey("order_lines.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "exchange_variant_id", ID, sa.ForeignKey("variants.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("restocking_fee_minor", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(32), nullable=True),
        sa.UniqueConstraint("return_line_id", name="uq_return_line_choices_return_line_id"),
    )
    op.create_table(
        "store_credits",
        _id(),
        _shop(),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id", ondelete="SET NULL"), nullable=True),
        sa.Column("order_id", ID, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("return_id", ID, sa.ForeignKey("returns.id", ondelete="SET NULL"), nullable=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shop_id", "code", name="uq_store_credits_shop_id_code"),
    )


INDEXES = [
    ("ix_help_categories_shop_id", "help_categories", ["shop_id"]),
    ("ix_help_article_drafts_shop_id", "help_article_drafts", ["shop_id"]),
    ("ix_help_article_relations_shop_id", "help_article_relations", ["shop_id"]),
    ("ix_help_article_relations_article_id", "help_article_relations", ["article_id"]),
    ("ix_help_attachments_shop_id", "help_attachments", ["shop_id"]),
    ("ix_help_attachments_article_id", "help_attachments", ["article_id"]),
    ("ix_help_feedback_shop_id", "help_feedback", ["shop_id"]),
    ("ix_help_feedback_shop_article", "help_feedback", ["shop_id", "article_id", "id"]),
    ("ix_help_article_opens_shop_id", "help_article_opens", ["shop_id"]),
    ("ix_help_article_opens_visitor_id", "help_article_opens", ["visitor_id"]),
    ("ix_help_opens_shop_time", "help_article_opens", ["shop_id", "opened_at"]),
    ("ix_help_search_entries_shop_id", "help_search_entries", ["shop_id"]),
    ("ix_help_search_shop_lang", "help_search_entries", ["shop_id", "language"]),
    ("ix_return_cases_shop_id", "return_cases", ["shop_id"]),
    ("ix_return_cases_order_id", "return_cases", ["order_id"]),
    ("ix_return_line_choices_shop_id", "return_line_choices", ["shop_id"]),
    ("ix_return_line_choices_return_id", "return_line_choices", ["return_id"]),
    ("ix_store_credits_shop_id", "store_credits", ["shop_id"]),
]


def _sqlite_search() -> None:
    cols = "title_terms, body_terms, fts_scope"
    new = "new.title_terms, new.body_terms, new.fts_scope"
    old = "old.title_terms, old.body_terms, old.fts_scope"
    op.execute(
        f"CREATE VIRTUAL TABLE help_search_fts USING fts5({cols}, content='help_search_entries', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER help_search_fts_ai AFTER INSERT ON help_search_entries BEGIN "
        f"INSERT INTO help_search_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER help_search_fts_ad AFTER DELETE ON help_search_entries BEGIN "
        f"INSERT INTO help_search_fts(help_search_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER help_search_fts_au AFTER UPDATE OF {cols} ON help_search_entries BEGIN "
        f"INSERT INTO help_search_fts(help_search_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO help_search_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )


def _postgres_search() -> None:
    bind = op.get_bind()
    unaccent = True
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except sa.exc.DBAPIError:
        unaccent = False  # not installed or not allowed: stemming without accent folding
    for lang, (dictionary, template) in PG_LANGUAGES.items():
        name = f"storedesk_{lang}"
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {template})")
        if unaccent:
            op.execute(
                f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word "
                f"WITH unaccent, {dictionary}"
            )
    op.execute("ALTER TABLE help_search_entries ADD COLUMN document tsvector")
    op.execute("ALTER TABLE help_search_entries ADD COLUMN title_document tsvector")
    op.execute("CREATE INDEX ix_help_search_document ON help_search_entries USING gin (document)")
    op.execute("CREATE INDEX ix_help_search_title_document ON help_search_entries USING gin (title_document)")


def upgrade() -> None:
    _tables()
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_search()
    elif dialect == "postgresql":
        _postgres_search()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS help_search_fts_{suffix}")
        op.execute("DROP TABLE IF EXISTS help_search_fts")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    for table in (
        "store_credits",
        "return_line_choices",
        "return_cases",
        "help_search_entries",
        "help_article_opens",
        "help_feedback",
        "help_attachments",
        "help_article_relations",
        "help_article_drafts",
        "help_categories",
    ):
        op.drop_table(table)
    if dialect == "postgresql":
        for lang in PG_LANGUAGES:
            op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS storedesk_{lang}")
