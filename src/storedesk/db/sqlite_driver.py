"""SQLite through aiosqlite with one thread hop per statement.

SQLAlchemy's aiosqlite adapter hands every step of a statement to aiosqlite's worker thread
separately — open a cursor, execute, fetch the rows, close the cursor — and each hand-over costs a
queue put, a thread wake-up and an event-loop callback (≈ 0.05–0.3 ms, far more than the statement
itself on a small row). With one connection per process (SQLite has one writer anyway) those hops
bound the write throughput. This adapter runs the whole statement as one function on the same worker
thread: execute, fetch everything, remember ``description``/``rowcount``/``lastrowid``, close. The
``BEGIN IMMEDIATE`` that opens a transaction travels with its first statement.

Same driver, same connection, same thread, same SQL; only the number of hand-overs changes. It uses
two private members of aiosqlite (``Connection._execute`` and ``Connection._conn``), present in the
pinned aiosqlite 0.22; tests/db/test_sqlite_driver.py fails if they change. Server-side (streaming)
cursors keep SQLAlchemy's own implementation.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    _awaitable_cursor_close = False  # nothing is open on the worker thread between statements

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        raw: sqlite3.Connection = self._connection._conn  # type: ignore[attr-defined]

        begin = self._adapt_connection.take_pending_begin()  # type: ignore[attr-defined]

        def run() -> tuple[Any, list[Any], int, int | None]:
            if begin:
                raw.execute(begin)
            cursor = raw.cursor()
            try:
                if parameters is None:
                    cursor.execute(operation)
                else:
                    cursor.execute(operation, parameters)
                description = cursor.description
                rows = cursor.fetchall() if description else []
                return description, rows, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            result = await self._connection._execute(run)  # type: ignore[attr-defined]
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows)
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        raw: sqlite3.Connection = self._connection._conn  # type: ignore[attr-defined]

        begin = self._adapt_connection.take_pending_begin()  # type: ignore[attr-defined]

        def run() -> tuple[int, int | None]:
            if begin:
                raw.execute(begin)
            cursor = raw.cursor()
            try:
                cursor.executemany(operation, seq_of_parameters)
                return cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            self._rowcount, self._lastrowid = await self._connection._execute(run)  # type: ignore[attr-defined]
        self._description = None
        self._rows = collections.deque()
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_pending_begin",)
    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._pending_begin: str | None = None

    def begin_with_next_statement(self, sql: str) -> None:
        """Send ``sql`` (e.g. ``BEGIN IMMEDIATE``) in the same hop as the next statement."""
        self._pending_begin = sql

    def take_pending_begin(self) -> str | None:
        sql, self._pending_begin = self._pending_begin, None
        return sql

    def commit(self) -> None:
        if self._pending_begin is not None:  # nothing was executed: nothing to commit
            self._pending_begin = None
            return
        super().commit()

    def rollback(self) -> None:
        if self._pending_begin is not None:
            self._pending_begin = None
            return
        super().rollback()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """Pass as ``module=`` to ``create_async_engine`` for a ``sqlite+aiosqlite`` URL."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        kw.pop("async_creator_fn", None)
        connection = self.aiosqlite.connect(*arg, **kw)
        if isinstance(connection, Thread):  # aiosqlite < 0.22
            connection.daemon = True
        else:
            connection._thread.daemon = True
        return OneHopConnection(self, await_(connection))


def one_hop_dbapi() -> OneHopDbapi:
    return OneHopDbapi(aiosqlite, sqlite3)
