from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from storedesk.agents import security
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.analytics.wiring import CHEAP_PASSWORD_HASHER, wired_client

# the fake Cloud API server and the live widget server of the channel tests
from tests.channels.conftest import provider, provider_server  # noqa: F401
from tests.channels.test_widget_live import live, live_server, live_settings  # noqa: F401


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Agents of the test shops get argon2 hashes with minimal cost (about 1 s → 5 ms each); the
    parameters travel in the hash, so signing in verifies as usual."""
    monkeypatch.setattr(security, "_hasher", CHEAP_PASSWORD_HASHER)


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over HTTP with the feedback/SLA/KPI routers mounted (see tests/analytics/wiring.py)."""
    async for c in wired_client(settings, db):
        yield c
