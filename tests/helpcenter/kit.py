"""Shared by the help-center, tracking and returns tests: wiring the routers into the app (until the
composition root does), a shop with orders, shipments and products, and the demo help center."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from storedesk.commerce.models import Order, OrderLine, Product, Shipment, TrackingEvent, Variant
from storedesk.customers.models import Customer
from storedesk.db.session import Database
from storedesk.demo import content
from storedesk.helpcenter import demo_content, search
from storedesk.helpcenter import endpoints as help_endpoints
from storedesk.helpcenter import web as help_web
from storedesk.kit.time import utcnow
from storedesk.returns import endpoints as returns_endpoints
from storedesk.returns import web as returns_web
from storedesk.shops.models import Shop
from storedesk.tracking import endpoints as tracking_endpoints
from storedesk.tracking import limits
from storedesk.tracking import web as tracking_web

TEST_POLICIES: dict[str, Any] = {
    "return_window_days": 30,
    "return_window_starts": "delivery",
    "free_return_countries": ["DE", "AT"],
    "return_label_fee_minor": 595,
    "restocking_fee_percent": 0,
    "store_credit_bonus_percent": 10,
    "refund_processing_days": 5,
    "returns": {
        "hygiene_categories": ["underwear"],
        "categories": {"lamps": {"window_days": 14}},
        "countries": {"NO": {"customer_pays_shipping": True, "label_fee_minor": 1495}},
        "return_address": {"name": "Nordlys Returns", "address1": "Lagerstraße 5", "zip": "20095",
                           "city": "Hamburg", "country": "DE", "carrier": "DHL"},
    },
}  # fmt: skip


def wire(app: FastAPI) -> FastAPI:
    """Include the self-service routers unless the composition root already does."""
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/help/{shop_slug}/suggest" not in paths:
        app.include_router(help_web.router)
    if "/track/{shop_slug}" not in paths:
        app.include_router(tracking_web.router)
    if "/returns/{shop_slug}" not in paths:
        app.include_router(returns_web.router)
    if "/api/v1/help/articles" not in paths:
        api = APIRouter(prefix="/api/v1")
        for router in (help_endpoints.router, tracking_endpoints.router, returns_endpoints.router):
            api.include_router(router)
        app.include_router(api)
    return app


def reset_state() -> None:
    limits.reset_all()
    search.forget()


@dataclass
class Seeded:
    order_id: int
    number: str
    email: str
    line_ids: list[int]
    variant_ids: dict[str, int]
    shipment_id: int
    customer_id: int
    extra: dict[str, Any] = field(default_factory=dict)


async def seed_order(
    db: Database,
    shop_id: int,
    *,
    number: str = "100234",
    email: str = "lena@example.de",
    customer_language: str = "de",
    country: str = "DE",
    delivered_days_ago: float | None = 5,
    eta_days: float | None = None,
    preferred_channel: str | None = "api",
    now: datetime | None = None,
) -> Seeded:
    """An order of two lines (a shirt, qty 2, and a final-sale vase) with one shipment and events."""
    now = now or utcnow()
    async with db.transaction() as session:
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        shop.policies = {**shop.policies, **TEST_POLICIES}
        customer = Customer(
            shop_id=shop_id,
            name="Lena Müller",
            email=email,
            language=customer_language,
            country=country,
            preferred_channel=preferred_channel,
        )
        session.add(customer)
        shirt = Product(shop_id=shop_id, handle=f"shirt-{number}", title="Linen shirt", category="clothing")
        vase = Product(
            shop_id=shop_id, handle=f"vase-{number}", title="Stoneware vase", category="home", final_sale=True
        )
        session.add_all([shirt, vase])
        await session.flush()
        variants = {
            "M": Variant(
                shop_id=shop_id,
                product_id=shirt.id,
                sku=f"LS-M-{number}",
                title="Linen shirt M / sand",
                size="M",
                color="sand",
                price_minor=4990,
                stock=3,
            ),
            "L": Variant(
                shop_id=shop_id,
                product_id=shirt.id,
                sku=f"LS-L-{number}",
                title="Linen shirt L / sand",
                size="L",
                color="sand",
                price_minor=4990,
                stock=2,
            ),
            "XL": Variant(
                shop_id=shop_id,
                product_id=shirt.id,
                sku=f"LS-XL-{number}",
                title="Linen shirt XL / sand",
                size="XL",
                color="sand",
                price_minor=4990,
                stock=0,
            ),
            "vase": Variant(
                shop_id=shop_id,
                product_id=vase.id,
                sku=f"VS-{number}",
                title="Stoneware vase",
                price_minor=3900,
                stock=5,
            ),
        }
        session.add_all(variants.values())
        await session.flush()
        placed = now - timedelta(days=(delivered_days_ago or 0) + 4)
        order = Order(
            shop_id=shop_id,
            number=number,
            customer_id=customer.id,
            email=email,
            currency="EUR",
            financial_status="paid",
            fulfillment_status="fulfilled",
            subtotal_minor=13880,
            shipping_minor=495,
            total_minor=14375,
            placed_at=placed,
            payment_method="Visa",
            shipping_address={
                "name": "Lena Müller",
                "address1": "Gartenweg 4",
                "zip": "04109",
                "city": "Leipzig",
                "country": country,
            },
        )
        session.add(order)
        await session.flush()
        shirt_line = OrderLine(
            shop_id=shop_id,
            order_id=order.id,
            variant_id=variants["M"].id,
            sku="LS-M",
            title="Linen shirt",
            variant_title="M / sand",
            quantity=2,
            unit_price_minor=4990,
            total_minor=9980,
        )
        vase_line = OrderLine(
            shop_id=shop_id,
            order_id=order.id,
            variant_id=variants["vase"].id,
            sku="VS",
            title="Stoneware vase",
            quantity=1,
            unit_price_minor=3900,
            total_minor=3900,
        )
        session.add_all([shirt_line, vase_line])
        delivered = now - timedelta(days=delivered_days_ago) if delivered_days_ago is not None else None
        shipped = placed + timedelta(hours=20)
        shipment = Shipment(
            shop_id=shop_id,
            order_id=order.id,
            carrier="DHL",
            tracking_number="JJD0001234",
            tracking_url="https://track.example/JJD0001234",
            status="delivered" if delivered else "in_transit",
            shipped_at=shipped,
            estimated_delivery_at=now + timedelta(days=eta_days)
            if eta_days is not None
            else shipped + timedelta(days=2),
            delivered_at=delivered,
        )
        session.add(shipment)
        await session.flush()
        events = [
            (shipped, "label_created", "Shipment information received", "Hamburg, DE"),
            (shipped + timedelta(hours=5), "picked_up", "Parcel picked up by DHL", "Hamburg, DE"),
            (shipped + timedelta(hours=12), "in_transit", "Arrived at delivery depot", "Leipzig, DE"),
            (shipped + timedelta(hours=14), "in_transit", "Sortierung abgeschlossen", "Leipzig, DE"),
        ]
        if delivered:
            events.append((delivered, "delivered", "Delivered to neighbour", "Leipzig, DE"))
        for when, status, text, where in events:
            session.add(
                TrackingEvent(
                    shop_id=shop_id,
                    shipment_id=shipment.id,
                    occurred_at=when,
                    status=status,
                    description=text,
                    location=where,
                )
            )
        await session.flush()
        return Seeded(
            order.id,
            number,
            email,
            [shirt_line.id, vase_line.id],
            {k: v.id for k, v in variants.items()},
            shipment.id,
            customer.id,
        )


async def seed_help_center(db: Database, shop_id: int) -> dict[str, int]:
    async with db.transaction() as session:
        return await demo_content.install(session, shop_id=shop_id, seed_articles=content.ARTICLES)


def client_for(app: FastAPI, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
