from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from storedesk.commerce.models import (
    Order,
    OrderLine,
    Product,
    Refund,
    Return,
    Shipment,
    TrackingEvent,
    Variant,
)
from storedesk.kit.repository import ShopRepository


class OrderRepository(ShopRepository[Order]):
    model = Order
    label = "order"

    async def page(
        self,
        *,
        customer_id: int | None = None,
        number: str | None = None,
        financial_status: str | None = None,
        fulfillment_status: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> Sequence[Order]:
        stmt = self.select()
        if customer_id is not None:
            stmt = stmt.where(Order.customer_id == customer_id)
        if number:
            stmt = stmt.where(Order.number == number.lstrip("#"))
        if financial_status:
            stmt = stmt.where(Order.financial_status == financial_status)
        if fulfillment_status:
            stmt = stmt.where(Order.fulfillment_status == fulfillment_status)
        if before_id is not None:
            stmt = stmt.where(Order.id < before_id)
        return (await self.session.execute(stmt.order_by(Order.id.desc()).limit(limit))).scalars().all()

    async def by_number(self, number: str) -> Order | None:
        stmt = self.select().where(Order.number == number.lstrip("#"))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lines(self, order_ids: list[int]) -> dict[int, list[OrderLine]]:
        out: dict[int, list[OrderLine]] = {oid: [] for oid in order_ids}
        if order_ids:
            stmt = (
                select(OrderLine)
                .where(OrderLine.shop_id == self.shop_id, OrderLine.order_id.in_(order_ids))
                .order_by(OrderLine.id)
            )
            for line in (await self.session.execute(stmt)).scalars():
                out[line.order_id].append(line)
        return out

    async def shipments(self, order_ids: list[int]) -> dict[int, list[Shipment]]:
        out: dict[int, list[Shipment]] = {oid: [] for oid in order_ids}
        if order_ids:
            stmt = (
                select(Shipment)
                .where(Shipment.shop_id == self.shop_id, Shipment.order_id.in_(order_ids))
                .order_by(Shipment.id)
            )
            for shipment in (await self.session.execute(stmt)).scalars():
                out[shipment.order_id].append(shipment)
        return out

    async def refunds(self, order_id: int) -> Sequence[Refund]:
        stmt = (
            select(Refund)
            .where(Refund.shop_id == self.shop_id, Refund.order_id == order_id)
            .order_by(Refund.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def returns(self, order_id: int) -> Sequence[Return]:
        stmt = (
            select(Return)
            .where(Return.shop_id == self.shop_id, Return.order_id == order_id)
            .order_by(Return.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


class ShipmentRepository(ShopRepository[Shipment]):
    model = Shipment
    label = "shipment"

    async def page(self, *, order_id: int | None, before_id: int | None, limit: int) -> Sequence[Shipment]:
        stmt = self.select()
        if order_id is not None:
            stmt = stmt.where(Shipment.order_id == order_id)
        if before_id is not None:
            stmt = stmt.where(Shipment.id < before_id)
        return (await self.session.execute(stmt.order_by(Shipment.id.desc()).limit(limit))).scalars().all()

    async def events(self, shipment_ids: list[int]) -> dict[int, list[TrackingEvent]]:
        out: dict[int, list[TrackingEvent]] = {sid: [] for sid in shipment_ids}
        if shipment_ids:
            stmt = (
                select(TrackingEvent)
                .where(TrackingEvent.shop_id == self.shop_id, TrackingEvent.shipment_id.in_(shipment_ids))
                .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
            )
            for ev in (await self.session.execute(stmt)).scalars():
                out[ev.shipment_id].append(ev)
        return out


class ProductRepository(ShopRepository[Product]):
    model = Product
    label = "product"

    async def page(self, *, q: str | None, before_id: int | None, limit: int) -> Sequence[Product]:
        stmt = self.select()
        if q:
            stmt = stmt.where(Product.title.ilike(f"%{q}%"))
        if before_id is not None:
            stmt = stmt.where(Product.id < before_id)
        return (await self.session.execute(stmt.order_by(Product.id.desc()).limit(limit))).scalars().all()

    async def variants(self, product_ids: list[int]) -> dict[int, list[Variant]]:
        out: dict[int, list[Variant]] = {pid: [] for pid in product_ids}
        if product_ids:
            stmt = (
                select(Variant)
                .where(Variant.shop_id == self.shop_id, Variant.product_id.in_(product_ids))
                .order_by(Variant.id)
            )
            for v in (await self.session.execute(stmt)).scalars():
                out[v.product_id].append(v)
        return out
