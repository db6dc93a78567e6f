"""full-text search (SQLite FTS5 / PostgreSQL GIN) and inbox sort indexes

Revision ID: 0004_search
Revises: 0003
Create Date: 2026-11-23 07:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_search"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: external-content FTS5 tables kept in step by triggers (``storedesk.search`` reads them).
FTS_TABLES = {
    "messages_fts": ("messages", ["text"]),
    "customers_fts": ("customers", ["name", "email", "phone"]),
    "conversations_fts": ("conversations", ["subject"]),
}

# PostgreSQL: GIN indexes over the same expressions ``storedesk.search`` queries with.
PG_INDEXES = {
    "ix_messages_fts": ("messages", "to_tsvector('simple', coalesce(text, ''))"),
    "ix_customers_fts": (
        "customers",
        "to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(phone, ''))",
    ),
    "ix_conversations_fts": ("conversations", "to_tsvector('simple', coalesce(subject, ''))"),
}


def _sqlite_upgrade() -> None:
    for fts, (table, columns) in FTS_TABLES.items():
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        for name, (table, expression) in PG_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})")
    # plain CREATE INDEX (no batch mode): a batch table rebuild would drop the FTS triggers
    op.create_index(
        "ix_conv_shop_status_waiting", "conversations", ["shop_id", "status", "waiting_since", "id"]
    )
    op.create_index(
        "ix_conv_shop_status_assignee",
        "conversations",
        ["shop_id", "status", "assignee_id", "last_activity_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_conv_shop_status_assignee", table_name="conversations")
    op.drop_index("ix_conv_shop_status_waiting", table_name="conversations")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for fts, (_table, _) in FTS_TABLES.items():
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    elif dialect == "postgresql":
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
