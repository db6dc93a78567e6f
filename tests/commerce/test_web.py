"""The admin pages for stores (/app/stores), on SQLite and PostgreSQL: connect through the form, see the progress, a revoked token pauses the store and the admin reconnects it, and who may."""

from __future__ import annotations

import re
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
from storedesk.conversations.service import open_conversation
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM
from tests.commerce.conftest import Served, rows
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio


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
    before = await rows(db, "SELECT count(*) FROM events")
    r = await web.post("/app/stores", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert r.status_code == 403  # no CSRF token: refused before anything is asked
    r = await web.post("/app/stores", data={**form, "consumer_key": "", "site_url": " "})
    assert r.status_code == 422
    assert re.findall(r'data-error-for="([a-z_]+)">Required.<', r.text) == ["site_url", "consumer_key"]
    assert fakes.woo.faults.requests == []  # nothing was sent to the platform
    r = await web.post("/app/stores", data=form)
    assert r.status_code == 422
    assert "the store rejected the consumer key or secret (Consumer secret is invalid.)" in r.text
    assert await rows(db, "SELECT count(*) FROM events") == before
    r = await web.post("/app/stores", data={**form, "consumer_secret": fakes.woo.secret})
    assert r.status_code == 200  # the generated webhook secret is shown once
    assert "it is shown only now" in r.text
    await run_jobs()
    page = await web.get("/app/stores")
    assert "shop.example" in page.text and "done</span> · 100 %" in page.text
    assert "Mirrored: 3 orders" in page.text
    assert await rows(db, "SELECT platform, status FROM stores") == [("woocommerce", "active")]

    viewer, _ = await _session(db, shop_a.agent_ids["viewer"])
    web.cookies.set("storedesk_session", viewer)
    assert (await web.get("/app/stores")).status_code == 403


async def test_a_revoked_token_pauses_the_store_and_the_admin_reconnects_it(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=2, customers=1, products=1)
    cookie, csrf = await _session(db, shop_a.agent_ids["admin"])
    web.cookies.set("storedesk_session", cookie)
    form = {
        "csrf_token": csrf,
        "platform": "shopify",
        "store_domain": fakes.shopify.domain,
        "access_token": fakes.shopify.token,
        "api_secret": fakes.shopify.api_secret,
        "base_url": fakes.shopify_url,
    }
    r = await web.post("/app/stores", data=form)
    assert r.status_code == 303
    await run_jobs()
    (store_id,) = [i for (i,) in await rows(db, "SELECT id FROM stores")]

    fakes.shopify.token = "shpat_rotated_token"  # the merchant uninstalled the app / rotated the token
    r = await web.post(f"/api/v1/stores/{store_id}/reconcile", headers=shop_a.h("admin"))
    assert r.status_code == 202
    await run_jobs()
    (status, error), *_ = await rows(db, "SELECT status, last_error FROM stores")
    assert status == "paused"
    assert [
        t for (t,) in await rows(db, "SELECT type FROM events WHERE type LIKE 'store.%' ORDER BY id")
    ] == [
        "store.connected",
        "store.paused",
    ]
    page = await web.get("/app/stores")
    assert 'data-store-status="paused"' in page.text
    assert "Syncing is paused: the platform no longer accepts storedesk's credentials." in page.text
    assert error == "the store rejected the access token (Shopify answered 401)"
    assert f'<p class="small">{error}</p>' in page.text
    assert "Resume backfill" not in page.text and "Test and reconnect" in page.text

    # order actions are off until then, and say why
    order_id, customer_id = (await rows(db, "SELECT id, customer_id FROM orders ORDER BY id LIMIT 1"))[0]
    r = await web.get(f"/api/v1/orders/{order_id}/actions", headers=shop_a.h("agent"))
    assert r.json()["reasons"]["cancel"] == "the order is not linked to a connected store"
    async with db.transaction() as session:
        conv = await open_conversation(
            session, shop_id=shop_a.id, actor=SYSTEM, customer_id=customer_id, channel_id=shop_a.channel_id
        )
    agent, _ = await _session(db, shop_a.agent_ids["agent"])
    web.cookies.set("storedesk_session", agent)
    sidebar = await web.get(f"/app/c/{conv.id}/sidebar")
    assert "data-order-action=" not in sidebar.text
    assert (
        "Order actions need a connected store: an admin can reconnect it on the Stores page." in sidebar.text
    )

    for who in ("agent", "viewer"):
        other, other_csrf = await _session(db, shop_a.agent_ids[who])
        web.cookies.set("storedesk_session", other)
        r = await web.post(
            f"/app/stores/{store_id}/reconnect",
            data={
                "csrf_token": other_csrf,
                "access_token": fakes.shopify.token,
                "store_domain": fakes.shopify.domain,
            },
        )
        assert r.status_code == 403, who
    web.cookies.set("storedesk_session", cookie)
    for path in ("reconnect", "disconnect", "backfill"):  # without the CSRF token: refused
        r = await web.post(f"/app/stores/{store_id}/{path}", data={"access_token": fakes.shopify.token})
        assert r.status_code == 403, path
    reconnect = {"csrf_token": csrf, "store_domain": fakes.shopify.domain, "access_token": "shpat_old_token"}
    r = await web.post(f"/app/stores/{store_id}/reconnect", data=reconnect)
    assert r.status_code == 422
    assert "The connection test failed:" in r.text
    assert await rows(db, "SELECT status FROM stores") == [("paused",)]
    r = await web.post(
        f"/app/stores/{store_id}/reconnect", data={**reconnect, "access_token": fakes.shopify.token}
    )
    assert (r.status_code, r.headers["location"]) == (303, "/app/stores")
    assert await rows(db, "SELECT status, last_error, base_url FROM stores") == [
        ("active", None, fakes.shopify_url)
    ]
    assert [
        t for (t,) in await rows(db, "SELECT type FROM events WHERE type LIKE 'store.%' ORDER BY id")
    ] == [
        "store.connected",
        "store.paused",
        "store.reconnected",
    ]
    page = await web.get("/app/stores")
    assert "Reconnected Nordlys Home; syncing again." in page.text
    assert 'data-store-status="active"' in page.text
    r = await web.get(f"/api/v1/orders/{order_id}/actions", headers=shop_a.h("agent"))
    assert r.json()["available"]["cancel"] is True
