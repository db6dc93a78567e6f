"""The RMA service: the only place a return is created or changes status.

Every step (requested → approved / rejected → label issued → in transit → received → inspected →
refunded / exchanged / store credit) goes through :func:`transition`, which checks the transition table,
sets the step's timestamp, records ``return.<status>`` in the event log (with the customer and the order,
so it shows in the customer's timeline) and tells the customer in their language on their latest
conversation (or a new one on their preferred channel). Money is computed once, when the return is
requested, by the pure policy engine (``returns.policy``); refunds go through the commerce layer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.repository import ChannelRepository
from storedesk.commerce.models import (
    InventoryPolicy,
    Order,
    Refund,
    Return,
    ReturnLine,
    ReturnStatus,
    Variant,
)
from storedesk.conversations import service as conversations
from storedesk.conversations.models import Conversation, ConversationStatus, Direction
from storedesk.conversations.repository import ConversationRepository
from storedesk.customers.models import Customer
from storedesk.customers.repository import CustomerRepository
from storedesk.events.models import Event
from storedesk.events.service import record
from storedesk.helpcenter.public import fmt_money, t
from storedesk.helpcenter.text import LANGUAGES
from storedesk.jobs.registry import enqueue
from storedesk.kit.actor import ASSISTANT, Actor
from storedesk.kit.errors import InvalidTransition, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.returns import i18n
from storedesk.returns.models import ReturnCase, ReturnLineChoice, ReturnMethod, StoreCredit
from storedesk.returns.policy import (
    Decision,
    LineFacts,
    OrderFacts,
    Quote,
    Reason,
    ReturnPolicy,
    evaluate,
    explain_data,
    parse_policy,
    quote,
)
from storedesk.returns.repository import (
    FINAL,
    CaseRepository,
    LineProduct,
    OrderFactsRepository,
    ReturnEventRepository,
    ReturnRepository,
    StoreCreditRepository,
)
from storedesk.shops.models import Shop
from storedesk.shops.service import get_shop, update_shop

S = ReturnStatus
ALLOWED: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.requested: frozenset({S.approved, S.rejected}),
    S.approved: frozenset({S.label_issued, S.in_transit, S.received, S.rejected}),
    S.label_issued: frozenset({S.in_transit, S.received}),
    S.in_transit: frozenset({S.received}),
    S.received: frozenset({S.inspected}),
    S.inspected: frozenset({S.refunded, S.exchanged, S.store_credit, S.rejected}),
    S.rejected: frozenset(),
    S.refunded: frozenset(),
    S.exchanged: frozenset(),
    S.store_credit: frozenset(),
}
COMPLETION = {
    ReturnMethod.refund: S.refunded,
    ReturnMethod.store_credit: S.store_credit,
    ReturnMethod.exchange: S.exchanged,
}
TIMESTAMP = {
    S.label_issued: "label_issued_at",
    S.in_transit: "shipped_at",
    S.received: "received_at",
    S.inspected: "inspected_at",
    S.refunded: "completed_at",
    S.exchanged: "completed_at",
    S.store_credit: "completed_at",
}
NOTIFY_CHANNELS = (
    ChannelKind.email,
    ChannelKind.whatsapp,
    ChannelKind.sms,
    ChannelKind.messenger,
    ChannelKind.instagram,
    ChannelKind.chat,
)
MAX_NOTE = 300


@dataclass(frozen=True)
class Links:
    """Builds the customer's signed link to a return (label download) — supplied by the transport."""

    return_page: Callable[[int], str]


NO_LINKS = Links(return_page=lambda return_id: "")


# --- facts ------------------------------------------------------------------------------------------------


@dataclass
class OrderContext:
    shop: Shop
    order: Order
    policy: ReturnPolicy
    facts: OrderFacts
    decision: Decision
    lines: list[LineProduct]
    exchange_options: dict[int, list[Variant]] = field(default_factory=dict)

    def line(self, line_id: int) -> LineProduct | None:
        return next((lp for lp in self.lines if lp.line.id == line_id), None)


def shop_policy(shop: Shop) -> ReturnPolicy:
    return parse_policy(shop.policies or {}, timezone=shop.timezone or "UTC", home_country=shop.country)


def _country(order: Order) -> str | None:
    address = order.shipping_address or {}
    value = address.get("country_code") or address.get("country")
    return str(value).upper()[:2] if value else None


