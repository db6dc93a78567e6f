"""Search backends behind one interface: SQLite FTS5 and PostgreSQL full-text (``simple`` config).

Every statement filters by the acting shop. The FTS objects come from migration 0004_search.
"""

from __future__ import annotations

import re
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TOKEN = re.compile(r"\w+", re.UNICODE)
# the most matches a backend looks at before grouping (keeps a common word fast on big shops)
SCAN_CAP = 2000
CANDIDATES = 2000


def tokens(query: str) -> list[str]:
    return [t for t in TOKEN.findall(query.lower()) if t][:8]


class SearchBackend(Protocol):
    async def message_hits(self, query: str, limit: int) -> list[tuple[int, int]]:
        """``(conversation_id, newest matching message id)``, newest first."""
        ...

    async def subject_hits(self, query: str, limit: int) -> list[int]: ...

    async def customer_hits(self, query: str, limit: int) -> list[int]: ...


class SqliteSearch:
    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    @staticmethod
    def match(query: str) -> str | None:
        words = tokens(query)
        # each word quoted (so FTS5 syntax in the input means nothing) and prefix-matched
        return " ".join(f'"{w}"*' for w in words) if words else None

    async def message_hits(self, query: str, limit: int) -> list[tuple[int, int]]:
        match = self.match(query)
        if match is None:
            return []
        rows = await self.session.execute(
            text(
                "SELECT m.conversation_id, max(m.id) AS last_id FROM messages m "
                "WHERE m.shop_id = :shop AND m.id IN (SELECT rowid FROM messages_fts "
                "WHERE messages_fts MATCH :q ORDER BY rowid DESC LIMIT :cand) "
                "GROUP BY m.conversation_id ORDER BY last_id DESC LIMIT :limit"
            ),
            {"shop": self.shop_id, "q": match, "cand": CANDIDATES, "limit": limit},
        )
        return [(int(c), int(m)) for c, m in rows.all()]

    async def subject_hits(self, query: str, limit: int) -> list[int]:
        match = self.match(query)
        if match is None:
            return []
        rows = await self.session.execute(
            text(
                "SELECT c.id FROM conversations c WHERE c.shop_id = :shop AND c.id IN "
                "(SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH :q "
                "ORDER BY rowid DESC LIMIT :cand) ORDER BY c.id DESC LIMIT :limit"
            ),
            {"shop": self.shop_id, "q": match, "cand": CANDIDATES, "limit": limit},
        )
        return [int(r) for r in rows.scalars()]

    async def customer_hits(self, query: str, limit: int) -> list[int]:
        match = self.match(query)
        if match is None:
            return []
        rows = await self.session.execute(
            text(
                "SELECT c.id FROM customers c WHERE c.shop_id = :shop AND c.merged_into_id IS NULL "
                "AND c.id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH :q "
                "ORDER BY rowid DESC LIMIT :cand) ORDER BY c.id DESC LIMIT :limit"
            ),
            {"shop": self.shop_id, "q": match, "cand": CANDIDATES, "limit": limit},
        )
        return [int(r) for r in rows.scalars()]


class PostgresSearch:
    MESSAGE = "to_tsvector('simple', coalesce(text, ''))"
    CUSTOMER = "to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(phone, ''))"
    SUBJECT = "to_tsvector('simple', coalesce(subject, ''))"

    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    @staticmethod
    def match(query: str) -> str | None:
        words = tokens(query)
        return " & ".join(f"{w}:*" for w in words) if words else None

    # The GIN index is forced with a MATERIALIZED CTE capped at SCAN_CAP matches: left to itself the
    # planner walks the primary key backwards ("ORDER BY id DESC LIMIT") and filters millions of rows.
    # For very common words the newest-first order is then over the first SCAN_CAP matches.

    async def message_hits(self, query: str, limit: int) -> list[tuple[int, int]]:
        match = self.match(query)
        if match is None:
            return []
        rows = await self.session.execute(
            text(
                "WITH m AS MATERIALIZED (SELECT id, conversation_id FROM messages "
                f"WHERE shop_id = :shop AND {self.MESSAGE} @@ to_tsquery('simple', :q) LIMIT :scan) "
                "SELECT conversation_id, max(id) AS last_id FROM (SELECT id, conversation_id FROM m "
                "ORDER BY id DESC LIMIT :cand) hits GROUP BY conversation_id ORDER BY last_id DESC LIMIT :limit"
            ),
            {"shop": self.shop_id, "q": match, "cand": CANDIDATES, "limit": limit, "scan": SCAN_CAP},
        )
        return [(int(c), int(m)) for c, m in rows.all()]

    async def subject_hits(self, query: str, limit: int) -> list[int]:
        match = self.match(query)
        if match is None:
            return []
        rows = await self.session.execute(
            text(
                "WITH m AS MATERIALIZED (SELECT id FROM conversations WHERE shop_id = :shop AND "
                f"{self.SUBJECT} @@ to_tsquery('simple', :q) LIMIT :scan) "
                "SELECT id FROM m ORDER BY id DESC LIMIT :limit"
            ),
            {"shop": self.shop_id, "q": match, "limit": limit, "scan": SCAN_CAP},
        )
        return [int(r) for r in rows.scalars()]

    async def customer_hits(self, query: str, limit: int) -> list[int]:
        match = self.match(query)
        if match is None:
            return []
        rows = await self.session.execute(
            text(
                "WITH m AS MATERIALIZED (SELECT id FROM customers WHERE shop_id = :shop AND merged_into_id IS NULL "
                f"AND {self.CUSTOMER} @@ to_tsquery('simple', :q) LIMIT :scan) "
                "SELECT id FROM m ORDER BY id DESC LIMIT :limit"
            ),
            {"shop": self.shop_id, "q": match, "limit": limit, "scan": SCAN_CAP},
        )
        return [int(r) for r in rows.scalars()]


def backend_for(session: AsyncSession, shop_id: int) -> SearchBackend:
    if session.get_bind().dialect.name == "postgresql":
        return PostgresSearch(session, shop_id)
    return SqliteSearch(session, shop_id)
