"""The returns portal (``/returns/{shop}`` → eligible lines with reasons → method → summary →
confirmation with the label) and the agents' returns queue (``/app/returns``).

Portal pages are reached with order number + email (rate limited, neutral failures, shared with the
tracking page) or a signed link; every change calls the RMA service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

import storedesk.helpcenter.i18n
import storedesk.returns.i18n
import storedesk.tracking.i18n  # noqa: F401
from storedesk.api.deps import Session
from storedesk.commerce.models import OrderLine, ReturnStatus, Variant
from storedesk.helpcenter.agent_pages import agent_page
from storedesk.helpcenter.public import negotiate, render_public, t, zone
from storedesk.helpcenter.web import PublicRoute, base_url, frame, shop_for
from storedesk.kit.actor import Actor
from storedesk.kit.errors import Forbidden, NotFound, StoredeskError
from storedesk.returns import i18n, service
from storedesk.returns.label import label_for, render_label
from storedesk.returns.models import ReturnMethod
from storedesk.returns.policy import LineDecision, Quote, Reason, quote
from storedesk.returns.repository import FINAL
from storedesk.shops.models import Shop
from storedesk.tracking import limits
from storedesk.tracking import service as tracking
from storedesk.tracking.links import LinkSigner
from storedesk.web.deps import AgentWeb, Web, WebRoute, redirect
from storedesk.web.i18n import _

router = APIRouter(include_in_schema=False, route_class=PublicRoute)
agent_router = APIRouter(prefix="/app/returns", route_class=WebRoute)

STEPS = [
    ReturnStatus.requested,
    ReturnStatus.approved,
    ReturnStatus.label_issued,
    ReturnStatus.in_transit,
    ReturnStatus.received,
    ReturnStatus.inspected,
]


def signer(request: Request) -> LinkSigner:
    return LinkSigner(request.app.state.settings.secret_keys)


def links_for(request: Request, shop: Shop) -> service.Links:
    root = base_url(request)
    sign = signer(request)
    return service.Links(
        return_page=lambda return_id: (
            f"{root}/returns/{shop.slug}/r/{sign.sign('return', shop.id, return_id)}"
        )
    )


def _query(lang: str, embed: bool) -> str:
    params = {"lang": lang, **({"embed": "1"} if embed else {})}
    return "?" + urlencode(params)


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forbidden("cross-origin request refused")


# --- public: find the order ----------------------------------------------------------------------------------


def _lookup_form(
    request: Request,
    shop: Shop,
    lang: str,
    embed: bool,
    *,
    error: str | None = None,
    number: str = "",
    status: int = 200,
) -> HTMLResponse:
    return render_public(
        request,
        "returns/lookup.html",
        {
            **frame(shop, lang, "returns", lambda code: f"/returns/{shop.slug}{_query(code, embed)}"),
            "error": error,
            "number": number,
            "action": f"/returns/{shop.slug}{_query(lang, embed)}",
        },
        lang=lang,
        embed=embed,
        status_code=status,
    )


@router.get("/returns/{shop_slug}")
async def lookup_form(
    request: Request,
    session: Session,
    shop_slug: str,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    embed: Annotated[str | None, Query(max_length=2)] = None,
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    return _lookup_form(request, shop, negotiate(request, shop.default_language, lang), embed == "1")


@router.post("/returns/{shop_slug}")
async def lookup(
    request: Request,
    session: Session,
    shop_slug: str,
    number: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    lang: Annotated[str | None, Query(max_length=8)] = None,
    embed: Annotated[str | None, Query(max_length=2)] = None,
) -> Response:
    shop = await shop_for(session, shop_slug)
    reader = negotiate(request, shop.default_language, lang)
    embedded = embed == "1"
    if not limits.lookup_allowed(request, shop.id, tracking.normalise_number(number)):
        response = _lookup_form(
            request, shop, reader, embedded, error=t(reader, "track.rate_limited"), number=number, status=429
        )
        response.headers["Retry-After"] = "60"
        return response
    order = await tracking.find_order(session, shop_id=shop.id, number=number, email=email)
    if order is None:
        return _lookup_form(
            request, shop, reader, embedded, error=t(reader, "track.not_found"), number=number
        )
    token = signer(request).sign("order", shop.id, order.id)
    return RedirectResponse(f"/returns/{shop.slug}/o/{token}{_query(reader, embedded)}", status_code=303)


async def _order_from_token(
    request: Request, session: Session, shop: Shop, token: str
) -> service.OrderContext | None:
    target = signer(request).verify(token, "order")
    if target is None or target.shop_id != shop.id:
        return None
    try:
        return await service.order_context(session, shop_id=shop.id, order_id=target.object_id)
    except NotFound:
        return None


# --- public: choose, review, confirm -------------------------------------------------------------------------


@dataclass
class ChoiceRow:
    line: OrderLine
    decision: LineDecision | None
    reasons: list[str]
    options: list[tuple[Variant, bool]]
    conditions: str


def _choose_context(
    shop: Shop,
    context: service.OrderContext,
    lang: str,
    token: str,
    embed: bool,
    values: dict[str, Any],
    error: str | None,
) -> dict[str, Any]:
    decision = context.decision
    rows: list[ChoiceRow] = []
    for lp in context.lines:
        judged = decision.line(lp.line.id)
        options = context.exchange_options.get(lp.line.id, [])
        rows.append(
            ChoiceRow(
                line=lp.line,
                decision=judged,
                reasons=[i18n.explain(r, lang, currency=context.order.currency) for r in judged.reasons]
                if judged
                else [],
                options=[(v, service.in_stock(v, 1)) for v in options],
                conditions=i18n.conditions_text(judged.conditions, lang)
                if judged and judged.eligible
                else "",
            )
        )
    any_exchange = any(
        any(ok for _, ok in row.options) for row in rows if row.decision is not None and row.decision.eligible
    )
    methods = [m for m in decision.methods if m != "exchange" or any_exchange]
    return {
        **frame(shop, lang, "returns", lambda code: f"/returns/{shop.slug}/o/{token}{_query(code, embed)}"),
        "order": context.order,
        "rows": rows,
        "methods": methods,
        "bonus": context.policy.store_credit_bonus_percent,
        "shipping": i18n.explain(service.shipping_note(decision), lang, currency=context.order.currency),
        "customs": service.customs_note(decision, lang),
        "order_reasons": [i18n.explain(r, lang) for r in decision.order_reasons],
        "eligible": decision.any_eligible,
        "token": token,
        "embed_q": _query(lang, embed),
        "values": values,
        "error": error,
        "reason_codes": i18n.REASON_CODES,
    }


@router.get("/returns/{shop_slug}/o/{token}")
async def choose(
    request: Request,
    session: Session,
    shop_slug: str,
    token: str,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    embed: Annotated[str | None, Query(max_length=2)] = None,
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    reader = negotiate(request, shop.default_language, lang)
    context = await _order_from_token(request, session, shop, token)
    if context is None:
        return _lookup_form(
            request, shop, reader, embed == "1", error=t(reader, "ret.link_invalid"), status=404
        )
    return render_public(
        request,
        "returns/choose.html",
        _choose_context(shop, context, reader, token, embed == "1", {}, None),
        lang=reader,
        embed=embed == "1",
    )


def _selection(form: dict[str, Any], context: service.OrderContext) -> list[service.LineRequest]:
    out: list[service.LineRequest] = []
    for lp in context.lines:
        key = str(lp.line.id)
        if form.get(f"pick_{key}") != "1":
            continue
        qty_raw = str(form.get(f"qty_{key}") or "1")
        variant_raw = str(form.get(f"variant_{key}") or "")
        out.append(
            service.LineRequest(
                order_line_id=lp.line.id,
                quantity=int(qty_raw) if qty_raw.isdigit() and len(qty_raw) < 6 else 0,
                reason=str(form.get(f"reason_{key}") or "") or None,
                exchange_variant_id=int(variant_raw)
                if variant_raw.isdigit() and len(variant_raw) < 18
                else None,
            )
        )
    return out


async def _parse(
    request: Request, context: service.OrderContext
) -> tuple[dict[str, Any], list[service.LineRequest], str]:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    lines = _selection(form, context)
    method = str(form.get("method") or "")
    return form, lines, method


@router.post("/returns/{shop_slug}/o/{token}/review")
async def review(
    request: Request,
    session: Session,
    shop_slug: str,
    token: str,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    embed: Annotated[str | None, Query(max_length=2)] = None,
) -> Response:
    _same_origin(request)
    shop = await shop_for(session, shop_slug)
    reader = negotiate(request, shop.default_language, lang)
    embedded = embed == "1"
    context = await _order_from_token(request, session, shop, token)
    if context is None:
        return _lookup_form(request, shop, reader, embedded, error=t(reader, "ret.link_invalid"), status=404)
    form, lines, method = await _parse(request, context)
    error = None
    money: Quote | None = None
    if not lines or any(not line.reason for line in lines):
        error = t(reader, "ret.select_one")
    else:
        try:
            money = quote(
                context.policy,
                context.decision,
                context.facts,
                {r.order_line_id: r.quantity for r in lines},
                method,
            )
            if method == ReturnMethod.exchange and any(
                r.exchange_variant_id not in {v.id for v in context.exchange_options.get(r.order_line_id, [])}
                for r in lines
            ):
                error = t(reader, "ret.no_exchange")
        except StoredeskError as exc:
            error = t(reader, "ret.error", message=exc.message)
    if error or money is None:
        return render_public(
            request,
            "returns/choose.html",
            _choose_context(shop, context, reader, token, embedded, form, error),
            lang=reader,
            embed=embedded,
            status_code=422,
        )
    titles = {lp.line.id: lp for lp in context.lines}
    variants = {v.id: v for opts in context.exchange_options.values() for v in opts}
    return render_public(
        request,
        "returns/review.html",
        {
            **frame(
                shop,
                reader,
                "returns",
                lambda code: f"/returns/{shop.slug}/o/{token}{_query(code, embedded)}",
            ),
            "order": context.order,
            "quote": money,
            "method": method,
            "lines": [
                (titles[r.order_line_id].line, r, variants.get(r.exchange_variant_id or 0)) for r in lines
            ],
            "form": form,
            "token": token,
            "embed_q": _query(reader, embedded),
            "shipping": i18n.explain(
                service.shipping_note(context.decision), reader, currency=context.order.currency
            ),
            "customs": service.customs_note(context.decision, reader),
            "bonus": context.policy.store_credit_bonus_percent,
        },
        lang=reader,
        embed=embedded,
    )


@router.post("/returns/{shop_slug}/o/{token}/confirm")
async def confirm(
    request: Request,
    session: Session,
    shop_slug: str,
    token: str,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    embed: Annotated[str | None, Query(max_length=2)] = None,
) -> Response:
    _same_origin(request)
    shop = await shop_for(session, shop_slug)
    reader = negotiate(request, shop.default_language, lang)
    embedded = embed == "1"
    limits.return_per_ip.check(str(shop.id), limits.client_ip(request))
    context = await _order_from_token(request, session, shop, token)
    if context is None:
        return _lookup_form(request, shop, reader, embedded, error=t(reader, "ret.link_invalid"), status=404)
    form, lines, method = await _parse(request, context)
    try:
        ret = await service.create_return(
            session,
            shop_id=shop.id,
            actor=Actor("customer", context.order.customer_id),
            order_id=context.order.id,
            lines=lines,
            method=method,
            language=reader,
            source="portal",
            links=links_for(request, shop),
        )
    except StoredeskError as exc:
        await session.rollback()
        fresh = await service.order_context(session, shop_id=shop.id, order_id=context.order.id)
        return render_public(
            request,
            "returns/choose.html",
            _choose_context(
                shop, fresh, reader, token, embedded, form, t(reader, "ret.error", message=exc.message)
            ),
            lang=reader,
            embed=embedded,
            status_code=409 if exc.status_code == 409 else 422,
        )
    rtoken = signer(request).sign("return", shop.id, ret.id)
    return RedirectResponse(f"/returns/{shop.slug}/r/{rtoken}{_query(reader, embedded)}", status_code=303)


async def _return_from_token(
    request: Request, session: Session, shop: Shop, token: str
) -> service.ReturnView | None:
    target = signer(request).verify(token, "return")
    if target is None or target.shop_id != shop.id:
        return None
    try:
        return await service.return_view(session, shop_id=shop.id, return_id=target.object_id)
    except NotFound:
        return None


@router.get("/returns/{shop_slug}/r/{token}")
async def return_page(
    request: Request,
    session: Session,
    shop_slug: str,
    token: str,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    embed: Annotated[str | None, Query(max_length=2)] = None,
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    embedded = embed == "1"
    view = await _return_from_token(request, session, shop, token)
    if view is None:
        reader = negotiate(request, shop.default_language, lang)
        return _lookup_form(request, shop, reader, embedded, error=t(reader, "ret.link_invalid"), status=404)
    reader = negotiate(request, view.case.language if view.case else shop.default_language, lang)
    status = ReturnStatus(view.ret.status)
    reached = STEPS.index(status) if status in STEPS else len(STEPS)
    return render_public(
        request,
        "returns/status.html",
        {
            **frame(
                shop,
                reader,
                "returns",
                lambda code: f"/returns/{shop.slug}/r/{token}{_query(code, embedded)}",
            ),
            "view": view,
            "status": status,
            "steps": [(s, i < reached, i == reached) for i, s in enumerate(STEPS)],
            "label_url": f"/returns/{shop.slug}/r/{token}/label.pdf{_query(reader, False)}",
            "has_label": bool(view.case and view.case.label_number) and status != ReturnStatus.rejected,
            "refund_days": int((shop.policies or {}).get("refund_processing_days", 5)),
            "conditions": i18n.conditions_text(service.shop_policy(shop).conditions, reader),
        },
        lang=reader,
        tz=zone(shop.timezone),
        embed=embedded,
    )


@router.get("/returns/{shop_slug}/r/{token}/label.pdf")
async def label_pdf(
    request: Request,
    session: Session,
    shop_slug: str,
    token: str,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    shop = await shop_for(session, shop_slug)
    view = await _return_from_token(request, session, shop, token)
    if (
        view is None
        or view.case is None
        or not view.case.label_number
        or view.ret.status == ReturnStatus.rejected
    ):
        raise NotFound("return label", token)
    reader = negotiate(request, view.case.language, lang)
    qr = f"{base_url(request)}/returns/{shop.slug}/r/{token}"
    pdf = render_label(label_for(view, shop, reader, qr))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="return-{view.ret.number}.pdf"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- the agents' returns queue -------------------------------------------------------------------------------

QUEUE_FILTERS = {
    "open": [s.value for s in ReturnStatus if s not in FINAL],
    "todo": [ReturnStatus.requested.value, ReturnStatus.received.value, ReturnStatus.inspected.value],
    "done": [s.value for s in FINAL],
    "all": [],
}


@agent_router.get("")
async def queue_page(
    request: Request, ctx: Web, session: Session, status: str = "open", before: int | None = None
) -> HTMLResponse:
    statuses = QUEUE_FILTERS.get(status)
    if statuses is None:
        statuses = [status] if status in ReturnStatus.__members__ else []
    rows, counts = await service.queue(
        session, shop_id=ctx.shop_id, statuses=statuses, before_id=before, limit=51
    )
    return agent_page(
        request,
        "agent/returns_queue.html",
        {
            "rows": rows[:50],
            "has_more": len(rows) > 50,
            "counts": counts,
            "filter": status,
            "filters": [
                (k, sum(counts.get(s, 0) for s in v) if v else sum(counts.values()))
                for k, v in QUEUE_FILTERS.items()
            ],
            "help_nav": "returns",
        },
    )


@agent_router.get("/{return_id:int}")
async def detail(request: Request, ctx: Web, session: Session, return_id: int) -> HTMLResponse:
    view = await service.return_view(session, shop_id=ctx.shop_id, return_id=return_id)
    status = ReturnStatus(view.ret.status)
    reached = STEPS.index(status) if status in STEPS else len(STEPS)
    decision = (view.case.decision if view.case else {}) or {}
    explanations: dict[int, list[str]] = {}
    for line_id, reasons in (decision.get("lines") or {}).items():
        explanations[int(line_id)] = [
            i18n.explain(
                Reason.of(r["code"], **{k: v for k, v in r.items() if k != "code"}),
                ctx.language,
                currency=view.order.currency,
            )
            for r in reasons
        ]
    events = await service.return_events(session, shop_id=ctx.shop_id, return_id=view.ret.id)
    return agent_page(
        request,
        "agent/return_detail.html",
        {
            "view": view,
            "status": status,
            "steps": [(s, i < reached, i == reached) for i, s in enumerate(STEPS)],
            "explanations": explanations,
            "events": events,
            "can_reject": status in (ReturnStatus.requested, ReturnStatus.approved, ReturnStatus.inspected),
            "reason_label": lambda code: (
                t(ctx.language, f"ret.reason.{code}") if code in i18n.REASON_CODES else code
            ),
            "help_nav": "returns",
        },
    )


@agent_router.post("/{return_id:int}/advance")
async def advance(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    return_id: int,
    to: Annotated[str, Form(max_length=16)] = "",
    notes: Annotated[str, Form(max_length=1000)] = "",
    condition: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    if to not in ReturnStatus.__members__:
        raise NotFound("step", to)
    shop = ctx.shop
    try:
        await service.transition(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            return_id=return_id,
            to=ReturnStatus(to),
            inspection={"condition": condition or "ok", "notes": notes.strip()[:1000]}
            if to == "inspected"
            else None,
            links=links_for(request, shop),
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        await session.rollback()
        return redirect(f"/app/returns/{return_id}", flash=_(exc.message), request=request)
    return redirect(
        f"/app/returns/{return_id}", flash=_("Return updated; the customer was told."), request=request
    )


@agent_router.post("/{return_id:int}/reject")
async def reject(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    return_id: int,
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    try:
        await service.reject(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            return_id=return_id,
            reason=reason,
            links=links_for(request, ctx.shop),
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        await session.rollback()
        return redirect(f"/app/returns/{return_id}", flash=_(exc.message), request=request)
    return redirect(
        f"/app/returns/{return_id}", flash=_("Return rejected; the customer was told why."), request=request
    )


@agent_router.get("/{return_id:int}/label.pdf")
async def agent_label(request: Request, ctx: Web, session: Session, return_id: int) -> Response:
    view = await service.return_view(session, shop_id=ctx.shop_id, return_id=return_id)
    if view.case is None or not view.case.label_number:
        raise NotFound("return label", return_id)
    token = signer(request).sign("return", ctx.shop_id, view.ret.id)
    qr = f"{base_url(request)}/returns/{ctx.shop.slug}/r/{token}"
    pdf = render_label(label_for(view, ctx.shop, view.case.language, qr))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="return-{view.ret.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


router.include_router(agent_router)
