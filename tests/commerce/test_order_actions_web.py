"""Order actions in the agent UI's customer sidebar, over HTTP on SQLite and PostgreSQL: form → preview →
confirm through the same service as the API, the audit trail in the sidebar, and who may do what — viewers
get 403, another shop's agent 404, a post without the CSRF token is refused, bad input is explained next to
the field — each time with nothing changed."""

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
from storedesk.conversations import service as conversations
from storedesk.customers.service import create_customer, merge
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM
from storedesk.web.live import sse_names
from tests.commerce.conftest import Served, rows, scalar, shopify_body
from tests.commerce.test_actions import demo_order, snapshot
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio

HX = {"HX-Request": "true"}


@pytest.fixture
async def web(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db, run_jobs=False)
    commerce_tasks.configure(app.state.box)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as c:
            yield c


async def issue(db: Database, agent_id: int) -> tuple[str, str]:
    """A browser session for the agent (no password hashing: the token is issued directly)."""
    async with db.transaction() as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        token, secret = await _issue_token(
            session, agent, TokenKind.session, name="web", ttl=timedelta(hours=1)
        )
        return secret, token.csrf_token or ""


def use(web: httpx.AsyncClient, session: tuple[str, str]) -> str:
    web.cookies.clear()
    web.cookies.set("storedesk_session", session[0])
    return session[1]


async def sign_in(web: httpx.AsyncClient, db: Database, agent_id: int) -> str:
    return use(web, await issue(db, agent_id))


async def conversation(db: Database, shop: ShopWorld) -> int:
    async with db.transaction() as session:
        conv = await conversations.open_conversation(
            session,
            shop_id=shop.id,
            actor=SYSTEM,
            customer_id=shop.customer_id,
            channel_id=shop.channel_id,
            subject="Please cancel",
        )
        return conv.id


def field_error(html: str, name: str) -> str:
    found = re.search(rf'data-error-for="{re.escape(name)}">([^<]*)<', html)
    assert found is not None, f"no error next to {name}"
    return found.group(1)


