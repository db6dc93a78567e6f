"""Engines and sessions for both shapes (SQLite WAL file, PostgreSQL).

The request or job boundary owns the transaction: it opens a session with :func:`transaction`,
services add to it, the boundary commits. Work registered with :func:`after_commit` (job wake-ups,
real-time events) runs only once the data is durable.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

PostCommit = Callable[[], Awaitable[None] | None]
PING_AFTER_IDLE = 5.0  # seconds (PostgreSQL pool)


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection per process: SQLite has one writer at a time anyway, and queueing on the pool
        # (FIFO, no sleeping) beats many connections spinning in SQLite's busy handler.
        from storedesk.db.sqlite_driver import one_hop_dbapi

        engine = create_async_engine(
            url,
            module=one_hop_dbapi(),  # one thread hop per statement instead of four
            connect_args={"timeout": 30},
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # aiosqlite's default isolation emits BEGIN lazily; we issue BEGIN IMMEDIATE ourselves
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # writers serialise at BEGIN instead of failing on lock upgrade mid-transaction; the BEGIN is
            # sent together with the transaction's first statement (one thread hop for both)
            conn.connection.dbapi_connection.begin_with_next_statement("BEGIN IMMEDIATE")

        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        # A connection back in use within PING_AFTER_IDLE seconds is not pinged: under load that saves a
        # round trip per request (``pool_pre_ping`` pings every checkout). One idle for longer may have
        # been cut (server restart, firewall): ping it, and let the pool replace it if it is dead.
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as exc:
            raise DisconnectionError("idle connection is gone") from exc

    return engine


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @property
    def kind(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"

    async def dispose(self) -> None:
        from storedesk.realtime import drain_notifications

        await drain_notifications(self.engine)
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, roll back on error, then run post-commit hooks."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await commit(session)
            except BaseException:
                await session.rollback()
                session.info.pop("post_commit", None)
                session.info.pop("realtime", None)
                session.info.pop("notify_jobs", None)
                raise


def after_commit(session: AsyncSession, fn: PostCommit) -> None:
    hooks: list[PostCommit] = session.info.setdefault("post_commit", [])
    if fn not in hooks:
        hooks.append(fn)


async def commit(session: AsyncSession) -> None:
    from storedesk.realtime import notify_after_commit

    await session.commit()
    notify_after_commit(session)
    session.info.pop("notify_jobs", None)
    hooks: list[PostCommit] = session.info.pop("post_commit", [])
    for hook in hooks:
        result = hook()
        if result is not None:
            await result
