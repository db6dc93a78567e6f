from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from storedesk.api.deps import Auth, Session
from storedesk.api.params import IdPath, IdQuery
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, Order
from storedesk.commerce.repository import (
    OrderRepository,
    ProductRepository,
    ShipmentRepository,
    StoreRepository,
)
from storedesk.commerce.schemas import (
    OrderOut,
    OrderSummaryOut,
    ProductOut,
    RefundOut,
    ReturnOut,
    ShipmentOut,
    TrackingEventOut,
    VariantOut,
)
from storedesk.kit.pagination import decode_cursor, encode_cursor
from storedesk.kit.schemas import Page

router = APIRouter(tags=["commerce"])

Cursor = Annotated[str | None, Query(max_length=500)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _before(cursor: str | None) -> int | None:
    if not cursor:
        return None
    value = decode_cursor(cursor, 1)[0]
    if not isinstance(value, int):
        from storedesk.kit.errors import ValidationFailed

        raise ValidationFailed("cursor is not valid", details={"field": "cursor"})
    return value


@router.get("/orders", response_model=Page[OrderSummaryOut], summary="Orders, newest first")
async def list_orders(
    ctx: Auth,
    session: Session,
    customer_id: IdQuery = None,
    number: Annotated[str | None, Query(max_length=64)] = None,
    financial_status: FinancialStatus | None = None,
    fulfillment_status: FulfillmentStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[OrderSummaryOut]:
    rows = list(
        await OrderRepository(session, ctx.shop_id).page(
            customer_id=customer_id,
            number=number,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            before_id=_before(cursor),
            limit=limit + 1,
        )
    )
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    names = await StoreRepository(session, ctx.shop_id).names(o.store_id for o in rows[:limit])
    items = []
    for o in rows[:limit]:
        item = OrderSummaryOut.model_validate(o)
        item.store_name = names.get(o.store_id) if o.store_id is not None else None
        items.append(item)
    return Page(items=items, next_cursor=nxt)


async def _shipments_out(repo: ShipmentRepository, shipments: list) -> list[ShipmentOut]:  # type: ignore[type-arg]
    events = await repo.events([s.id for s in shipments])
    out = []
    for s in shipments:
        item = ShipmentOut.model_validate(s)
        item.events = [TrackingEventOut.model_validate(e) for e in events[s.id]]
        out.append(item)
    return out


async def order_out(session: Session, shop_id: int, order: Order) -> OrderOut:
    """An order with lines, shipments, refunds, returns and its store's name."""
    from storedesk.commerce.schemas import OrderLineOut

    repo = OrderRepository(session, shop_id)
    out = OrderOut.model_validate(order)
    if order.store_id is not None:
        out.store_name = (await StoreRepository(session, shop_id).names([order.store_id])).get(order.store_id)
    out.lines = [OrderLineOut.model_validate(line) for line in (await repo.lines([order.id]))[order.id]]
    shipments = (await repo.shipments([order.id]))[order.id]
    out.shipments = await _shipments_out(ShipmentRepository(session, shop_id), shipments)
    out.refunds = [RefundOut.model_validate(r) for r in await repo.refunds(order.id)]
    out.returns = [ReturnOut.model_validate(r) for r in await repo.returns(order.id)]
    return out


@router.get(
    "/orders/{order_id}", response_model=OrderOut, summary="An order with lines, shipments, refunds, returns"
)
async def get_order(order_id: IdPath, ctx: Auth, session: Session) -> OrderOut:
    order = await OrderRepository(session, ctx.shop_id).get_or_404(order_id)
    return await order_out(session, ctx.shop_id, order)


@router.get("/shipments", response_model=Page[ShipmentOut])
async def list_shipments(
    ctx: Auth, session: Session, order_id: IdQuery = None, cursor: Cursor = None, limit: Limit = 50
) -> Page[ShipmentOut]:
    repo = ShipmentRepository(session, ctx.shop_id)
    rows = list(await repo.page(order_id=order_id, before_id=_before(cursor), limit=limit + 1))
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=await _shipments_out(repo, rows[:limit]), next_cursor=nxt)


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut)
async def get_shipment(shipment_id: IdPath, ctx: Auth, session: Session) -> ShipmentOut:
    repo = ShipmentRepository(session, ctx.shop_id)
    return (await _shipments_out(repo, [await repo.get_or_404(shipment_id)]))[0]


@router.get("/products", response_model=Page[ProductOut])
async def list_products(
    ctx: Auth,
    session: Session,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ProductOut]:
    repo = ProductRepository(session, ctx.shop_id)
    rows = list(await repo.page(q=q, before_id=_before(cursor), limit=limit + 1))
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    variants = await repo.variants([p.id for p in rows[:limit]])
    items = []
    for p in rows[:limit]:
        item = ProductOut.model_validate(p)
        item.variants = [VariantOut.model_validate(v) for v in variants[p.id]]
        items.append(item)
    return Page(items=items, next_cursor=nxt)


@router.get("/products/{product_id}", response_model=ProductOut)
async def get_product(product_id: IdPath, ctx: Auth, session: Session) -> ProductOut:
    repo = ProductRepository(session, ctx.shop_id)
    product = await repo.get_or_404(product_id)
    item = ProductOut.model_validate(product)
    item.variants = [VariantOut.model_validate(v) for v in (await repo.variants([product.id]))[product.id]]
    return item