async def test_agent_cancels_from_the_sidebar_and_sees_the_audit_trail(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    order_id, _ = await demo_order(db, shop_a)
    conv = await conversation(db, shop_a)
    csrf = await sign_in(web, db, shop_a.agent_ids["agent"])
    page = await web.get(f"/app/c/{conv}")
    assert page.status_code == 200
    assert re.findall(r'data-order-action="([a-z-]+)"', page.text) == [
        "cancel",
        "refund",
        "shipping-address",
        "resend-confirmation",
        "note",
        "tags",
    ]
    assert 'title="demo">' in page.text and "Demo store</span>" in page.text  # which store the order is from

    base = f"/app/c/{conv}/orders/{order_id}/cancel"
    form = await web.get(base, headers=HX)
    assert form.status_code == 200
    assert 'data-panel="cancel" data-state="form"' in form.text
    assert 'name="restock" value="1" checked' in form.text
    before = await snapshot(db)
    fields = {"csrf_token": csrf, "restock": "1", "refund": "1", "reason": "customer"}
    preview = await web.post(base, data={**fields, "step": "preview"}, headers=HX)
    assert preview.status_code == 200
    assert 'data-state="preview"' in preview.text
    assert "Cancel order 1001 in Demo store." in preview.text
    assert "Refund €49.90 to the customer." in preview.text
    assert "Put the items back in stock." in preview.text
    assert await snapshot(db) == before  # a preview changes nothing

    done = await web.post(base, data={**fields, "step": "confirm"}, headers=HX)
    assert done.status_code == 200
    assert (done.headers["HX-Retarget"], done.headers["HX-Reswap"]) == ("#sidebar", "outerHTML")
    assert 'data-result="cancel"' in done.text
    assert "The demo store cancelled order 1001" in done.text
    assert 'data-event="order.cancelled"' in done.text
    assert "Agent shop-a</strong>" in done.text and "cancelled the order" in done.text
    assert "Paid → Refunded · refund €49.90 · restocked" in re.sub(r"\s+", " ", done.text)
    assert 'data-order-action="cancel"' not in done.text  # no longer possible
    assert await rows(db, "SELECT financial_status, refunded_minor, cancel_reason FROM orders") == [
        ("refunded", 4990, "customer")
    ]
    assert await rows(
        db, "SELECT type, actor_type, actor_id, order_id FROM events WHERE type LIKE 'order.%'"
    ) == [("order.cancelled", "agent", shop_a.agent_ids["agent"], order_id)]

    # German: the same flow, translated
    web.cookies.set("storedesk_lang", "de")
    form = await web.get(f"/app/c/{conv}/orders/{order_id}/note", headers=HX)
    assert "Notiz hinzufügen · #1001" in form.text
    page = await web.get(f"/app/c/{conv}")
    assert "hat die Bestellung storniert" in page.text


async def test_refund_one_line_and_bad_input_is_explained_next_to_the_field(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    order_id, (mug, vase) = await demo_order(db, shop_a)
    conv = await conversation(db, shop_a)
    csrf = await sign_in(web, db, shop_a.agent_ids["agent"])
    url = f"/app/c/{conv}/orders/{order_id}/refund"
    before = await snapshot(db)
    bad: list[tuple[dict[str, str], str, str]] = [
        ({"amount": "50.00"}, "amount", "More than is left to refund (49.90 EUR)."),
        ({f"qty_{mug}": "3"}, f"qty_{mug}", "At most 2."),
        ({f"qty_{mug}": "x"}, f"qty_{mug}", "Enter a whole number."),
        ({"shipping": "abc"}, "shipping", "Enter an amount like 12.50."),
        ({"amount": "NaN"}, "amount", "Enter an amount like 12.50."),
        ({"amount": "Infinity"}, "amount", "Enter an amount like 12.50."),
        ({"amount": "1.005"}, "amount", "Enter an amount like 12.50."),
        ({"amount": "-5"}, "amount", "Enter an amount like 12.50."),
        ({"amount": "0"}, "amount", "Enter an amount like 12.50."),
        ({}, "lines", "Choose what to refund: a quantity of a line, shipping or an amount."),
    ]
    for data, name, message in bad:
        r = await web.post(url, data={"csrf_token": csrf, "step": "confirm", **data}, headers=HX)
        assert r.status_code == 422, data
        assert field_error(r.text, name) == message, data
        assert name == "lines" or f'name="{name}"' in r.text.split('aria-invalid="true"')[0][-300:]
    assert await snapshot(db) == before

    r = await web.post(url, data={"csrf_token": csrf, "step": "preview", f"qty_{vase}": "1"}, headers=HX)
    assert r.status_code == 200
    assert "Send €25.00 back to the customer." in r.text and "€24.90 stays refundable." in r.text
    assert f'name="qty_{vase}" value="1"' in r.text  # carried to the confirmation
    r = await web.post(url, data={"csrf_token": csrf, "step": "confirm", f"qty_{vase}": "1"}, headers=HX)
    assert r.status_code == 200, r.text
    assert "The demo store refunded 25.00 EUR on order 1001" in r.text
    assert await rows(db, "SELECT refunded_quantity FROM order_lines ORDER BY id") == [(0,), (1,)]
    assert await rows(db, "SELECT financial_status, refunded_minor FROM orders") == [
        ("partially_refunded", 2500)
    ]
    assert "€25.00 refunded · refunded in total: €0.00 → €25.00" in re.sub(r"\s+", " ", r.text)

    # an empty address: every missing field says so
    r = await web.post(
        f"/app/c/{conv}/orders/{order_id}/shipping-address",
        data={"csrf_token": csrf, "step": "confirm", "name": "", "address1": " ", "city": "Berlin"},
        headers=HX,
    )
    assert r.status_code == 422
    assert [field_error(r.text, f) for f in ("name", "address1", "zip", "country_code")] == ["Required."] * 4
    assert 'data-error-for="city"' not in r.text
    r = await web.post(
        f"/app/c/{conv}/orders/{order_id}/shipping-address",
        data={
            "csrf_token": csrf,
            "step": "confirm",
            "name": "Grace Hopper",
            "address1": "Unter den Linden 5",
            "city": "Berlin",
            "zip": "10117",
            "country_code": "D1",
        },
        headers=HX,
    )
    assert field_error(r.text, "country_code") == "Use the two-letter country code, e.g. DE."
    assert await scalar(db, "SELECT count(*) FROM events WHERE type LIKE 'order.%'") == 1


async def test_viewers_other_shops_and_forged_posts_change_nothing(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    order_id, (mug, _) = await demo_order(db, shop_a)
    conv = await conversation(db, shop_a)
    attempts: list[tuple[str, dict[str, str]]] = [
        ("cancel", {"restock": "1", "refund": "1"}),
        ("refund", {f"qty_{mug}": "1"}),
        (
            "shipping-address",
            {"name": "X", "address1": "Y 1", "city": "Z", "zip": "1", "country_code": "DE"},
        ),
        ("note", {"note": "hi"}),
        ("tags", {"tags": "vip"}),
        ("returns", {f"qty_{mug}": "1"}),
        ("resend-confirmation", {}),
    ]
    viewer, theirs, agent = (
        await issue(db, shop_a.agent_ids["viewer"]),
        await issue(db, shop_b.agent_ids["admin"]),
        await issue(db, shop_a.agent_ids["agent"]),
    )
    their_conv = await conversation(db, shop_b)
    before = await snapshot(db)

    csrf = use(web, viewer)
    page = await web.get(f"/app/c/{conv}")
    assert page.status_code == 200 and "#1001" in page.text
    assert "data-order-action=" not in page.text and "order_panel" not in page.text
    for slug, data in attempts:
        r = await web.get(f"/app/c/{conv}/orders/{order_id}/{slug}")
        assert r.status_code == 403, slug
        r = await web.post(
            f"/app/c/{conv}/orders/{order_id}/{slug}",
            data={"csrf_token": csrf, "step": "confirm", **data},
        )
        assert r.status_code == 403, slug
        assert "Your role does not allow this." in r.text

    csrf = use(web, theirs)
    for slug, data in attempts:
        r = await web.post(
            f"/app/c/{conv}/orders/{order_id}/{slug}",
            data={"csrf_token": csrf, "step": "confirm", **data},
        )
        assert r.status_code == 404, slug
    # their own conversation, our order: still not found
    r = await web.post(
        f"/app/c/{their_conv}/orders/{order_id}/cancel",
        data={"csrf_token": csrf, "step": "confirm", "restock": "1"},
    )
    assert r.status_code == 404
    r = await web.get(f"/app/c/{their_conv}/orders/{order_id}/cancel")
    assert r.status_code == 404

    csrf = use(web, agent)
    for slug, data in attempts:
        r = await web.post(f"/app/c/{conv}/orders/{order_id}/{slug}", data={"step": "confirm", **data})
        assert r.status_code == 403, slug
        assert "The form has expired. Reload the page and try again." in r.text
        r = await web.post(
            f"/app/c/{conv}/orders/{order_id}/{slug}",
            data={"csrf_token": "forged", "step": "confirm", **data},
            headers=HX,
        )
        assert r.status_code == 403, slug
    r = await web.post(
        f"/app/c/{conv}/orders/{order_id}/cancel",
        data={"csrf_token": csrf, "step": "confirm", "restock": "1"},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert await snapshot(db) == before


async def test_without_htmx_the_conversation_page_carries_the_panel(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    order_id, _ = await demo_order(db, shop_a)
    conv = await conversation(db, shop_a)
    csrf = await sign_in(web, db, shop_a.agent_ids["agent"])
    r = await web.get(f"/app/c/{conv}/orders/{order_id}/tags")
    assert r.status_code == 200 and 'id="timeline"' in r.text and 'data-panel="tags"' in r.text
    r = await web.post(
        f"/app/c/{conv}/orders/{order_id}/tags",
        data={"csrf_token": csrf, "step": "preview", "tags": "vip, gift"},
    )
    assert r.status_code == 200 and 'data-state="preview"' in r.text
    r = await web.post(
        f"/app/c/{conv}/orders/{order_id}/tags",
        data={"csrf_token": csrf, "step": "confirm", "tags": "vip, gift"},
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/app/c/{conv}")
    page = await web.get(f"/app/c/{conv}")
    assert "The demo store tagged order 1001" in page.text  # the flash
    assert await rows(db, "SELECT tags FROM orders") in ([(["vip", "gift"],)], [('["vip", "gift"]',)])
    _unused: Any = None


def test_order_and_customer_events_refresh_the_customer_sidebar_live() -> None:
    event = {"type": "order.refunded", "conversation_id": None, "customer_id": 5}
    assert sse_names(event, 3) == ["customer-5"]
    assert sse_names({"type": "order.synced", "customer_id": 5}, 3) == ["customer-5"]
    assert sse_names({"type": "customer.updated", "customer_id": 5}, 3) == ["inbox", "customer-5"]
    assert sse_names({"type": "order.synced", "customer_id": None}, 3) == []


async def test_the_platforms_refusal_is_explained_in_place_and_audited(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld, fakes: Served, run_jobs: Any
) -> None:
    fakes.shopify.reset(orders=1)
    (external,) = list(fakes.shopify.orders)
    r = await web.post("/api/v1/stores", json=shopify_body(fakes), headers=shop_a.h("admin"))
    assert r.status_code == 201, r.text
    await run_jobs()
    async with db.transaction() as session:
        customer_id = (await rows(db, "SELECT customer_id FROM orders"))[0][0]
        conv = await conversations.open_conversation(
            session, shop_id=shop_a.id, actor=SYSTEM, customer_id=customer_id, channel_id=shop_a.channel_id
        )
    order_id = (await rows(db, "SELECT id FROM orders"))[0][0]
    csrf = await sign_in(web, db, shop_a.agent_ids["agent"])
    fakes.shopify.fulfil(external)  # shipped meanwhile; the webhook has not arrived yet
    address = {
        "name": "Grace Hopper",
        "address1": "Unter den Linden 5",
        "city": "Berlin",
        "zip": "10117",
        "country_code": "DE",
    }
    url = f"/app/c/{conv.id}/orders/{order_id}/shipping-address"
    r = await web.post(url, data={"csrf_token": csrf, "step": "preview", **address}, headers=HX)
    assert r.status_code == 200 and "Unter den Linden 5" in r.text
    r = await web.post(url, data={"csrf_token": csrf, "step": "confirm", **address}, headers=HX)
    assert r.status_code == 422
    assert (r.headers["HX-Retarget"], r.headers["HX-Reswap"]) == ("#sidebar", "outerHTML")
    assert 'data-result="refused"' in r.text
    assert "Shopify refused: Shipping address cannot be changed after fulfillment" in r.text
    assert 'data-event="order.action_refused"' in r.text
    assert "tried: Change address" in r.text
    assert await rows(
        db, "SELECT type, actor_id FROM events WHERE type LIKE 'order.%' AND type != 'order.synced'"
    ) == [("order.action_refused", shop_a.agent_ids["agent"])]
    assert fakes.shopify.orders[external]["shipping_address"]["address1"] != "Unter den Linden 5"


async def test_the_action_history_survives_a_customer_merge(
    web: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    order_id, _ = await demo_order(db, shop_a)
    r = await web.post(
        f"/api/v1/orders/{order_id}/actions/note",
        json={"note": "Gift wrap", "confirm": True},
        headers=shop_a.h(),
    )
    assert r.status_code == 200
    async with db.transaction() as session:
        survivor = await create_customer(session, shop_id=shop_a.id, actor=SYSTEM, name="Same person")
        await merge(
            session, shop_id=shop_a.id, actor=SYSTEM, survivor_id=survivor.id, merged_id=shop_a.customer_id
        )
        conv = await conversations.open_conversation(
            session, shop_id=shop_a.id, actor=SYSTEM, customer_id=survivor.id, channel_id=shop_a.channel_id
        )
    await sign_in(web, db, shop_a.agent_ids["agent"])
    sidebar = await web.get(f"/app/c/{conv.id}/sidebar")
    assert 'data-order="1001"' in sidebar.text
    assert 'data-event="order.note_added"' in sidebar.text and "Gift wrap" in sidebar.text
