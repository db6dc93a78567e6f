"""Shared fixtures: real databases (a SQLite file and the local PostgreSQL), the app over HTTP, and
ready-made shops with agents of every role.

Every API test that takes ``db_url`` runs twice: on SQLite and on PostgreSQL. PostgreSQL tests skip
when the server is unreachable, unless ``STOREDESK_REQUIRE_PG=1`` (CI) — then they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text

from storedesk.agents.models import Role
from storedesk.agents.service import create_agent, create_api_token
from storedesk.api.app import create_app
from storedesk.channels.models import ChannelKind
from storedesk.channels.service import create_channel
from storedesk.config import Settings
from storedesk.customers.service import create_customer
from storedesk.db.migrate import upgrade
from storedesk.db.models import Base
from storedesk.db.session import Database
from storedesk.jobs.runner import JobRunner
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from storedesk.shops.service import create_shop

# tests start SMTP intake servers themselves, on free ports
os.environ.setdefault("STOREDESK_SMTP_PORT", "0")

PG_ADMIN_URL = os.environ.get("STOREDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("STOREDESK_REQUIRE_PG") == "1"
TEST_SECRET = "test-secret-key-for-storedesk-tests"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database(worker_id: str) -> Iterator[str]:
    """One migrated PostgreSQL database per xdist worker, dropped at the end."""
    if not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (STOREDESK_REQUIRE_PG=1) but {PG_ADMIN_URL} is unreachable")
        pytest.skip("PostgreSQL is not reachable")
    name = f"storedesk_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url.replace("postgresql://", "postgresql+psycopg://"))
    yield url.replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def _truncate_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        # per-shop conversation number sequences outlive TRUNCATE; shop ids restart, so drop them
        for (name,) in conn.execute(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_name LIKE 'shop\\_%'"
        ).fetchall():
            conn.execute(f'DROP SEQUENCE IF EXISTS "{name}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "storedesk.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
        _truncate_pg(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "storedesk.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        secret_key=TEST_SECRET,
        jobs_mode="external",
        smtp_port=0,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.resolved_database_url, pool_size=5)
    yield database
    await database.dispose()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([TEST_SECRET])


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over HTTP (ASGI transport); jobs do not run by themselves — use ``run_jobs``."""
    app = create_app(settings, db=db, run_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
def run_jobs(db: Database) -> Any:
    async def _run() -> int:
        return await JobRunner(db, concurrency=4).drain()

    return _run


@dataclass
class ShopWorld:
    """A shop with an admin, an agent, a viewer (each with an API token), a channel and a customer."""

    id: int
    slug: str
    tokens: dict[str, str]
    agent_ids: dict[str, int]
    channel_id: int
    customer_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    def h(self, role: str = "agent") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def make_shop(db: Database, slug: str, *, box: SecretBox | None = None) -> ShopWorld:
    box = box or SecretBox([TEST_SECRET])
    async with db.transaction() as session:
        shop = await create_shop(
            session,
            slug=slug,
            name=f"Shop {slug}",
            languages=["en", "de"],
            default_language="en",
            country="DE",
            timezone="Europe/Berlin",
        )
        # the assistant's suggest-only mode (on by default) queues one assistant job per customer message
        # and loads the NLU model; other areas' tests run without it (tests/assistant set it explicitly)
        shop.policies = {**shop.policies, "assistant": {"suggestions": False}}
        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        for role in Role:
            agent = await create_agent(
                session,
                shop_id=shop.id,
                email=f"{role.value}@{slug}.test",
                name=f"{role.value.title()} {slug}",
                role=role,
                password="correct-horse-battery",
                actor=SYSTEM,
            )
            _, secret = await create_api_token(session, agent=agent, name="tests")
            tokens[role.value] = secret
            ids[role.value] = agent.id
        channel = await create_channel(
            session,
            shop_id=shop.id,
            actor=SYSTEM,
            box=box,
            kind=ChannelKind.api,
            name="API",
            external_id=f"api-{slug}",
        )
        customer = await create_customer(
            session, shop_id=shop.id, actor=SYSTEM, name=f"Customer of {slug}", email=f"buyer@{slug}.example"
        )
        return ShopWorld(shop.id, slug, tokens, ids, channel.id, customer.id)


@pytest.fixture
async def shop_a(db: Database) -> ShopWorld:
    return await make_shop(db, "shop-a")


@pytest.fixture
async def shop_b(db: Database) -> ShopWorld:
    return await make_shop(db, "shop-b")


async def count_rows(db: Database, table: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()) and "[postgresql" in item.nodeid:
            item.add_marker(pytest.mark.postgres)
