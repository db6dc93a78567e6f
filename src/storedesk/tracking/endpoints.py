"""The tracking page's JSON API: the signed link an agent (or a macro) puts in a message."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from storedesk.api.deps import Auth, Session
from storedesk.api.params import IdPath
from storedesk.shops.service import get_shop
from storedesk.tracking.links import LinkSigner
from storedesk.tracking.repository import TrackingRepository
from storedesk.tracking.service import tracking_link

router = APIRouter(tags=["order tracking"])


class TrackingLinkOut(BaseModel):
    order_id: int
    url: str


@router.get(
    "/orders/{order_id}/tracking-link", response_model=TrackingLinkOut, summary="Signed tracking-page link"
)
async def link(order_id: IdPath, request: Request, ctx: Auth, session: Session) -> TrackingLinkOut:
    order = await TrackingRepository(session, ctx.shop_id).get_or_404(order_id)
    shop = await get_shop(session, ctx.shop_id)
    settings = request.app.state.settings
    url = tracking_link(settings.base_url, LinkSigner(settings.secret_keys), shop.slug, shop.id, order.id)
    return TrackingLinkOut(order_id=order.id, url=url)