async def order_context(
    session: AsyncSession, *, shop_id: int, order_id: int, now: datetime | None = None, lock: bool = False
) -> OrderContext:
    """Everything the policy engine needs about an order; ``lock`` takes the order row for update so
    concurrent requests for the same order queue (no line can be returned twice)."""
    repo = OrderFactsRepository(session, shop_id)
    order = await (repo.get_for_update(order_id) if lock else repo.get_or_404(order_id))
    shop = await get_shop(session, shop_id)
    policy = shop_policy(shop)
    lines = await repo.lines_with_products(order.id)
    shipments = await repo.shipments(order.id)
    returned = await ReturnRepository(session, shop_id).returned_quantities(order.id)
    delivered = [s.delivered_at for s in shipments if s.delivered_at is not None]
    shipped = [s.shipped_at for s in shipments if s.shipped_at is not None]
    refunded = max(order.refunded_minor, await repo.refunded_minor(order.id))
    committed = await CaseRepository(session, shop_id).committed_minor(order.id)
    facts = OrderFacts(
        placed_at=order.placed_at,
        currency=order.currency,
        lines=tuple(
            LineFacts(
                line_id=lp.line.id,
                title=lp.line.title,
                quantity=lp.line.quantity,
                total_paid_minor=lp.line.total_minor,
                already_returned=max(returned.get(lp.line.id, 0), lp.line.refunded_quantity),
                category=lp.product.category if lp.product else None,
                final_sale=bool(lp.product.final_sale) if lp.product else False,
            )
            for lp in lines
        ),
        fulfilled_at=min(shipped) if shipped else None,
        delivered_at=max(delivered) if delivered else None,
        country=_country(order),
        cancelled=order.cancelled_at is not None,
        refundable_minor=max(0, order.total_minor - refunded - committed),
    )
    decision = evaluate(policy, facts, now or utcnow())
    context = OrderContext(shop, order, policy, facts, decision, lines)
    product_ids = sorted({lp.product.id for lp in lines if lp.product is not None})
    variants = await repo.variants_of(product_ids)
    for lp in lines:
        if lp.product is not None and lp.variant is not None:
            context.exchange_options[lp.line.id] = [
                v for v in variants.get(lp.product.id, []) if v.id != lp.variant.id
            ]
    return context


def in_stock(variant: Variant, quantity: int) -> bool:
    return variant.stock >= quantity or variant.inventory_policy == InventoryPolicy.backorder


def shipping_note(decision: Decision) -> Reason:
    if not decision.customer_pays_shipping:
        return Reason.of("free_return")
    if decision.label_fee_minor:
        return Reason.of("customer_pays", fee=decision.label_fee_minor)
    return Reason.of("own_postage")


def pick_language(*candidates: str | None) -> str:
    for lang in candidates:
        if lang in LANGUAGES:
            return str(lang)
    return "en"


# --- creating a return ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRequest:
    order_line_id: int
    quantity: int
    reason: str | None = None
    exchange_variant_id: int | None = None


async def _next_number(session: AsyncSession, shop_id: int, order: Order) -> str:
    repo = ReturnRepository(session, shop_id)
    n = len(await repo.for_order(order.id)) + 1
    while True:
        number = f"R{order.number}-{n}"[:32]
        if not await repo.number_taken(number):
            return number
        number = f"R{order.id}-{n}"
        if not await repo.number_taken(number):
            return number
        n += 1


