from __future__ import annotations

import re

from fastapi import APIRouter

from storedesk.api.deps import AdminAuth, Auth, Session
from storedesk.kit.errors import ValidationFailed
from storedesk.shops import service
from storedesk.shops.schemas import LANG, ShopOut, ShopUpdate

router = APIRouter(prefix="/shop", tags=["shop"])


@router.get("", response_model=ShopOut, summary="The shop you act for")
async def get_shop(ctx: Auth, session: Session) -> ShopOut:
    return ShopOut.model_validate(await service.get_shop(session, ctx.shop_id))


@router.patch("", response_model=ShopOut, summary="Change shop settings (admin)")
async def update_shop(body: ShopUpdate, ctx: AdminAuth, session: Session) -> ShopOut:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    for lang in changes.get("languages", []):
        if not re.match(LANG, lang):
            raise ValidationFailed(f"{lang!r} is not a language code", details={"field": "languages"})
    shop = await service.update_shop(session, ctx.shop_id, ctx.actor, changes)
    return ShopOut.model_validate(shop)
