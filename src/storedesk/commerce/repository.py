from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select

from storedesk.commerce.models import (
    Order,
    OrderLine,
    Product,
    Refund,
    Return,
    ReturnLine,
    Shipment,
    Store,
    TrackingEvent,
    Variant,
)
from storedesk.customers.models import CustomerIdentity, IdentityKind
from storedesk.kit.repository import ShopRepository


def of_shop(column: Any, shop_id: int) -> Any:
    """The tenant filter for a query that already selects by a selective key (order ids, store + platform
    id). Written ``shop_id + 0 = ?`` so SQLite's planner — which has no statistics until ANALYZE — cannot
    pick the low-selectivity ``shop_id`` index over the key's index and scan every row of the shop (it
    does, even for ``shop_id = 1 AND order_id = 5``). PostgreSQL plans it the same way as before."""
    return (column + 0) == shop_id


class StoreRepository(ShopRepository[Store]):
    model = Store
    label = "store"

    async def all(self) -> Sequence[Store]:
        return (await self.session.execute(self.select().order_by(Store.id))).scalars().all()

    async def counts(self, store_id: int) -> dict[str, int]:
        """How much of the store is mirrored: orders, lines, products, variants, shipments, refunds,
        returns, and customers known under one of its customer ids."""
        out: dict[str, int] = {}
        for name, stmt in (
            (
                "orders",
                select(func.count())
                .select_from(Order)
                .where(Order.shop_id == self.shop_id, Order.store_id == store_id),
            ),
            (
                "products",
                select(func.count())
                .select_from(Product)
                .where(Product.shop_id == self.shop_id, Product.store_id == store_id),
            ),
            (
                "variants",
                select(func.count())
                .select_from(Variant)
                .where(Variant.shop_id == self.shop_id, Variant.store_id == store_id),
            ),
            (
                "customers",
                select(func.count())
                .select_from(CustomerIdentity)
                .where(
                    CustomerIdentity.shop_id == self.shop_id,
                    CustomerIdentity.kind == IdentityKind.store_customer,
                    CustomerIdentity.value.like(f"{store_id}:%"),
                ),
            ),
        ):
            out[name] = int((await self.session.execute(stmt)).scalar_one())
        return out

    async def names(self, store_ids: Iterable[int | None]) -> dict[int, str]:
        ids = sorted({i for i in store_ids if i is not None})
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Store.id, Store.name).where(Store.shop_id == self.shop_id, Store.id.in_(ids))
        )
        return {int(i): str(n) for i, n in rows.all()}


async def store_by_id_any_shop(session: Any, store_id: int) -> Store | None:
    """The one lookup that crosses tenants: a platform webhook names its store only by the id in its URL.
    Callers must verify the delivery with that store's own secret before trusting anything in it."""
    found: Store | None = (
        await session.execute(select(Store).where(Store.id == store_id))
    ).scalar_one_or_none()
    return found