async def create_return(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    lines: Sequence[LineRequest],
    method: str,
    language: str | None = None,
    source: str = "portal",
    links: Links = NO_LINKS,
    now: datetime | None = None,
) -> Return:
    """Request a return of some lines of an order. Portal returns the policy allows are approved and
    get their label at once (one message to the customer); others wait in the agents' queue."""
    now = now or utcnow()
    if method not in {m.value for m in ReturnMethod}:
        raise ValidationFailed("method is refund, store_credit or exchange", details={"field": "method"})
    context = await order_context(session, shop_id=shop_id, order_id=order_id, now=now, lock=True)
    order, decision = context.order, context.decision
    selection: dict[int, int] = {}
    for request in lines:
        if request.order_line_id in selection:
            raise ValidationFailed("each item once, please", details={"field": "lines"})
        if request.quantity < 0:
            raise ValidationFailed("quantities are positive", details={"field": "lines"})
        selection[request.order_line_id] = request.quantity
        if request.reason is not None and request.reason not in i18n.REASON_CODES:
            raise ValidationFailed("unknown return reason", details={"field": "reason"})
    money: Quote = quote(context.policy, decision, context.facts, selection, method)
    exchange: dict[int, int] = {}
    if method == ReturnMethod.exchange:
        for request in lines:
            if request.quantity == 0:
                continue
            options = {v.id: v for v in context.exchange_options.get(request.order_line_id, [])}
            variant = options.get(request.exchange_variant_id or 0)
            if variant is None:
                raise ValidationFailed(
                    "choose the size or colour you want instead",
                    details={"field": "exchange_variant_id", "line_id": request.order_line_id},
                )
            if not in_stock(variant, request.quantity):
                raise ValidationFailed(
                    "that size or colour is out of stock",
                    details={"field": "exchange_variant_id", "line_id": request.order_line_id},
                )
            exchange[request.order_line_id] = variant.id
    customer: Customer | None = None
    if order.customer_id is not None:
        customer = await CustomerRepository(session, shop_id).get(order.customer_id)
    lang = pick_language(customer.language if customer else None, language, context.shop.default_language)
    reasons = sorted({r.reason for r in lines if r.reason and r.quantity})
    ret = Return(
        shop_id=shop_id,
        order_id=order.id,
        customer_id=order.customer_id,
        number=await _next_number(session, shop_id, order),
        status=ReturnStatus.requested,
        resolution=method,
        reason=", ".join(reasons)[:200] or None,
    )
    session.add(ret)
    await session.flush()
    by_line = {q.line_id: q for q in money.lines}
    reason_by_line = {r.order_line_id: r.reason for r in lines}
    for line_id, line_quote in by_line.items():
        return_line = ReturnLine(
            shop_id=shop_id,
            return_id=ret.id,
            order_line_id=line_id,
            quantity=line_quote.quantity,
            reason=reason_by_line.get(line_id),
        )
        session.add(return_line)
        await session.flush()
        session.add(
            ReturnLineChoice(
                shop_id=shop_id,
                return_id=ret.id,
                return_line_id=return_line.id,
                order_line_id=line_id,
                exchange_variant_id=exchange.get(line_id),
                amount_minor=line_quote.amount_minor,
                restocking_fee_minor=line_quote.restocking_fee_minor,
            )
        )
    case = ReturnCase(
        shop_id=shop_id,
        return_id=ret.id,
        order_id=order.id,
        method=ReturnMethod(method),
        source=source,
        language=lang,
        country=context.facts.country,
        currency=order.currency,
        items_minor=money.items_minor,
        restocking_fee_minor=money.restocking_fee_minor,
        label_fee_minor=money.label_fee_minor,
        bonus_minor=money.bonus_minor,
        payout_minor=money.payout_minor,
        customer_pays_shipping=decision.customer_pays_shipping,
        customs_note=customs_note(decision, lang),
        inspection={},
        decision={
            "lines": {
                str(d.line_id): explain_data(d.reasons) for d in decision.lines if d.line_id in by_line
            },
            "shipping": explain_data([shipping_note(decision)]),
            "international": decision.international,
            "evaluated_at": now.isoformat(),
        },
    )
    session.add(case)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="return.requested",
        actor=actor,
        customer_id=ret.customer_id,
        order_id=order.id,
        occurred_at=now,
        data={
            "return_id": ret.id,
            "number": ret.number,
            "method": method,
            "source": source,
            "lines": [{"order_line_id": q.line_id, "quantity": q.quantity} for q in money.lines],
            "payout_minor": money.payout_minor,
        },
    )
    auto = source == "portal" and context.policy.auto_approve
    if auto:
        await transition(
            session,
            shop_id=shop_id,
            actor=ASSISTANT,
            return_id=ret.id,
            to=S.approved,
            notify=False,
            links=links,
        )
        await transition(
            session, shop_id=shop_id, actor=ASSISTANT, return_id=ret.id, to=S.label_issued, links=links
        )
    else:
        await _notify(session, context.shop, ret, case, S.requested, links)
    return ret


def customs_note(decision: Decision, lang: str) -> str | None:
    if not decision.international:
        return None
    own = decision.customs_note.get(lang) or decision.customs_note.get("en")
    return own or t(lang, "ret.customs")


# --- the one place a status changes --------------------------------------------------------------------------


