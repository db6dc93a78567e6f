"""Tenant-scoped repositories: every statement starts from ``select(Model).where(shop_id == …)``.

Nothing outside a repository filters by tenant inline, so a tenant filter cannot be forgotten.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.kit.errors import NotFound

M = TypeVar("M")


class ShopRepository(Generic[M]):
    model: ClassVar[type[Any]]
    label: ClassVar[str] = "object"

    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    def select(self) -> Select[M]:
        return select(self.model).where(self.model.shop_id == self.shop_id)

    async def get(self, ident: int) -> M | None:
        result = await self.session.execute(self.select().where(self.model.id == ident))
        return result.scalar_one_or_none()

    async def get_or_404(self, ident: int) -> M:
        obj = await self.get(ident)
        if obj is None:
            raise NotFound(self.label, ident)
        return obj

    async def get_for_update(self, ident: int) -> M:
        stmt = self.select().where(self.model.id == ident).with_for_update()
        obj = (await self.session.execute(stmt)).scalar_one_or_none()
        if obj is None:
            raise NotFound(self.label, ident)
        return obj
