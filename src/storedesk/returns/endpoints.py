"""Returns (RMA) JSON API under /api/v1: the queue, one return, creating one for a customer, moving it
through its steps, the label, an order's eligibility and the shop's return policy."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from storedesk.api.deps import AdminAuth, AgentAuth, Auth, Session
from storedesk.api.params import IdPath
from storedesk.commerce.models import ReturnStatus
from storedesk.kit.errors import NotFound, ValidationFailed
from storedesk.kit.pagination import decode_cursor, encode_cursor
from storedesk.kit.schemas import Page
from storedesk.returns import i18n, service
from storedesk.returns.label import label_for, render_label
from storedesk.returns.policy import explain_data
from storedesk.returns.schemas import (
    EligibilityOut,
    LineEligibilityOut,
    PolicyIn,
    ReturnCreate,
    ReturnDetailOut,
    ReturnLineOut,
    ReturnSummaryOut,
    TransitionIn,
)
from storedesk.shops.models import Shop
from storedesk.shops.service import get_shop
from storedesk.tracking.links import LinkSigner

router = APIRouter(tags=["returns"])


def _links(request: Request, shop: Shop) -> service.Links:
    settings = request.app.state.settings
    signer = LinkSigner(settings.secret_keys)
    root = settings.base_url.rstrip("/")
    return service.Links(
        return_page=lambda return_id: (
            f"{root}/returns/{shop.slug}/r/{signer.sign('return', shop.id, return_id)}"
        )
    )


def _summary(view: service.ReturnView) -> dict[str, Any]:
    case = view.case
    return {
        "id": view.ret.id,
        "number": view.ret.number,
        "order_id": view.ret.order_id,
        "customer_id": view.ret.customer_id,
        "status": view.ret.status,
        "method": str(case.method) if case else view.ret.resolution,
        "payout_minor": case.payout_minor if case else None,
        "currency": case.currency if case else view.order.currency,
        "created_at": view.ret.created_at,
    }


async def _detail(session: Session, shop_id: int, return_id: int) -> ReturnDetailOut:
    view = await service.return_view(session, shop_id=shop_id, return_id=return_id)
    case = view.case
    return ReturnDetailOut(
        **_summary(view),
        rejection_reason=view.ret.rejection_reason,
        items_minor=case.items_minor if case else None,
        restocking_fee_minor=case.restocking_fee_minor if case else None,
        label_fee_minor=case.label_fee_minor if case else None,
        bonus_minor=case.bonus_minor if case else None,
        label_number=case.label_number if case else None,
        customs_note=case.customs_note if case else None,
        language=case.language if case else None,
        lines=[
            ReturnLineOut(
                order_line_id=line.order_line_id,
                quantity=line.quantity,
                reason=line.reason,
                amount_minor=choice.amount_minor if choice else None,
                exchange_variant_id=choice.exchange_variant_id if choice else None,
            )
            for line, _lp, choice, _variant in view.lines
        ],
        decision=(case.decision if case else {}) or {},
        next_step=view.next_step.value if view.next_step and not view.final else None,
    )


@router.get("/returns", response_model=Page[ReturnSummaryOut], summary="Returns, newest first")
async def list_returns(
    ctx: Auth,
    session: Session,
    status: Annotated[list[ReturnStatus] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ReturnSummaryOut]:
    before = None
    if cursor:
        value = decode_cursor(cursor, 1)[0]
        if not isinstance(value, int):
            raise ValidationFailed("cursor is not valid", details={"field": "cursor"})
        before = value
    rows, _counts = await service.queue(
        session,
        shop_id=ctx.shop_id,
        statuses=[s.value for s in status or []],
        before_id=before,
        limit=limit + 1,
    )
    items = [
        ReturnSummaryOut(
            id=r.id,
            number=r.number,
            order_id=r.order_id,
            customer_id=r.customer_id,
            status=r.status,
            method=str(c.method) if c else r.resolution,
            payout_minor=c.payout_minor if c else None,
            currency=c.currency if c else (o.currency if o else None),
            created_at=r.created_at,
        )
        for r, c, o in rows[:limit]
    ]
    next_cursor = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
    return Page[ReturnSummaryOut](items=items, next_cursor=next_cursor)


@router.get("/returns/{return_id}", response_model=ReturnDetailOut, summary="One return")
async def get_return(return_id: IdPath, ctx: Auth, session: Session) -> ReturnDetailOut:
    return await _detail(session, ctx.shop_id, return_id)


@router.post(
    "/returns", response_model=ReturnDetailOut, status_code=201, summary="Request a return for a customer"
)
async def create_return(
    body: ReturnCreate, request: Request, ctx: AgentAuth, session: Session
) -> ReturnDetailOut:
    shop = await get_shop(session, ctx.shop_id)
    ret = await service.create_return(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        order_id=body.order_id,
        lines=[
            service.LineRequest(l.order_line_id, l.quantity, l.reason, l.exchange_variant_id)
            for l in body.lines  # noqa: E741
        ],
        method=body.method,
        language=body.language,
        source="agent",
        links=_links(request, shop),
    )
    return await _detail(session, ctx.shop_id, ret.id)


@router.post("/returns/{return_id}/transitions", response_model=ReturnDetailOut, summary="Move a return on")
async def transition(
    return_id: IdPath, body: TransitionIn, request: Request, ctx: AgentAuth, session: Session
) -> ReturnDetailOut:
    shop = await get_shop(session, ctx.shop_id)
    await service.transition(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        return_id=return_id,
        to=ReturnStatus(body.to),
        reason=body.reason,
        inspection=body.inspection,
        links=_links(request, shop),
    )
    return await _detail(session, ctx.shop_id, return_id)


@router.get(
    "/returns/{return_id}/label.pdf",
    summary="The return label (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def label(return_id: IdPath, request: Request, ctx: Auth, session: Session) -> Response:
    view = await service.return_view(session, shop_id=ctx.shop_id, return_id=return_id)
    if view.case is None or not view.case.label_number:
        raise NotFound("return label", return_id)
    shop = await get_shop(session, ctx.shop_id)
    qr = _links(request, shop).return_page(view.ret.id)
    pdf = render_label(label_for(view, shop, view.case.language, qr))
    return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"})


@router.get(
    "/orders/{order_id}/return-eligibility", response_model=EligibilityOut, summary="What can be returned"
)
async def eligibility(
    order_id: IdPath,
    ctx: Auth,
    session: Session,
    language: Annotated[str | None, Query(min_length=2, max_length=8)] = None,
) -> EligibilityOut:
    context = await service.order_context(session, shop_id=ctx.shop_id, order_id=order_id)
    lang = service.pick_language(language, context.shop.default_language)
    decision = context.decision
    currency = context.order.currency
    return EligibilityOut(
        order_id=context.order.id,
        language=lang,
        any_eligible=decision.any_eligible,
        methods=list(decision.methods),
        customer_pays_shipping=decision.customer_pays_shipping,
        label_fee_minor=decision.label_fee_minor,
        international=decision.international,
        shipping=i18n.explain(service.shipping_note(decision), lang, currency=currency),
        customs=service.customs_note(decision, lang),
        lines=[
            LineEligibilityOut(
                order_line_id=d.line_id,
                title=next(lp.line.title for lp in context.lines if lp.line.id == d.line_id),
                eligible=d.eligible,
                returnable_quantity=d.returnable_quantity,
                reasons=[i18n.explain(r, lang, currency=currency) for r in d.reasons],
                codes=explain_data(d.reasons),
                last_day=d.window.last_day.isoformat() if d.window else None,
                exchange_variant_ids=[
                    v.id for v in context.exchange_options.get(d.line_id, []) if service.in_stock(v, 1)
                ],
            )
            for d in decision.lines
        ],
    )


@router.get("/returns-policy", summary="The shop's return policy (resolved)")
async def get_policy(ctx: Auth, session: Session) -> dict[str, Any]:
    shop = await get_shop(session, ctx.shop_id)
    return _policy_out(service.shop_policy(shop))


@router.put("/returns-policy", summary="Change the return policy (admins)")
async def put_policy(body: PolicyIn, ctx: AdminAuth, session: Session) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    policy = await service.save_policy(session, shop_id=ctx.shop_id, actor=ctx.actor, changes=changes)
    return _policy_out(policy)


def _policy_out(policy: Any) -> dict[str, Any]:
    data = asdict(policy)
    data["free_return_countries"] = sorted(policy.free_return_countries)
    return data