async def transition(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    return_id: int,
    to: ReturnStatus,
    reason: str | None = None,
    inspection: Mapping[str, Any] | None = None,
    notify: bool = True,
    links: Links = NO_LINKS,
) -> Return:
    ret = await ReturnRepository(session, shop_id).get_for_update(return_id)
    case = await CaseRepository(session, shop_id).for_return(ret.id)
    before = ReturnStatus(ret.status)
    if to not in ALLOWED[before]:
        raise InvalidTransition(
            f"a {before.value} return cannot become {to.value}",
            details={"from": before.value, "to": to.value},
        )
    if case is None:
        raise InvalidTransition(
            "this return was created outside storedesk; change it on the store platform",
            details={"from": before.value, "to": to.value},
        )
    shop = await get_shop(session, shop_id)
    now = utcnow()
    data: dict[str, Any] = {"return_id": ret.id, "number": ret.number, "from": before.value, "to": to.value}
    if to == S.rejected:
        cleaned = " ".join((reason or "").split())[:MAX_NOTE]
        if not cleaned:
            raise ValidationFailed("say why the return is rejected", details={"field": "reason"})
        ret.rejection_reason = cleaned
        data["reason"] = cleaned
    if to == S.label_issued:
        case.label_carrier = context_carrier(shop)
        case.label_number = label_number(shop_id, ret.id)
        data["label_number"] = case.label_number
    if to == S.inspected:
        case.inspection = {str(k): v for k, v in (inspection or {}).items()}
        data["inspection"] = case.inspection
    if to in COMPLETION.values():
        expected = COMPLETION[ReturnMethod(case.method)]
        if to != expected:
            raise InvalidTransition(
                f"this return is a {case.method!s}: it ends as {expected.value}",
                details={"from": before.value, "to": to.value, "method": str(case.method)},
            )
        data.update(await _complete(session, shop, ret, case, actor, now))
    stamp = TIMESTAMP.get(to)
    if stamp:
        setattr(case, stamp, now)
    ret.status = to
    case.updated_at = now
    await record(
        session,
        shop_id=shop_id,
        type=f"return.{to.value}",
        actor=actor,
        customer_id=ret.customer_id,
        order_id=ret.order_id,
        occurred_at=now,
        data=data,
    )
    if notify:
        await _notify(session, shop, ret, case, to, links, extra=data)
    return ret


def context_carrier(shop: Shop) -> str:
    address = (
        (shop.policies or {}).get("returns", {}).get("return_address", {})
        if isinstance((shop.policies or {}).get("returns"), dict)
        else {}
    )
    return str(address.get("carrier") or "DHL") if isinstance(address, dict) else "DHL"


def label_number(shop_id: int, return_id: int) -> str:
    """A stable return-label number with a mod-10 check digit (what the barcode carries)."""
    body = f"{shop_id:04d}{return_id:08d}"
    total = sum((3 if i % 2 == 0 else 1) * int(c) for i, c in enumerate(reversed(body)))
    return f"RT{body}{(10 - total % 10) % 10}"


async def _complete(
    session: AsyncSession, shop: Shop, ret: Return, case: ReturnCase, actor: Actor, now: datetime
) -> dict[str, Any]:
    if case.method == ReturnMethod.refund:
        return await _refund(session, shop, ret, case, actor, now)
    if case.method == ReturnMethod.store_credit:
        existing = await StoreCreditRepository(session, shop.id).for_return(ret.id)
        credit = existing or StoreCredit(
            shop_id=shop.id,
            customer_id=ret.customer_id,
            order_id=ret.order_id,
            return_id=ret.id,
            code="SC-" + secrets.token_hex(5).upper(),
            amount_minor=case.payout_minor,
            currency=case.currency,
            note=f"return {ret.number}",
            created_at=now,
        )
        if existing is None:
            session.add(credit)
            await session.flush()
        return {"store_credit_id": credit.id, "code": credit.code, "amount_minor": credit.amount_minor}
    return await _exchange(session, shop, ret, case)


REFUND_JOB = "returns.refund"