class MirrorRepository:
    """Batch reads the sync needs, scoped to one shop (and one store where it applies)."""

    def __init__(self, session: Any, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    async def customer_ids_by_identity(self, kind: IdentityKind, values: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(values))
        out: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = await self.session.execute(
                select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
                    CustomerIdentity.shop_id == self.shop_id,
                    CustomerIdentity.kind == kind,
                    CustomerIdentity.value.in_(chunk),
                )
            )
            out.update({str(v): int(c) for v, c in rows.all()})
        return out

    async def order_versions(self, store_id: int, external_ids: Iterable[str]) -> dict[str, tuple[int, Any]]:
        """external id → (order id, platform_updated_at) for the orders of one store."""
        wanted = sorted(set(external_ids))
        out: dict[str, tuple[int, Any]] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.execute(
                select(Order.external_id, Order.id, Order.platform_updated_at).where(
                    of_shop(Order.shop_id, self.shop_id),
                    Order.store_id == store_id,
                    Order.external_id.in_(wanted[start : start + 500]),
                )
            )
            out.update({str(e): (int(i), u) for e, i, u in rows.all()})
        return out

    async def variant_ids(self, store_id: int, external_ids: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(external_ids))
        out: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.execute(
                select(Variant.external_id, Variant.id).where(
                    of_shop(Variant.shop_id, self.shop_id),
                    Variant.store_id == store_id,
                    Variant.external_id.in_(wanted[start : start + 500]),
                )
            )
            out.update({str(e): int(i) for e, i in rows.all()})
        return out

    async def order_for_update(self, store_id: int, external_id: str) -> Order | None:
        stmt = (
            select(Order)
            .where(
                of_shop(Order.shop_id, self.shop_id),
                Order.store_id == store_id,
                Order.external_id == external_id,
            )
            .with_for_update()
        )
        found: Order | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def return_lines(self, return_ids: list[int]) -> dict[int, list[ReturnLine]]:
        out: dict[int, list[ReturnLine]] = {rid: [] for rid in return_ids}
        if return_ids:
            stmt = (
                select(ReturnLine)
                .where(of_shop(ReturnLine.shop_id, self.shop_id), ReturnLine.return_id.in_(return_ids))
                .order_by(ReturnLine.id)
            )
            for line in (await self.session.execute(stmt)).scalars():
                out[line.return_id].append(line)
        return out


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
        """The most recent order with this number (numbers are unique per store; with several stores the
        newest wins — use :meth:`page` with ``number`` to see all)."""
        stmt = (
            self.select()
            .where(Order.number == number.lstrip("#"))
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_action(self, order_id: int) -> Order:
        """The order, locked for the first phase of an action (FOR UPDATE on PostgreSQL)."""
        return await self.get_for_update(order_id)

    async def lines(self, order_ids: list[int]) -> dict[int, list[OrderLine]]:
        out: dict[int, list[OrderLine]] = {oid: [] for oid in order_ids}
        if order_ids:
            stmt = (
                select(OrderLine)
                .where(of_shop(OrderLine.shop_id, self.shop_id), OrderLine.order_id.in_(order_ids))
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
                .where(of_shop(Shipment.shop_id, self.shop_id), Shipment.order_id.in_(order_ids))
                .order_by(Shipment.id)
            )
            for shipment in (await self.session.execute(stmt)).scalars():
                out[shipment.order_id].append(shipment)
        return out

    async def refunds(self, order_id: int) -> Sequence[Refund]:
        stmt = (
            select(Refund)
            .where(of_shop(Refund.shop_id, self.shop_id), Refund.order_id == order_id)
            .order_by(Refund.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def returns(self, order_id: int) -> Sequence[Return]:
        stmt = (
            select(Return)
            .where(of_shop(Return.shop_id, self.shop_id), Return.order_id == order_id)
            .order_by(Return.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def refunds_of(self, order_ids: list[int]) -> dict[int, list[Refund]]:
        """``refunds`` for several orders in one query."""
        out: dict[int, list[Refund]] = {oid: [] for oid in order_ids}
        if order_ids:
            stmt = (
                select(Refund)
                .where(of_shop(Refund.shop_id, self.shop_id), Refund.order_id.in_(order_ids))
                .order_by(Refund.id)
            )
            for refund in (await self.session.execute(stmt)).scalars():
                out[refund.order_id].append(refund)
        return out

    async def returns_of(self, order_ids: list[int]) -> dict[int, list[Return]]:
        """``returns`` for several orders in one query."""
        out: dict[int, list[Return]] = {oid: [] for oid in order_ids}
        if order_ids:
            stmt = (
                select(Return)
                .where(of_shop(Return.shop_id, self.shop_id), Return.order_id.in_(order_ids))
                .order_by(Return.id)
            )
            for ret in (await self.session.execute(stmt)).scalars():
                out[ret.order_id].append(ret)
        return out


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
                .where(
                    of_shop(TrackingEvent.shop_id, self.shop_id), TrackingEvent.shipment_id.in_(shipment_ids)
                )
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
                .where(of_shop(Variant.shop_id, self.shop_id), Variant.product_id.in_(product_ids))
                .order_by(Variant.id)
            )
            for v in (await self.session.execute(stmt)).scalars():
                out[v.product_id].append(v)
        return out
