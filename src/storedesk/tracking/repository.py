"""Read-only, tenant-scoped queries of the tracking page (the commerce mirror)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from storedesk.commerce.models import Order, OrderLine, Return, Shipment, TrackingEvent
from storedesk.kit.repository import ShopRepository


class TrackingRepository(ShopRepository[Order]):
    model = Order
    label = "order"

    async def by_number(self, number: str, limit: int = 5) -> Sequence[Order]:
        """Orders with this number (numbers are unique per connected store, not per shop)."""
        stmt = self.select().where(Order.number == number).order_by(Order.id).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def lines(self, order_id: int) -> Sequence[OrderLine]:
        stmt = (
            select(OrderLine)
            .where(OrderLine.shop_id == self.shop_id, OrderLine.order_id == order_id)
            .order_by(OrderLine.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def shipments(self, order_id: int) -> Sequence[Shipment]:
        stmt = (
            select(Shipment)
            .where(Shipment.shop_id == self.shop_id, Shipment.order_id == order_id)
            .order_by(Shipment.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def events(self, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]:
        out: dict[int, list[TrackingEvent]] = {sid: [] for sid in shipment_ids}
        if shipment_ids:
            stmt = (
                select(TrackingEvent)
                .where(
                    TrackingEvent.shop_id == self.shop_id, TrackingEvent.shipment_id.in_(list(shipment_ids))
                )
                .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
            )
            for event in (await self.session.execute(stmt)).scalars():
                out[event.shipment_id].append(event)
        return out

    async def returns(self, order_id: int) -> Sequence[Return]:
        stmt = (
            select(Return)
            .where(Return.shop_id == self.shop_id, Return.order_id == order_id)
            .order_by(Return.id)
        )
        return (await self.session.execute(stmt)).scalars().all()