async def _refund(
    session: AsyncSession, shop: Shop, ret: Return, case: ReturnCase, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Refund through the commerce layer: for orders of a connected store a ``returns.refund`` job
    calls ``commerce.service.refund_order`` after this transaction commits (no network I/O inside it);
    for orders without a store (manual orders, imports) a pending ``Refund`` is recorded for the shop to
    pay out. Never more than is still refundable on the order."""
    repo = OrderFactsRepository(session, shop.id)
    order = await repo.get_for_update(ret.order_id)
    refunded = max(order.refunded_minor, await repo.refunded_minor(order.id))
    amount = min(case.payout_minor, max(0, order.total_minor - refunded))
    lines = await ReturnRepository(session, shop.id).lines([ret.id])
    covered = [[line.order_line_id, line.quantity] for line in lines[ret.id]]
    if order.store_id is not None and amount > 0:
        await enqueue(
            session,
            REFUND_JOB,
            {
                "shop_id": shop.id,
                "return_id": ret.id,
                "order_id": order.id,
                "lines": covered,
                "amount_minor": amount,
                "reason": f"return {ret.number}",
                "actor_type": actor.type,
                "actor_id": actor.id,
            },
            shop_id=shop.id,
            dedupe_key=f"{REFUND_JOB}:{ret.id}",
        )
        return {"refund": "queued", "amount_minor": amount}
    refund = Refund(
        shop_id=shop.id,
        order_id=order.id,
        return_id=ret.id,
        amount_minor=amount,
        currency=case.currency,
        reason=f"return {ret.number}",
        status="pending",
    )
    refund.lines = [{"order_line_id": line_id, "quantity": qty} for line_id, qty in covered]
    session.add(refund)
    await session.flush()
    await record(
        session,
        shop_id=shop.id,
        type="refund.requested",
        actor=actor,
        customer_id=ret.customer_id,
        order_id=order.id,
        occurred_at=now,
        data={"refund_id": refund.id, "return_id": ret.id, "amount_minor": amount, "currency": case.currency},
    )
    return {"refund_id": refund.id, "amount_minor": amount}


async def record_refund_outcome(
    session: AsyncSession,
    *,
    shop_id: int,
    return_id: int,
    ok: bool,
    message: str,
    refund_id: int | None = None,
) -> None:
    """What the store platform said about a return's refund (the job's outcome), in the return's history."""
    ret = await ReturnRepository(session, shop_id).get_or_404(return_id)
    await record(
        session,
        shop_id=shop_id,
        type="return.refund_sent" if ok else "return.refund_failed",
        actor=Actor("system"),
        customer_id=ret.customer_id,
        order_id=ret.order_id,
        data={"return_id": ret.id, "number": ret.number, "message": message[:300], "refund_id": refund_id},
    )


async def _exchange(session: AsyncSession, shop: Shop, ret: Return, case: ReturnCase) -> dict[str, Any]:
    """Reserve the replacement variants (conditional stock decrement; backorder variants may go
    below zero). The warehouse ships them; an out-of-stock variant stops the exchange."""
    choices = await CaseRepository(session, shop.id).choices(ret.id)
    lines = {line.id: line for line in (await ReturnRepository(session, shop.id).lines([ret.id]))[ret.id]}
    sent: list[dict[str, int]] = []
    for line_id, choice in choices.items():
        if choice.exchange_variant_id is None:
            continue
        quantity = lines[line_id].quantity
        variant = await OrderFactsRepository(session, shop.id).variant(choice.exchange_variant_id)
        if variant is None:
            raise InvalidTransition("the replacement item no longer exists; offer a refund or store credit")
        stmt = update(Variant).where(Variant.id == variant.id, Variant.shop_id == shop.id)
        if variant.inventory_policy != InventoryPolicy.backorder:
            stmt = stmt.where(Variant.stock >= quantity)
        result = await session.execute(stmt.values(stock=Variant.stock - quantity))
        if getattr(result, "rowcount", 0) != 1:
            raise InvalidTransition(
                "the replacement item is out of stock; offer a refund or store credit",
                details={"variant_id": variant.id},
            )
        sent.append({"variant_id": variant.id, "quantity": quantity})
    return {"exchange": sent}


# --- named steps (the agents' queue and the API call these) ---------------------------------------------------


async def approve(
    session: AsyncSession, *, shop_id: int, actor: Actor, return_id: int, links: Links = NO_LINKS
) -> Return:
    return await transition(
        session, shop_id=shop_id, actor=actor, return_id=return_id, to=S.approved, links=links
    )


