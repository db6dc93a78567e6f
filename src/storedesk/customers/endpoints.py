from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from storedesk.api.deps import AdminAuth, AgentAuth, Auth, Session
from storedesk.api.params import IdPath
from storedesk.commerce.repository import OrderRepository
from storedesk.commerce.schemas import OrderSummaryOut
from storedesk.conversations.repository import ConversationFilter, ConversationRepository
from storedesk.conversations.schemas import ConversationOut, conversation_out
from storedesk.customers import service
from storedesk.customers.models import Customer
from storedesk.customers.repository import CustomerRepository
from storedesk.customers.schemas import (
    CustomerCreate,
    CustomerOut,
    CustomerUpdate,
    IdentityCreate,
    IdentityOut,
    MergeIn,
    RedactIn,
    RedactionOut,
)
from storedesk.kit.errors import ValidationFailed
from storedesk.kit.pagination import decode_cursor, encode_cursor
from storedesk.kit.schemas import Page
from storedesk.shops.service import get_shop

router = APIRouter(prefix="/customers", tags=["customers"])


async def _out(repo: CustomerRepository, customers: list[Customer]) -> list[CustomerOut]:
    idents = await repo.identities_for([c.id for c in customers])
    out = []
    for c in customers:
        item = CustomerOut.model_validate(c)
        item.identities = [IdentityOut.model_validate(i) for i in idents[c.id]]
        out.append(item)
    return out


@router.get("", response_model=Page[CustomerOut], summary="Search customers by name, email or phone")
async def list_customers(
    ctx: Auth,
    session: Session,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CustomerOut]:
    after = int(decode_cursor(cursor, 1)[0]) if cursor else None
    repo = CustomerRepository(session, ctx.shop_id)
    rows = list(await repo.search(q, after_id=after, limit=limit + 1))
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=await _out(repo, rows[:limit]), next_cursor=nxt)


@router.post("", response_model=CustomerOut, status_code=201)
async def create_customer(body: CustomerCreate, ctx: AgentAuth, session: Session) -> CustomerOut:
    shop = await get_shop(session, ctx.shop_id)
    customer = await service.create_customer(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        name=body.name,
        email=str(body.email) if body.email else None,
        phone=body.phone,
        language=body.language,
        country=body.country,
        default_region=shop.country,
    )
    await session.flush()
    return (await _out(CustomerRepository(session, ctx.shop_id), [customer]))[0]


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: IdPath, ctx: Auth, session: Session) -> CustomerOut:
    repo = CustomerRepository(session, ctx.shop_id)
    return (await _out(repo, [await repo.get_or_404(customer_id)]))[0]


@router.patch("/{customer_id}", response_model=CustomerOut)
async def update_customer(
    customer_id: IdPath, body: CustomerUpdate, ctx: AgentAuth, session: Session
) -> CustomerOut:
    customer = await service.update_customer(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        customer_id=customer_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return (await _out(CustomerRepository(session, ctx.shop_id), [customer]))[0]


@router.post("/{customer_id}/identities", response_model=IdentityOut, status_code=201)
async def add_identity(
    customer_id: IdPath, body: IdentityCreate, ctx: AgentAuth, session: Session
) -> IdentityOut:
    shop = await get_shop(session, ctx.shop_id)
    ident = await service.add_identity(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        customer_id=customer_id,
        kind=body.kind,
        value=body.value,
        default_region=shop.country,
    )
    return IdentityOut.model_validate(ident)


@router.post(
    "/{customer_id}/merge", response_model=CustomerOut, summary="Merge another customer into this one"
)
async def merge_customers(
    customer_id: IdPath, body: MergeIn, ctx: AgentAuth, session: Session
) -> CustomerOut:
    survivor = await service.merge(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        survivor_id=customer_id,
        merged_id=body.merge_customer_id,
    )
    await session.flush()
    return (await _out(CustomerRepository(session, ctx.shop_id), [survivor]))[0]


@router.post(
    "/{customer_id}/redact",
    response_model=RedactionOut,
    summary="Erase the customer's personal data (admin; cannot be undone)",
)
async def redact_customer(
    customer_id: IdPath, body: RedactIn, ctx: AdminAuth, session: Session
) -> RedactionOut:
    if not body.confirm:
        raise ValidationFailed(
            "erasing a customer's personal data cannot be undone: send confirm: true",
            details={"field": "confirm"},
        )
    result = await service.redact(
        session, shop_id=ctx.shop_id, actor=ctx.actor, customer_id=customer_id, reason=body.reason
    )
    return RedactionOut.model_validate(result, from_attributes=True)


@router.post("/{customer_id}/unmerge", response_model=CustomerOut, summary="Undo a merge (within 7 days)")
async def unmerge(customer_id: IdPath, ctx: AgentAuth, session: Session) -> CustomerOut:
    customer = await service.undo_merge(session, shop_id=ctx.shop_id, actor=ctx.actor, merged_id=customer_id)
    await session.flush()
    return (await _out(CustomerRepository(session, ctx.shop_id), [customer]))[0]


@router.get("/{customer_id}/orders", response_model=list[OrderSummaryOut])
async def customer_orders(
    customer_id: IdPath,
    ctx: Auth,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OrderSummaryOut]:
    await CustomerRepository(session, ctx.shop_id).get_or_404(customer_id)
    orders = await OrderRepository(session, ctx.shop_id).page(customer_id=customer_id, limit=limit)
    return [OrderSummaryOut.model_validate(o) for o in orders]


@router.get("/{customer_id}/conversations", response_model=Page[ConversationOut])
async def customer_conversations(
    customer_id: IdPath,
    ctx: Auth,
    session: Session,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ConversationOut]:
    await CustomerRepository(session, ctx.shop_id).get_or_404(customer_id)
    repo = ConversationRepository(session, ctx.shop_id)
    rows, nxt = await repo.page(ConversationFilter(customer_id=customer_id), cursor=cursor, limit=limit)
    tags = await repo.tags_for([r.id for r in rows])
    return Page(items=[conversation_out(r, tags[r.id]) for r in rows], next_cursor=nxt)
