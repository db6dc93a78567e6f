"""Returns over HTTP on SQLite and PostgreSQL: the portal from order lookup to label, the RMA steps an
agent takes, the money, the customer's notifications and timeline events, double returns, races and
tenant isolation."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from storedesk.commerce.models import Refund, Return, ReturnStatus, Variant
from storedesk.conversations.models import Conversation, Message
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.helpcenter.public import fmt_date
from storedesk.kit.actor import Actor
from storedesk.kit.errors import ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.returns import service
from storedesk.returns.models import ReturnCase, StoreCredit
from tests.conftest import ShopWorld, count_rows
from tests.helpcenter.kit import seed_order

pytestmark = pytest.mark.anyio
DE = {"Accept-Language": "de-DE,de;q=0.9"}


async def _portal_return(
    client: httpx.AsyncClient, line_id: int, *, method: str = "refund", extra: dict[str, str] | None = None
) -> str:
    found = await client.post(
        "/returns/shop-a", data={"number": "#100234", "email": "LENA@example.de "}, headers=DE
    )
    assert found.status_code == 303
    choose_url = found.headers["location"]
    assert re.fullmatch(r"/returns/shop-a/o/[A-Za-z0-9_-]{43}\?lang=de", choose_url)
    token = choose_url.split("/")[4].split("?")[0]
    form = {
        f"pick_{line_id}": "1",
        f"qty_{line_id}": "1",
        f"reason_{line_id}": "too_big",
        "method": method,
        **(extra or {}),
    }
    review = await client.post(f"/returns/shop-a/o/{token}/review?lang=de", data=form)
    assert review.status_code == 200, review.text
    done = await client.post(f"/returns/shop-a/o/{token}/confirm?lang=de", data=form)
    assert done.status_code == 303, done.text
    return done.headers["location"]


async def _events(
    db: Database, shop_id: int, prefix: str = "return."
) -> list[tuple[str, int | None, int | None]]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Event.type, Event.customer_id, Event.order_id)
            .where(Event.shop_id == shop_id, Event.type.like(f"{prefix}%"))
            .order_by(Event.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def _messages(db: Database, shop_id: int, customer_id: int) -> list[str]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.shop_id == shop_id,
                Conversation.customer_id == customer_id,
                Message.direction == "outbound",
            )
            .order_by(Message.id)
        )
        return list(rows.scalars())


async def test_portal_return_with_label_then_refund(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    seeded = await seed_order(db, shop_a.id, delivered_days_ago=5)
    shirt, vase = seeded.line_ids
    found = await client.post(
        "/returns/shop-a", data={"number": "100234", "email": "lena@example.de"}, headers=DE
    )
    choose = await client.get(found.headers["location"])
    assert choose.status_code == 200
    last_day = fmt_date(
        (utcnow() - timedelta(days=5)).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")).date()
        + timedelta(days=30),
        "de",
    )
    assert f"Rücksendung bis {last_day} möglich (noch 25 Tage)." in choose.text
    assert "Final Sale: Dieser Artikel ist von der Rückgabe ausgeschlossen." in choose.text
    assert f'name="pick_{vase}"' not in choose.text  # nothing to tick for the final-sale vase

    status_url = await _portal_return(client, shirt)
    assert re.fullmatch(r"/returns/shop-a/r/[A-Za-z0-9_-]{43}\?lang=de", status_url)
    status = await client.get(status_url)
    assert "Rücksendung R100234-1 ist angemeldet" in status.text
    assert 'data-status="label_issued"' in status.text
    label = await client.get(status_url.split("?")[0] + "/label.pdf")
    assert label.status_code == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.content.startswith(b"%PDF-")

    async with db.transaction() as session:
        ret = (await session.execute(select(Return).where(Return.shop_id == shop_a.id))).scalar_one()
        case = (await session.execute(select(ReturnCase).where(ReturnCase.return_id == ret.id))).scalar_one()
    assert (ret.number, ret.status, ret.customer_id) == (
        "R100234-1",
        ReturnStatus.label_issued,
        seeded.customer_id,
    )
    assert (case.method, case.items_minor, case.label_fee_minor, case.payout_minor, case.language) == (
        "refund",
        4990,
        0,
        4990,
        "de",
    )
    assert case.label_number == service.label_number(shop_a.id, ret.id)
    assert await _events(db, shop_a.id) == [
        ("return.requested", seeded.customer_id, seeded.order_id),
        ("return.approved", seeded.customer_id, seeded.order_id),
        ("return.label_issued", seeded.customer_id, seeded.order_id),
    ]
    messages = await _messages(db, shop_a.id, seeded.customer_id)
    assert len(messages) == 1
    assert messages[0].startswith(
        "Ihre Rücksendung R100234-1 zur Bestellung 100234 ist bereit. Hier drucken Sie das Rücksendeetikett: http"
    )

    for step in ("in_transit", "received"):
        moved = await client.post(
            f"/api/v1/returns/{ret.id}/transitions", json={"to": step}, headers=shop_a.h()
        )
        assert moved.status_code == 200, moved.text
    inspected = await client.post(
        f"/api/v1/returns/{ret.id}/transitions",
        json={"to": "inspected", "inspection": {"condition": "ok", "notes": "as new"}},
        headers=shop_a.h(),
    )
    assert inspected.json()["next_step"] == "refunded"
    wrong_end = await client.post(
        f"/api/v1/returns/{ret.id}/transitions", json={"to": "store_credit"}, headers=shop_a.h()
    )
    assert wrong_end.status_code == 409
    refunded = await client.post(
        f"/api/v1/returns/{ret.id}/transitions", json={"to": "refunded"}, headers=shop_a.h()
    )
    assert refunded.status_code == 200
    assert (refunded.json()["status"], refunded.json()["next_step"]) == ("refunded", None)
    async with db.transaction() as session:
        refunds = (await session.execute(select(Refund).where(Refund.shop_id == shop_a.id))).scalars().all()
    assert [(r.amount_minor, r.currency, r.status, r.return_id) for r in refunds] == [
        (4990, "EUR", "pending", ret.id)
    ]
    assert [e[0] for e in await _events(db, shop_a.id)] == [
        "return.requested",
        "return.approved",
        "return.label_issued",
        "return.in_transit",
        "return.received",
        "return.inspected",
        "return.refunded",
    ]
    messages = await _messages(db, shop_a.id, seeded.customer_id)
    assert len(messages) == 5
    assert messages[-1] == (
        "Wir haben 49,90\u00a0€ für Ihre Rücksendung R100234-1 auf Ihr ursprüngliches Zahlungsmittel erstattet. "
        "Je nach Bank kann es 3–5 Werktage dauern, bis Sie den Betrag sehen."
    )
    done = await client.post(
        f"/api/v1/returns/{ret.id}/transitions", json={"to": "received"}, headers=shop_a.h()
    )
    assert done.status_code == 409


async def test_a_line_cannot_be_returned_twice(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    seeded = await seed_order(db, shop_a.id)
    shirt = seeded.line_ids[0]
    body = {
        "order_id": seeded.order_id,
        "method": "refund",
        "lines": [{"order_line_id": shirt, "quantity": 2, "reason": "too_big"}],
    }
    first = await client.post("/api/v1/returns", json=body, headers=shop_a.h())
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["payout_minor"]) == ("requested", 9980)
    again = await client.post("/api/v1/returns", json=body, headers=shop_a.h())
    assert again.status_code == 422
    assert again.json()["error"]["details"] == {"field": "lines", "line_id": shirt}
    one = {**body, "lines": [{"order_line_id": shirt, "quantity": 1}]}
    assert (await client.post("/api/v1/returns", json=one, headers=shop_a.h())).status_code == 422
    eligibility = await client.get(
        f"/api/v1/orders/{seeded.order_id}/return-eligibility?language=en", headers=shop_a.h()
    )
    shirt_line = next(line for line in eligibility.json()["lines"] if line["order_line_id"] == shirt)
    assert (shirt_line["eligible"], shirt_line["returnable_quantity"], shirt_line["reasons"]) == (
        False,
        0,
        ["Already returned or part of an open return."],
    )
    # a rejected return frees the line again
    rejected = await client.post(
        f"/api/v1/returns/{first.json()['id']}/transitions",
        json={"to": "rejected", "reason": "Worn, with stains"},
        headers=shop_a.h(),
    )
    assert rejected.json()["rejection_reason"] == "Worn, with stains"
    again = await client.post("/api/v1/returns", json=body, headers=shop_a.h())
    assert again.status_code == 201
    assert again.json()["number"] == "R100234-2"


async def test_concurrent_requests_cannot_oversell_a_line(db: Database, shop_a: ShopWorld) -> None:
    seeded = await seed_order(db, shop_a.id)
    shirt = seeded.line_ids[0]

    async def attempt() -> str:
        try:
            async with db.transaction() as session:
                await service.create_return(
                    session,
                    shop_id=shop_a.id,
                    actor=Actor("agent", shop_a.agent_ids["agent"]),
                    order_id=seeded.order_id,
                    lines=[service.LineRequest(shirt, 2, "too_big")],
                    method="refund",
                    source="agent",
                )
            return "created"
        except ValidationFailed:
            return "refused"

    results = sorted(await asyncio.gather(attempt(), attempt(), attempt()))
    assert results == ["created", "refused", "refused"]
    assert await count_rows(db, "returns") == 1
    assert await count_rows(db, "return_lines") == 1


async def test_store_credit_and_exchange(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    seeded = await seed_order(db, shop_a.id)
    shirt = seeded.line_ids[0]
    credit = await client.post(
        "/api/v1/returns",
        json={
            "order_id": seeded.order_id,
            "method": "store_credit",
            "lines": [{"order_line_id": shirt, "quantity": 1}],
        },
        headers=shop_a.h(),
    )
    assert (credit.json()["payout_minor"], credit.json()["bonus_minor"]) == (5489, 499)
    exchange_bad = await client.post(
        "/api/v1/returns",
        json={
            "order_id": seeded.order_id,
            "method": "exchange",
            "lines": [
                {"order_line_id": shirt, "quantity": 1, "exchange_variant_id": seeded.variant_ids["XL"]}
            ],
        },
        headers=shop_a.h(),
    )
    assert exchange_bad.status_code == 422
    assert exchange_bad.json()["error"]["message"] == "that size or colour is out of stock"
    exchange = await client.post(
        "/api/v1/returns",
        json={
            "order_id": seeded.order_id,
            "method": "exchange",
            "lines": [
                {"order_line_id": shirt, "quantity": 1, "exchange_variant_id": seeded.variant_ids["L"]}
            ],
        },
        headers=shop_a.h(),
    )
    assert (exchange.status_code, exchange.json()["payout_minor"]) == (201, 0)
    for ret in (credit.json(), exchange.json()):
        for step in ("approved", "received", "inspected"):
            assert (
                await client.post(
                    f"/api/v1/returns/{ret['id']}/transitions", json={"to": step}, headers=shop_a.h()
                )
            ).status_code == 200
    end_credit = await client.post(
        f"/api/v1/returns/{credit.json()['id']}/transitions", json={"to": "store_credit"}, headers=shop_a.h()
    )
    end_exchange = await client.post(
        f"/api/v1/returns/{exchange.json()['id']}/transitions", json={"to": "exchanged"}, headers=shop_a.h()
    )
    assert (end_credit.json()["status"], end_exchange.json()["status"]) == ("store_credit", "exchanged")
    async with db.transaction() as session:
        credits = (await session.execute(select(StoreCredit))).scalars().all()
        stock = (
            await session.execute(select(Variant.stock).where(Variant.id == seeded.variant_ids["L"]))
        ).scalar_one()
        refunds = (await session.execute(select(func.count()).select_from(Refund))).scalar_one()
    assert [(c.amount_minor, c.customer_id, c.return_id) for c in credits] == [
        (5489, seeded.customer_id, credit.json()["id"])
    ]
    assert re.fullmatch(r"SC-[0-9A-F]{10}", credits[0].code)
    assert (stock, refunds) == (1, 0)
    messages = await _messages(db, shop_a.id, seeded.customer_id)
    assert (
        messages[-2]
        == f"Ihr Guthaben von 54,89\u00a0€ für die Rücksendung {credit.json()['number']} ist bereit. Lösen Sie an der Kasse den Code {credits[0].code} ein."
    )
    assert (
        messages[-1]
        == f"Ihr Umtausch zur Rücksendung {exchange.json()['number']} ist unterwegs: Wir schicken Ihnen Linen shirt L / sand."
    )


async def test_viewers_read_agents_act(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    seeded = await seed_order(db, shop_a.id)
    created = await client.post(
        "/api/v1/returns",
        json={
            "order_id": seeded.order_id,
            "method": "refund",
            "lines": [{"order_line_id": seeded.line_ids[0], "quantity": 1}],
        },
        headers=shop_a.h(),
    )
    rid = created.json()["id"]
    assert (await client.get(f"/api/v1/returns/{rid}", headers=shop_a.h("viewer"))).status_code == 200
    denied = await client.post(
        f"/api/v1/returns/{rid}/transitions", json={"to": "approved"}, headers=shop_a.h("viewer")
    )
    assert denied.status_code == 403
    assert (await client.get(f"/api/v1/returns/{rid}", headers=shop_a.h())).json()["status"] == "requested"
    assert [e[0] for e in await _events(db, shop_a.id)] == ["return.requested"]


async def test_tenant_isolation(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    seeded = await seed_order(db, shop_a.id)
    status_url = await _portal_return(client, seeded.line_ids[0])
    async with db.transaction() as session:
        rid = (await session.execute(select(Return.id))).scalar_one()
    before_events = await count_rows(db, "events")
    for method, url, body in [
        ("get", f"/api/v1/returns/{rid}", None),
        ("get", f"/api/v1/returns/{rid}/label.pdf", None),
        ("post", f"/api/v1/returns/{rid}/transitions", {"to": "in_transit"}),
        ("get", f"/api/v1/orders/{seeded.order_id}/return-eligibility", None),
        (
            "post",
            "/api/v1/returns",
            {
                "order_id": seeded.order_id,
                "method": "refund",
                "lines": [{"order_line_id": seeded.line_ids[0], "quantity": 1}],
            },
        ),
    ]:
        response = await client.request(method, url, json=body, headers=shop_b.h("admin"))
        assert response.status_code == 404, (url, response.text)
    assert (await client.get("/api/v1/returns", headers=shop_b.h())).json() == {
        "items": [],
        "next_cursor": None,
    }
    # shop A's signed links mean nothing under shop B's address
    foreign = await client.get(status_url.replace("/shop-a/", "/shop-b/"))
    assert foreign.status_code == 404
    assert "Rücksendung" not in foreign.text or "R100234" not in foreign.text
    assert (
        await client.get(status_url.replace("/shop-a/", "/shop-b/").split("?")[0] + "/label.pdf")
    ).status_code == 404
    async with db.transaction() as session:
        assert (await session.execute(select(Return.status))).scalar_one() == ReturnStatus.label_issued
    assert await count_rows(db, "events") == before_events
    assert await count_rows(db, "returns") == 1


async def test_agent_queue_pages(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    from tests.web.helpers import login

    seeded = await seed_order(db, shop_a.id)
    created = await client.post(
        "/api/v1/returns",
        json={
            "order_id": seeded.order_id,
            "method": "refund",
            "lines": [{"order_line_id": seeded.line_ids[0], "quantity": 1}],
        },
        headers=shop_a.h(),
    )
    rid = created.json()["id"]
    csrf = await login(client, "agent@shop-a.test")
    queue = await client.get("/app/returns?status=todo")
    assert queue.status_code == 200
    assert f'data-return="{rid}"' in queue.text and "R100234-1" in queue.text
    detail = await client.get(f"/app/returns/{rid}")
    assert 'data-status="requested"' in detail.text
    no_csrf = await client.post(f"/app/returns/{rid}/advance", data={"to": "approved"})
    assert no_csrf.status_code == 403
    moved = await client.post(f"/app/returns/{rid}/advance", data={"to": "approved", "csrf_token": csrf})
    assert (moved.status_code, moved.headers["location"]) == (303, f"/app/returns/{rid}")
    assert (await client.get(f"/api/v1/returns/{rid}", headers=shop_a.h())).json()["status"] == "approved"
    other = await client.get("/app/returns/999999")
    assert other.status_code == 404


async def test_refund_goes_through_the_store_connector(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs: object
) -> None:
    import storedesk.returns.tasks  # noqa: F401  (registers returns.refund)
    from storedesk.commerce.models import Order, OrderLine, Store

    seeded = await seed_order(db, shop_a.id)
    async with db.transaction() as session:
        store = Store(shop_id=shop_a.id, platform="demo", name="Demo store", status="active")
        session.add(store)
        await session.flush()
        order = await session.get(Order, seeded.order_id)
        assert order is not None
        order.store_id, order.external_id = store.id, "ext-100234"
        for n, line_id in enumerate(seeded.line_ids):
            line = await session.get(OrderLine, line_id)
            assert line is not None
            line.external_id = f"line-{n}"
    created = await client.post(
        "/api/v1/returns",
        json={
            "order_id": seeded.order_id,
            "method": "refund",
            "lines": [{"order_line_id": seeded.line_ids[0], "quantity": 1}],
        },
        headers=shop_a.h(),
    )
    rid = created.json()["id"]
    for step in ("approved", "received", "inspected", "refunded"):
        moved = await client.post(f"/api/v1/returns/{rid}/transitions", json={"to": step}, headers=shop_a.h())
        assert moved.status_code == 200, moved.text
    async with db.transaction() as session:
        assert (
            await session.execute(select(func.count()).select_from(Refund))
        ).scalar_one() == 0  # not yet: a job
    assert await run_jobs() >= 1  # type: ignore[operator]
    async with db.transaction() as session:
        refunds = (await session.execute(select(Refund.amount_minor, Refund.order_id))).all()
        refunded_minor = (
            await session.execute(select(Order.refunded_minor).where(Order.id == seeded.order_id))
        ).scalar_one()
    assert [tuple(r) for r in refunds] == [(4990, seeded.order_id)]
    assert refunded_minor == 4990
    assert [e[0] for e in await _events(db, shop_a.id)][-2:] == ["return.refunded", "return.refund_sent"]