async def reject(
    session: AsyncSession, *, shop_id: int, actor: Actor, return_id: int, reason: str, links: Links = NO_LINKS
) -> Return:
    return await transition(
        session, shop_id=shop_id, actor=actor, return_id=return_id, to=S.rejected, reason=reason, links=links
    )


async def complete(
    session: AsyncSession, *, shop_id: int, actor: Actor, return_id: int, links: Links = NO_LINKS
) -> Return:
    case = await CaseRepository(session, shop_id).for_return(return_id)
    if case is None:
        await ReturnRepository(session, shop_id).get_or_404(return_id)
        raise InvalidTransition("this return was created outside storedesk; change it on the store platform")
    return await transition(
        session,
        shop_id=shop_id,
        actor=actor,
        return_id=return_id,
        to=COMPLETION[ReturnMethod(case.method)],
        links=links,
    )


NEXT_STEP: dict[ReturnStatus, ReturnStatus] = {
    S.requested: S.approved,
    S.approved: S.label_issued,
    S.label_issued: S.in_transit,
    S.in_transit: S.received,
    S.received: S.inspected,
}


# --- telling the customer -----------------------------------------------------------------------------------


async def _conversation_for(
    session: AsyncSession, shop: Shop, customer: Customer, ret: Return, lang: str
) -> Conversation | None:
    channels = {c.id: c for c in await ChannelRepository(session, shop.id).list() if c.is_active}
    if not channels:
        return None
    preferred = customer.preferred_channel
    stmt = (
        ConversationRepository(session, shop.id)
        .select()
        .where(Conversation.customer_id == customer.id, Conversation.status != ConversationStatus.closed)
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(10)
    )
    recent = [c for c in (await session.execute(stmt)).scalars() if c.channel_id in channels]
    for conversation in recent:
        if preferred and channels[conversation.channel_id].kind == preferred:
            return conversation
    if recent and not preferred:
        return recent[0]
    channel = _channel_for(list(channels.values()), preferred)
    if channel is None:
        return recent[0] if recent else None
    return await conversations.open_conversation(
        session,
        shop_id=shop.id,
        actor=ASSISTANT,
        customer_id=customer.id,
        channel_id=channel.id,
        subject=t(lang, "notify.subject", number=ret.number),
        language=lang,
        order_id=ret.order_id,
    )


def _channel_for(channels: list[Channel], preferred: str | None) -> Channel | None:
    kinds = [preferred] if preferred else []
    kinds += [k.value for k in NOTIFY_CHANNELS if k.value != preferred]
    for kind in kinds:
        for channel in channels:
            if channel.kind == kind:
                return channel
    return None


def notification_text(
    ret: Return, case: ReturnCase, order_number: str, step: ReturnStatus, link: str, extra: Mapping[str, Any]
) -> str:
    lang = case.language
    params: dict[str, Any] = {"number": ret.number, "order": order_number}
    if step == S.rejected:
        params["reason"] = ret.rejection_reason or ""
    elif step == S.label_issued:
        params["link"] = link
    elif step == S.refunded:
        params["amount"] = fmt_money(int(extra.get("amount_minor", case.payout_minor)), case.currency, lang)
    elif step == S.store_credit:
        params["amount"] = fmt_money(case.payout_minor, case.currency, lang)
        params["code"] = extra.get("code", "")
    elif step == S.exchanged:
        params["items"] = ", ".join(str(i) for i in extra.get("items", [])) or ret.number
    return t(lang, f"notify.{step.value}", **params)


