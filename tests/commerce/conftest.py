"""Fixtures for the commerce tests: the three fake platforms served over real HTTP (once per session,
reset per test), the storedesk app with the commerce routers mounted, and helpers to connect stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from storedesk.api.app import create_app
from storedesk.commerce import tasks as commerce_tasks
from storedesk.commerce.connectors import registry
from storedesk.config import Settings
from storedesk.db.session import Database
from storedesk.kit.crypto import SecretBox
from tests.commerce.fakes.ecwid import EcwidFake
from tests.commerce.fakes.shopify import ShopifyFake
from tests.commerce.fakes.woocommerce import WooFake
from tests.conftest import TEST_SECRET, ShopWorld
from tests.servers import serve_in_thread


async def fast_shop(db: Database, slug: str) -> ShopWorld:
    """``tests.conftest.make_shop`` without passwords: the agents act through API tokens only, so no
    argon2 hashing (a second per agent on this machine) slows every test down."""
    from storedesk.agents.models import Role
    from storedesk.agents.service import create_agent, create_api_token
    from storedesk.channels.models import ChannelKind
    from storedesk.channels.service import create_channel
    from storedesk.customers.service import create_customer
    from storedesk.kit.actor import SYSTEM
    from storedesk.shops.service import create_shop

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
        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        for role in Role:
            agent = await create_agent(
                session,
                shop_id=shop.id,
                email=f"{role.value}@{slug}.test",
                name=f"{role.value.title()} {slug}",
                role=role,
                password=None,
                actor=SYSTEM,
            )
            _, secret = await create_api_token(session, agent=agent, name="tests")
            tokens[role.value] = secret
            ids[role.value] = agent.id
        channel = await create_channel(
            session,
            shop_id=shop.id,
            actor=SYSTEM,
            box=SecretBox([TEST_SECRET]),
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
    return await fast_shop(db, "shop-a")


@pytest.fixture
async def shop_b(db: Database) -> ShopWorld:
    return await fast_shop(db, "shop-b")


@dataclass
class Served:
    shopify: ShopifyFake
    shopify_url: str
    woo: WooFake
    woo_url: str
    ecwid: EcwidFake
    ecwid_url: str


@pytest.fixture(scope="session")
def served() -> Iterator[Served]:
    shopify, woo, ecwid = ShopifyFake(), WooFake(), EcwidFake()
    with (
        serve_in_thread(shopify.app()) as s_url,
        serve_in_thread(woo.app()) as w_url,
        serve_in_thread(ecwid.app()) as e_url,
    ):
        yield Served(shopify, s_url, woo, w_url, ecwid, e_url)


@pytest.fixture(autouse=True)
def _commerce_config() -> Iterator[None]:
    # fast retries against the local fakes; a Retry-After above 5 s is handed back instead of slept
    registry.configure(
        SecretBox([TEST_SECRET]), http_options={"backoff": 0.02, "max_retries": 3, "max_wait": 5.0}
    )
    yield
    registry.reset()


@pytest.fixture
def fakes(served: Served) -> Served:
    served.shopify.reset()
    served.woo.reset()
    served.ecwid.reset()
    return served


@pytest.fixture
async def api(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (it mounts the commerce routers), over ASGI; jobs run only through ``run_jobs``."""
    app = create_app(settings, db=db, run_jobs=False)
    commerce_tasks.configure(app.state.box)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            yield c


def shopify_body(fakes: Served, **extra: Any) -> dict[str, Any]:
    return {
        "platform": "shopify",
        "base_url": fakes.shopify_url,
        "credentials": {
            "store_domain": fakes.shopify.domain,
            "access_token": fakes.shopify.token,
            "api_secret": fakes.shopify.api_secret,
        },
        **extra,
    }


def woo_body(fakes: Served, **extra: Any) -> dict[str, Any]:
    return {
        "platform": "woocommerce",
        "base_url": fakes.woo_url,
        "credentials": {
            "site_url": "https://shop.example",
            "consumer_key": fakes.woo.key,
            "consumer_secret": fakes.woo.secret,
            "webhook_secret": fakes.woo.webhook_secret,
        },
        **extra,
    }


def ecwid_body(fakes: Served, **extra: Any) -> dict[str, Any]:
    return {
        "platform": "ecwid",
        "base_url": fakes.ecwid_url,
        "credentials": {
            "store_id": fakes.ecwid.store_id,
            "access_token": fakes.ecwid.token,
            "client_secret": fakes.ecwid.client_secret,
        },
        **extra,
    }


async def connect(api: httpx.AsyncClient, shop: ShopWorld, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post("/api/v1/stores", json=body, headers=shop.h("admin"))
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]
