"""Tenant-scoped queries of the returns domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from storedesk.commerce.models import (
    Order,
    OrderLine,
    Product,
    Refund,
    Return,
    ReturnLine,
    ReturnStatus,
    Shipment,
    Variant,
)
from storedesk.events.models import Event
from storedesk.kit.repository import ShopRepository
from storedesk.returns.models import ReturnCase, ReturnLineChoice, StoreCredit

FINAL = (ReturnStatus.rejected, ReturnStatus.refunded, ReturnStatus.exchanged, ReturnStatus.store_credit)


class ReturnRepository(ShopRepository[Return]):
    model = Return
    label = "return"

    async def for_order(self, order_id: int) -> Sequence[Return]:
        stmt = self.select().where(Return.order_id == order_id).order_by(Return.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def number_taken(self, number: str) -> bool:
        stmt = select(Return.id).where(Return.shop_id == self.shop_id, Return.number == number)
        return (await self.session.execute(stmt)).first() is not None

    async def queue(
        self, *, statuses: Sequence[str] | None, before_id: int | None, limit: int
    ) -> Sequence[Return]:
        stmt = self.select()
        if statuses:
            stmt = stmt.where(Return.status.in_(list(statuses)))
        if before_id is not None:
            stmt = stmt.where(Return.id < before_id)
        return (await self.session.execute(stmt.order_by(Return.id.desc()).limit(limit))).scalars().all()

    async def counts(self) -> dict[str, int]:
        stmt = (
            select(Return.status, func.count()).where(Return.shop_id == self.shop_id).group_by(Return.status)
        )
        return {str(s): int(n) for s, n in (await self.session.execute(stmt)).all()}

    async def lines(self, return_ids: Sequence[int]) -> dict[int, list[ReturnLine]]:
        out: dict[int, list[ReturnLine]] = {rid: [] for rid in return_ids}
        if return_ids:
            stmt = (
                select(ReturnLine)
                .where(ReturnLine.shop_id == self.shop_id, ReturnLine.return_id.in_(list(return_ids)))
                .order_by(ReturnLine.id)
            )
            for line in (await self.session.execute(stmt)).scalars():
                out[line.return_id].append(line)
        return out

    async def returned_quantities(self, order_id: int) -> dict[int, int]:
        """order line id → units in returns of the order that were not rejected."""
        stmt = (
            select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
            .join(Return, Return.id == ReturnLine.return_id)
            .where(
                ReturnLine.shop_id == self.shop_id,
                Return.shop_id == self.shop_id,
                Return.order_id == order_id,
                Return.status != ReturnStatus.rejected,
            )
            .group_by(ReturnLine.order_line_id)
        )
        return {int(line): int(q or 0) for line, q in (await self.session.execute(stmt)).all()}


class CaseRepository(ShopRepository[ReturnCase]):
    model = ReturnCase
    label = "return"

    async def for_return(self, return_id: int) -> ReturnCase | None:
        stmt = self.select().where(ReturnCase.return_id == return_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_returns(self, return_ids: Sequence[int]) -> dict[int, ReturnCase]:
        if not return_ids:
            return {}
        stmt = self.select().where(ReturnCase.return_id.in_(list(return_ids)))
        return {c.return_id: c for c in (await self.session.execute(stmt)).scalars()}

    async def choices(self, return_id: int) -> dict[int, ReturnLineChoice]:
        stmt = select(ReturnLineChoice).where(
            ReturnLineChoice.shop_id == self.shop_id, ReturnLineChoice.return_id == return_id
        )
        return {c.return_line_id: c for c in (await self.session.execute(stmt)).scalars()}

    async def committed_minor(self, order_id: int) -> int:
        """Money promised by open returns of the order (refund or store-credit base, bonus excluded)."""
        stmt = (
            select(func.coalesce(func.sum(ReturnCase.payout_minor - ReturnCase.bonus_minor), 0))
            .join(Return, Return.id == ReturnCase.return_id)
            .where(
                ReturnCase.shop_id == self.shop_id,
                ReturnCase.order_id == order_id,
                ReturnCase.method != "exchange",
                Return.status.not_in(list(FINAL)),
            )
        )
        return int((await self.session.execute(stmt)).scalar_one() or 0)


@dataclass
class LineProduct:
    line: OrderLine
    variant: Variant | None
    product: Product | None


class OrderFactsRepository(ShopRepository[Order]):
    model = Order
    label = "order"

    async def by_number(self, number: str, limit: int = 5) -> Sequence[Order]:
        stmt = self.select().where(Order.number == number).order_by(Order.id).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def lines_with_products(self, order_id: int) -> list[LineProduct]:
        stmt = (
            select(OrderLine, Variant, Product)
            .outerjoin(Variant, (Variant.id == OrderLine.variant_id) & (Variant.shop_id == self.shop_id))
            .outerjoin(Product, (Product.id == Variant.product_id) & (Product.shop_id == self.shop_id))
            .where(OrderLine.shop_id == self.shop_id, OrderLine.order_id == order_id)
            .order_by(OrderLine.id)
        )
        return [
            LineProduct(line, variant, product)
            for line, variant, product in (await self.session.execute(stmt)).all()
        ]

    async def shipments(self, order_id: int) -> Sequence[Shipment]:
        stmt = select(Shipment).where(Shipment.shop_id == self.shop_id, Shipment.order_id == order_id)
        return (await self.session.execute(stmt.order_by(Shipment.id))).scalars().all()

    async def refunded_minor(self, order_id: int) -> int:
        stmt = select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
            Refund.shop_id == self.shop_id,
            Refund.order_id == order_id,
            Refund.status.not_in(["failed", "cancelled", "canceled"]),
        )
        return int((await self.session.execute(stmt)).scalar_one() or 0)

    async def variants_of(self, product_ids: Sequence[int]) -> dict[int, list[Variant]]:
        out: dict[int, list[Variant]] = {pid: [] for pid in product_ids}
        if product_ids:
            stmt = (
                select(Variant)
                .where(Variant.shop_id == self.shop_id, Variant.product_id.in_(list(product_ids)))
                .order_by(Variant.id)
            )
            for variant in (await self.session.execute(stmt)).scalars():
                out[variant.product_id].append(variant)
        return out

    async def variant(self, variant_id: int) -> Variant | None:
        stmt = select(Variant).where(Variant.shop_id == self.shop_id, Variant.id == variant_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class ReturnEventRepository(ShopRepository[Event]):
    model = Event
    label = "event"

    async def for_order(self, order_id: int, limit: int = 200) -> Sequence[Event]:
        stmt = (
            self.select()
            .where(Event.order_id == order_id, Event.type.like("return.%"))
            .order_by(Event.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()


class StoreCreditRepository(ShopRepository[StoreCredit]):
    model = StoreCredit
    label = "store credit"

    async def for_return(self, return_id: int) -> StoreCredit | None:
        stmt = self.select().where(StoreCredit.return_id == return_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()