async def _notify(
    session: AsyncSession,
    shop: Shop,
    ret: Return,
    case: ReturnCase,
    step: ReturnStatus,
    links: Links,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    if ret.customer_id is None:
        return False
    customer = await CustomerRepository(session, shop.id).get(ret.customer_id)
    if customer is None:
        return False
    conversation = await _conversation_for(session, shop, customer, ret, case.language)
    if conversation is None:
        return False
    order = await OrderFactsRepository(session, shop.id).get_or_404(ret.order_id)
    details = dict(extra or {})
    if step == S.exchanged:
        details["items"] = await _exchange_titles(session, shop.id, ret.id)
    text = notification_text(ret, case, order.number, step, links.return_page(ret.id), details)
    await conversations.add_message(
        session,
        shop_id=shop.id,
        actor=ASSISTANT,
        conversation_id=conversation.id,
        direction=Direction.outbound,
        text=text,
        meta={"source": "returns", "return_id": ret.id, "step": step.value},
    )
    return True


async def _exchange_titles(session: AsyncSession, shop_id: int, return_id: int) -> list[str]:
    repo = OrderFactsRepository(session, shop_id)
    out: list[str] = []
    for choice in (await CaseRepository(session, shop_id).choices(return_id)).values():
        if choice.exchange_variant_id is not None:
            variant = await repo.variant(choice.exchange_variant_id)
            if variant is not None:
                out.append(variant.title)
    return out


# --- the policy (admins) -------------------------------------------------------------------------------------


async def save_policy(
    session: AsyncSession, *, shop_id: int, actor: Actor, changes: Mapping[str, Any]
) -> ReturnPolicy:
    """Validate and store return-policy settings (through the shops service, which records the event)."""
    shop = await get_shop(session, shop_id)
    flat_keys = {
        "return_window_days", "return_window_starts", "free_return_countries", "restocking_fee_percent",
        "return_label_fee_minor", "final_sale_returnable", "store_credit_bonus_percent",
    }  # fmt: skip
    unknown = sorted(set(changes) - flat_keys - {"returns"})
    if unknown:
        raise ValidationFailed(f"unknown policy setting {unknown[0]!r}", details={"field": unknown[0]})
    merged = {**(shop.policies or {}), **changes}
    policy = parse_policy(merged, timezone=shop.timezone or "UTC", home_country=shop.country)
    await update_shop(session, shop_id, actor, {"policies": dict(changes)})
    return policy


# --- reads ---------------------------------------------------------------------------------------------------


@dataclass
class ReturnView:
    ret: Return
    case: ReturnCase | None
    order: Order
    lines: list[tuple[ReturnLine, LineProduct | None, ReturnLineChoice | None, Variant | None]]
    customer: Customer | None

    @property
    def next_step(self) -> ReturnStatus | None:
        status = ReturnStatus(self.ret.status)
        if status == S.inspected and self.case is not None:
            return COMPLETION[ReturnMethod(self.case.method)]
        return NEXT_STEP.get(status)

    @property
    def final(self) -> bool:
        return ReturnStatus(self.ret.status) in FINAL


async def return_view(session: AsyncSession, *, shop_id: int, return_id: int) -> ReturnView:
    ret = await ReturnRepository(session, shop_id).get_or_404(return_id)
    case = await CaseRepository(session, shop_id).for_return(ret.id)
    facts = OrderFactsRepository(session, shop_id)
    order = await facts.get_or_404(ret.order_id)
    products = {lp.line.id: lp for lp in await facts.lines_with_products(order.id)}
    choices = await CaseRepository(session, shop_id).choices(ret.id)
    out: list[tuple[ReturnLine, LineProduct | None, ReturnLineChoice | None, Variant | None]] = []
    for line in (await ReturnRepository(session, shop_id).lines([ret.id]))[ret.id]:
        choice = choices.get(line.id)
        variant = (
            await facts.variant(choice.exchange_variant_id) if choice and choice.exchange_variant_id else None
        )
        out.append((line, products.get(line.order_line_id), choice, variant))
    customer = await CustomerRepository(session, shop_id).get(ret.customer_id) if ret.customer_id else None
    return ReturnView(ret, case, order, out, customer)


async def queue(
    session: AsyncSession, *, shop_id: int, statuses: Sequence[str] | None, before_id: int | None, limit: int
) -> tuple[list[tuple[Return, ReturnCase | None, Order | None]], dict[str, int]]:
    repo = ReturnRepository(session, shop_id)
    rows = list(await repo.queue(statuses=statuses, before_id=before_id, limit=limit))
    cases = await CaseRepository(session, shop_id).for_returns([r.id for r in rows])
    orders = OrderFactsRepository(session, shop_id)
    out: list[tuple[Return, ReturnCase | None, Order | None]] = []
    for r in rows:
        out.append((r, cases.get(r.id), await orders.get(r.order_id)))
    return out, await repo.counts()


async def return_events(session: AsyncSession, *, shop_id: int, return_id: int) -> list[Event]:
    """The return's own steps from the event log (oldest first)."""
    ret = await ReturnRepository(session, shop_id).get_or_404(return_id)
    events = await ReturnEventRepository(session, shop_id).for_order(ret.order_id)
    return [e for e in events if (e.data or {}).get("return_id") == ret.id]
