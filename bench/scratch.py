"""A migrated scratch database for a benchmark run: a SQLite file in a temporary directory, or a
PostgreSQL database created for the run and dropped afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from storedesk.db.migrate import upgrade

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(kind: str, prefix: str) -> Iterator[tuple[str, Path]]:
    """Yields ``(database URL, temporary directory)``; ``kind`` is "sqlite" or "postgresql"."""
    tmp = Path(tempfile.mkdtemp(prefix=f"sd-{prefix}-"))
    name = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    else:
        name = f"storedesk_{prefix}_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        yield url, tmp
    finally:
        if name is not None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
