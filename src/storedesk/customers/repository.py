from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, or_, select

from storedesk.customers.models import Customer, CustomerIdentity, IdentityKind
from storedesk.kit.repository import ShopRepository


class CustomerRepository(ShopRepository[Customer]):
    model = Customer
    label = "customer"

    def select(self) -> Select[Customer]:
        # merged-away customers are reachable only through their survivor
        return super().select().where(Customer.merged_into_id.is_(None))

    async def merged_into(self, survivor_ids: Sequence[int]) -> list[int]:
        """Ids of the customers merged into these (hidden from ``select``)."""
        if not survivor_ids:
            return []
        stmt = (
            super()
            .select()
            .with_only_columns(Customer.id)
            .where(Customer.merged_into_id.in_(list(survivor_ids)))
        )
        return [int(i) for i in (await self.session.execute(stmt)).scalars()]

    async def by_identity(
        self, kind: IdentityKind, value: str, *, for_update: bool = False
    ) -> Customer | None:
        """``for_update``: lock the customer row found (``FOR UPDATE OF customers``), as
        :meth:`get_for_update` would, in the same statement."""
        stmt = (
            self.select()
            .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
            .where(CustomerIdentity.shop_id == self.shop_id)
            .where(CustomerIdentity.kind == kind, CustomerIdentity.value == value)
        )
        if for_update:
            stmt = stmt.with_for_update(of=Customer)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def identities(self, customer_id: int) -> Sequence[CustomerIdentity]:
        stmt = (
            select(CustomerIdentity)
            .where(CustomerIdentity.shop_id == self.shop_id, CustomerIdentity.customer_id == customer_id)
            .order_by(CustomerIdentity.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def identities_for(self, customer_ids: list[int]) -> dict[int, list[CustomerIdentity]]:
        out: dict[int, list[CustomerIdentity]] = {cid: [] for cid in customer_ids}
        if not customer_ids:
            return out
        stmt = (
            select(CustomerIdentity)
            .where(CustomerIdentity.shop_id == self.shop_id, CustomerIdentity.customer_id.in_(customer_ids))
            .order_by(CustomerIdentity.id)
        )
        for ident in (await self.session.execute(stmt)).scalars():
            out[ident.customer_id].append(ident)
        return out

    async def search(self, q: str | None, *, after_id: int | None, limit: int) -> Sequence[Customer]:
        stmt = self.select()
        if q:
            like = f"%{q.lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(Customer.name).like(like),
                    func.lower(Customer.email).like(like),
                    Customer.phone.like(f"%{q}%"),
                )
            )
        if after_id is not None:
            stmt = stmt.where(Customer.id < after_id)
        return (await self.session.execute(stmt.order_by(Customer.id.desc()).limit(limit))).scalars().all()

    async def by_ids(self, ids: list[int]) -> Sequence[Customer]:
        if not ids:
            return []
        return (await self.session.execute(self.select().where(Customer.id.in_(ids)))).scalars().all()
