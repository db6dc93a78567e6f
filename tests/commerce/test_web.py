"""The admin pages for stores (/app/stores): connect through the form, see the progress, and who may."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from storedesk.agents.models import Agent, TokenKind
from storedesk.agents.service import _issue_token
from storedesk.api.app import create_app
from storedesk.commerce import tasks as commerce_tasks
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.commerce.conftest import Served, rows
from tests.conftest import ShopWorld

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


@pytest.fixture
async def web(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db, run_jobs=False)
    commerce_tasks.configure(app.state.box)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            yield c


async def _session(db: Database, agent_id: int) -> tuple[str, str]:
    async with db.transaction() as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        token, secret = await _issue_token(
            session, agent, TokenKind.session, name="web", ttl=timedelta(hours=1)
        )
        return secret, token.csrf_token or ""


async def test_admin_connects_a_store_through_the_form(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.woo.reset(orders=3)
    cookie, csrf = await _session(db, shop_a.agent_ids["admin"])
    web.cookies.set("storedesk_session", cookie)
    page = await web.get("/app/stores")
    assert page.status_code == 200
    assert "No store connected yet." in page.text
    form = {
        "csrf_token": csrf,
        "platform": "woocommerce",
        "site_url": "https://shop.example",
        "consumer_key": fakes.woo.key,
        "consumer_secret": "cs_wrong_secret_0000",
        "base_url": fakes.woo_url,
    }
    r = await web.post("/app/stores", data=form)
    assert r.status_code == 422
    assert "the store rejected the consumer key or secret (Consumer secret is invalid.)" in r.text
    r = await web.post("/app/stores", data={**form, "consumer_secret": fakes.woo.secret})
    assert r.status_code == 200  # the generated webhook secret is shown once
    assert "it is shown only now" in r.text
    await run_jobs()
    page = await web.get("/app/stores")
    assert "shop.example" in page.text and "done · 100 %" in page.text
    assert "Mirrored: 3 orders" in page.text
    assert await rows(db, "SELECT platform, status FROM stores") == [("woocommerce", "active")]

    viewer, _ = await _session(db, shop_a.agent_ids["viewer"])
    web.cookies.set("storedesk_session", viewer)
    assert (await web.get("/app/stores")).status_code == 403
