from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from storedesk.agents import service as agent_service
from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.helpcenter.kit import client_for, reset_state, wire


@pytest.fixture(scope="session", autouse=True)
def _hash_test_passwords_once() -> Iterator[None]:
    """Every test agent has the same password: hash it once (argon2 is slow on purpose)."""
    original = agent_service.hash_password
    agent_service.hash_password = functools.lru_cache(maxsize=8)(original)  # type: ignore[assignment]
    yield
    agent_service.hash_password = original  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    reset_state()
    yield
    reset_state()


@pytest.fixture
async def app(settings: Settings, db: Database) -> AsyncIterator[object]:
    application = wire(create_app(settings, db=db, run_jobs=False))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:  # type: ignore[arg-type]
        yield c
