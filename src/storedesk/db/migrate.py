"""Run Alembic migrations programmatically (``storedesk db upgrade``, tests, ``make demo``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Upgrade the database at ``url``. Safe to call from inside a running event loop's thread."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "heads") -> None:
    await asyncio.to_thread(upgrade, url, revision)


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def current_revision(engine: AsyncEngine) -> str | None:
    """The applied revision(s), comma-separated when several branches are applied."""
    async with engine.connect() as conn:
        heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    return ",".join(sorted(heads)) or None
