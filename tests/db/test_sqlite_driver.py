"""The one-hop SQLite adapter (storedesk.db.sqlite_driver) behaves like SQLAlchemy's own aiosqlite adapter."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storedesk.db.session import Database
from storedesk.db.sqlite_driver import OneHopCursor, OneHopDbapi

pytestmark = pytest.mark.anyio


async def test_statements_rows_counts_and_errors(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert isinstance(db.engine.dialect.dbapi, OneHopDbapi)
    try:
        async with db.engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None
            assert isinstance(raw.dbapi_connection.cursor(), OneHopCursor)  # type: ignore[union-attr]
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a') RETURNING id"))
            assert inserted.scalar_one() == 1
            many = await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
            assert many.rowcount == 2
            updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert updated.rowcount == 2
            rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
            assert (await conn.execute(text("SELECT name FROM t WHERE id = 9"))).first() is None
        with pytest.raises(IntegrityError):
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        async with db.engine.connect() as conn:  # the failed transaction left nothing behind
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 3
            streamed = await conn.stream(text("SELECT id FROM t ORDER BY id"))  # server-side cursor
            assert [r[0] async for r in streamed] == [1, 2, 3]
    finally:
        await db.dispose()


async def test_a_transaction_takes_the_write_lock_with_its_first_statement(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        async with db.engine.begin():
            pass  # a transaction without statements commits nothing and holds nothing
        async with db.engine.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))  # a read, but BEGIN IMMEDIATE
            other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.close()
    finally:
        await db.dispose()
