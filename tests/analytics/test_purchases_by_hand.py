"""Customer retention and repeat purchase rate on a small order history, against values computed by hand;
and which filters they honour (only the period), said in the answer.

Shop time zone Europe/Berlin. Period P = 1–31 March 2025; previous period = 29 January – 28 February
(31 days); the one before = 29 December – 28 January.

c1  10 Feb, 5 Mar            previous buyer, buyer in P → retained; 2 orders by 31 Mar → repeat
c2  15 Feb                   previous buyer, gone → not retained
c3  3 Mar, 20 Mar            new in P with 2 orders → repeat
c4  10 Mar                   new in P, one order → not repeat
c5  5 Jan, 12 Mar            buyer in P, not in the previous period (5 Jan is before it) → repeat
c6  20 Feb (cancelled), 15 Mar   the cancelled order does not count: new in P, one order
c7  2 Apr                    outside P
--  an order in March without a customer: not counted

P:        buyers 5 (c1 c3 c4 c5 c6), repeat 3 (c1 c3 c5) → 0.6; previous buyers 2 (c1 c2), retained 1 → 0.5
previous: buyers 2 (c1 c2), repeat 0 → 0.0; its previous buyers 1 (c5), retained 0 → 0.0
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from storedesk.analytics.rollup import refresh_shop
from storedesk.commerce.models import Order
from storedesk.customers.service import create_customer
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio
BERLIN = ZoneInfo("Europe/Berlin")

HISTORY: dict[str, list[tuple[int, int, bool]]] = {  # customer → (month, day, cancelled)
    "c1": [(2, 10, False), (3, 5, False)],
    "c2": [(2, 15, False)],
    "c3": [(3, 3, False), (3, 20, False)],
    "c4": [(3, 10, False)],
    "c5": [(1, 5, False), (3, 12, False)],
    "c6": [(2, 20, True), (3, 15, False)],
    "c7": [(4, 2, False)],
    "": [(3, 11, False)],  # no customer
}


async def orders(db: Database, shop: ShopWorld) -> None:
    number = 1000
    async with db.transaction() as session:
        for name, placed in HISTORY.items():
            customer_id = None
            if name:
                c = await create_customer(
                    session, shop_id=shop.id, actor=SYSTEM, name=name, email=f"{name}@example.com"
                )
                await session.flush()
                customer_id = c.id
            for month, day, cancelled in placed:
                number += 1
                when = datetime(2025, month, day, 23, 30, tzinfo=BERLIN)  # late evening: Berlin's day counts
                session.add(
                    Order(
                        shop_id=shop.id,
                        number=str(number),
                        customer_id=customer_id,
                        currency="EUR",
                        financial_status="paid",
                        fulfillment_status="fulfilled",
                        cancelled_at=when + timedelta(hours=1) if cancelled else None,
                        subtotal_minor=1000,
                        total_minor=1000,
                        placed_at=when,
                        created_at=when,
                        updated_at=when,
                    )
                )


PERIOD = {"from": "2025-03-01", "to": "2025-03-31"}
P = {
    "buyers": 5,
    "repeat_buyers": 3,
    "retained_buyers": 1,
    "previous_period_buyers": 2,
    "customer_retention_rate": 0.5,
    "repeat_purchase_rate": 0.6,
}
PREVIOUS = {
    "buyers": 2,
    "repeat_buyers": 0,
    "retained_buyers": 0,
    "previous_period_buyers": 1,
    "customer_retention_rate": 0.0,
    "repeat_purchase_rate": 0.0,
}


def purchases(kpis: dict[str, Any]) -> dict[str, Any]:
    return {k: kpis[k] for k in P}


async def test_retention_and_repeat_purchase_by_hand(
    db: Database, shop_a: ShopWorld, client: httpx.AsyncClient
) -> None:
    await orders(db, shop_a)
    await refresh_shop(db, shop_a.id, safety=timedelta(0), all_buyers=True)

    body = (await client.get("/api/v1/kpis", params=PERIOD, headers=shop_a.h("viewer"))).json()
    assert body["previous"] == {"from": "2025-01-29", "to": "2025-02-28"}
    assert purchases(body["totals"]) == P
    assert purchases(body["previous_totals"]) == PREVIOUS
    assert (body["change"]["customer_retention_rate"], body["change"]["repeat_purchase_rate"]) == (0.5, 0.6)
    assert body["purchases_scope"] == {
        "kpis": ["customer_retention_rate", "repeat_purchase_rate"],
        "filters_applied": ["from", "to"],
        "filters_not_applied": [],
        "in_groups": False,
        "shop_wide": True,
    }

    # support filters do not narrow the buyers (an order has no channel, agent or team) — and the answer says so
    params = {**PERIOD, "channel": str(shop_a.channel_id), "language": "de", "group_by": "agent"}
    body = (await client.get("/api/v1/kpis", params=params, headers=shop_a.h())).json()
    assert purchases(body["totals"]) == P
    assert purchases(body["previous_totals"]) == PREVIOUS
    assert body["purchases_scope"]["filters_not_applied"] == ["channel", "language"]
    assert all(g["kpis"]["customer_retention_rate"] is None for g in body["groups"])

    # a period by itself: February is the previous period above
    feb = {"from": "2025-01-29", "to": "2025-02-28"}
    body = (await client.get("/api/v1/kpis", params=feb, headers=shop_a.h())).json()
    assert purchases(body["totals"]) == PREVIOUS


async def test_dates_out_of_range_are_a_422(shop_a: ShopWorld, client: httpx.AsyncClient) -> None:
    """Found by schemathesis: ``to=0001-01-01`` without ``from`` overflowed computing the default start."""
    for params in ({"to": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "0001-01-01", "to": "2025-01-01"}):
        r = await client.get("/api/v1/kpis", params=params, headers=shop_a.h())
        assert r.status_code == 422, params
        assert r.json()["error"]["code"] == "validation_failed"
