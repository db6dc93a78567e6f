"""The assistant's acting layer: one turn per inbound customer message.

When the shop's assistant answers by itself (``enabled``), every customer message gets its own
``assistant.handle`` job. When it only suggests replies (the default), the messages of one conversation are
coalesced: at most one ``assistant.suggest`` job per conversation waits in the queue, and it runs the turn
for the conversation's newest customer message (:func:`suggest_latest`); a burst of five messages costs one
triage, whose suggestion answers the latest text. When an agent opens the suggestion panel before that job
ran, :func:`suggestion` runs the same turn right away and stores it (docs/adr/0009).

``handle_message`` is the turn itself:

1. **load** (short transaction): the message, conversation, shop policy, customer identities, the
   question the assistant is waiting on (if any), the catalogue; claim the turn (unique per message);
2. **understand** (no transaction, off the event loop): language, intent, decision, entities;
3. **plan** (short read transaction): find and verify the order, check the shop's policies, render the
   answer from the per-language templates — a pure :class:`Plan`;
4. **act** (no transaction): an order action through ``commerce.service`` (it manages its own
   transactions), only after the customer confirmed;
5. **write** (one transaction): the reply through ``conversations.service.add_message`` (delivered on the
   conversation's channel by the durable queue), hand-over (assignment, priority, internal note), the
   conversation's intent, resolution, the turn row (the "why") and an ``assistant.*`` event.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.repository import TeamRepository
from storedesk.assistant import formatting as fmt
from storedesk.assistant import macro_suggestions as macro_ranking
from storedesk.assistant import policies as policy_mod
from storedesk.assistant import rewriter as rewriter_mod
from storedesk.assistant import rules
from storedesk.assistant.macro_suggestions import MacroSuggestion
from storedesk.assistant.models import AssistantTurn
from storedesk.assistant.nlu.intents import INTENTS
from storedesk.assistant.policies import HANDOVER_INTENTS, RAISE_PRIORITY, AssistantPolicy
from storedesk.assistant.repository import FactsRepository, TurnRepository
from storedesk.assistant.templates import answer_language, render
from storedesk.assistant.understanding import address_text, angry, parse_address, yes_no
from storedesk.commerce import service as commerce
from storedesk.commerce.models import FulfillmentStatus, Order
from storedesk.conversations import service as conversations
from storedesk.conversations.models import Conversation, ConversationStatus, Direction, Message, Priority
from storedesk.conversations.repository import ConversationRepository, MessageRepository
from storedesk.customers.repository import CustomerRepository
from storedesk.db.session import Database
from storedesk.events.service import record
from storedesk.jobs.registry import enqueue, enqueue_unless_pending, release_key
from storedesk.kit.actor import Actor
from storedesk.kit.errors import StoredeskError, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.knowledge.macros import MacroRepository
from storedesk.shops.models import Shop
from storedesk.shops.service import get_shop
from storedesk.sla.calendar import BusinessCalendar
from storedesk.tracking.links import LinkSigner
from storedesk.tracking.service import lateness, order_status, tracking_link

log = logging.getLogger("storedesk.assistant")

JOB = "assistant.handle"
SUGGEST_JOB = "assistant.suggest"
ASSISTANT = Actor("assistant", None)
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
EXPECTED_WAIT_MINUTES = 120


# --- links (configured by the composition root) -------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    base_url: str
    signer: LinkSigner

    def tracking(self, shop_slug: str, shop_id: int, order_id: int) -> str:
        return tracking_link(self.base_url, self.signer, shop_slug, shop_id, order_id)

    def returns(self, shop_slug: str, language: str) -> str:
        return f"{self.base_url}/returns/{shop_slug}?lang={language}"

    def article(self, shop_slug: str, language: str, slug: str) -> str:
        return f"{self.base_url}/help/{shop_slug}/{language}/a/{slug}"


_links: Links | None = None


# a pending confirmation → (template prefix, the action a "yes" runs); "no" answers "<prefix>.kept"
CONFIRMED_ACTIONS: dict[str, tuple[str, str]] = {
    "confirm_cancel": ("cancel", "cancel_order"),
    "confirm_address": ("address", "update_shipping_address"),
}


_rewriter: rewriter_mod.Rewriter | None = None
_rewriter_set = False


def configure(secret_keys: list[str], base_url: str) -> None:
    global _links
    _links = Links(base_url.rstrip("/"), LinkSigner(secret_keys))


def configure_rewriter(value: rewriter_mod.Rewriter | None) -> None:
    """The optional language model (``rewriter.from_settings``); None switches it off."""
    global _rewriter, _rewriter_set
    _rewriter, _rewriter_set = value, True


def rewriter() -> rewriter_mod.Rewriter | None:
    if not _rewriter_set:
        from storedesk.config import get_settings

        configure_rewriter(rewriter_mod.from_settings(get_settings()))
    return _rewriter


def links() -> Links:
    if _links is None:
        from storedesk.config import get_settings

        settings = get_settings()
        configure(settings.secret_keys, settings.base_url)
    assert _links is not None
    return _links


# --- the hook (called by channels.ingest in the ingest transaction) ---------------------------------------


async def on_inbound(
    session: AsyncSession, *, shop: Shop, conversation_id: int, message_id: int, meta: dict[str, Any]
) -> bool:
    """Queue the assistant's look at a new customer message when the shop's assistant should look at it:
    ``assistant.handle`` for this message when it answers by itself, else (suggest only) the
    conversation's ``assistant.suggest`` unless one is already waiting. Returns whether a job will look
    at the message (a new one, or the waiting one)."""
    if meta.get("auto_reply") or meta.get("bounce"):
        return False
    policy = policy_mod.parse(shop.policies, shop.languages)
    if policy.mode == "off":
        return False
    if policy.mode == "suggest":
        await enqueue_unless_pending(
            session,
            SUGGEST_JOB,
            {"conversation_id": conversation_id},
            shop_id=shop.id,
            dedupe_key=f"{SUGGEST_JOB}:{conversation_id}",
        )
        return True
    if policy.mode == "auto" and await _agent_took_over(session, shop.id, conversation_id):
        return False
    await enqueue(session, JOB, {"message_id": message_id}, shop_id=shop.id, dedupe_key=f"{JOB}:{message_id}")
    return True


async def _agent_took_over(session: AsyncSession, shop_id: int, conversation_id: int) -> bool:
    """The assistant handed this conversation over and an agent has replied since: it stays out."""
    last = await TurnRepository(session, shop_id).latest_handover(conversation_id)
    if last is None or last.message_id is None:
        return False
    return await FactsRepository(session, shop_id).agent_replied_after(conversation_id, last.message_id)


# --- what the job loads -------------------------------------------------------------------------------------


@dataclass
class Inbound:
    shop_id: int
    shop_slug: str
    default_language: str
    timezone: str
    business_hours: dict[str, Any]
    order_pattern: str | None
    policies: dict[str, Any]
    policy: AssistantPolicy
    conversation_id: int
    customer_id: int
    customer_name: str | None
    customer_emails: list[str]
    conversation_language: str | None
    assignee_id: int | None
    priority: str
    message_id: int | None
    text: str
    catalogue: list[str]
    pending: dict[str, Any] | None = None
    after_handover: bool = False
    # the shop's assistant is off but suggests replies: nothing is sent, acted on or changed
    suggest_only: bool = False
    turn_id: int | None = None


@dataclass
class Handover:
    reason: str
    priority: str | None
    note: str
    agent_id: int | None = None
    agent_name: str | None = None
    team_id: int | None = None


@dataclass
class Plan:
    outcome: str  # answered | action | suggested | handover | skipped
    reply: str | None = None
    template: str | None = None
    language: str = "en"
    order_id: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    policy_check: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    action_args: dict[str, Any] = field(default_factory=dict)
    action_result: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, Any] | None = None
    resolve: bool = False
    handover: Handover | None = None
    # rendered values of fact fields (order number, amounts, dates, links …) a rephrasing must keep
    fact_values: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Understood:
    language: str
    intent: str
    confidence: float
    decision: str
    entities: dict[str, Any]
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    # what the model alone said, and how the keyword rules changed it (storedesk.assistant.rules)
    model_intent: str | None = None
    model_decision: str | None = None
    how: str = "model"
    rules: list[str] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        return {
            "model_intent": self.model_intent or self.intent,
            "model_decision": self.model_decision or self.decision,
            "how": self.how,
            "rules": list(self.rules),
        }


async def _load(session: AsyncSession, shop_id: int, message_id: int) -> Inbound | None:
    message = await MessageRepository(session, shop_id).get(message_id)
    if message is None or message.direction != Direction.inbound:
        return None
    if (message.meta or {}).get("auto_reply"):
        return None
    shop = await get_shop(session, shop_id)
    policy = policy_mod.parse(shop.policies, shop.languages)
    if policy.mode == "off":
        return None
    conversation = await ConversationRepository(session, shop_id).get(message.conversation_id)
    if conversation is None or conversation.status == ConversationStatus.closed:
        return None
    ctx = await _inbound(session, shop, policy, conversation, message_id=message.id, text=message.text or "")
    if policy.mode == "suggest":
        ctx.suggest_only = True
        return ctx
    turns = TurnRepository(session, shop_id)
    previous = await turns.latest_done(conversation.id)
    if previous is not None:
        ctx.pending = _live_pending(previous, policy)
    # once handed over, a person owns the conversation: the assistant only suggests from then on
    ctx.after_handover = await turns.latest_handover(conversation.id) is not None
    return ctx


def _live_pending(turn: AssistantTurn, policy: AssistantPolicy) -> dict[str, Any] | None:
    if not turn.pending:
        return None
    if utcnow() - turn.created_at > timedelta(hours=policy.pending_hours):
        return None
    return dict(turn.pending)


async def _claim(db: Database, shop_id: int, message_id: int) -> tuple[Inbound | None, bool]:
    """Load the facts and claim the turn. ``(None, _)``: nothing to do; ``(ctx, False)``: already done."""
    try:
        async with db.transaction() as session:
            ctx = await _load(session, shop_id, message_id)
            if ctx is None:
                return None, False
            turns = TurnRepository(session, shop_id)
            existing = await turns.for_message(message_id)
            if existing is not None:
                if existing.status == "done":
                    return ctx, False
                ctx.turn_id = existing.id
                return ctx, True
            turn = AssistantTurn(shop_id=shop_id, conversation_id=ctx.conversation_id, message_id=message_id)
            session.add(turn)
            await session.flush()
            ctx.turn_id = turn.id
            return ctx, True
    except IntegrityError:
        return None, False  # another worker claimed it a moment ago


# --- understanding (CPU work, off the event loop) -----------------------------------------------------------


def _triage(text: str, languages: Sequence[str], catalogue: Sequence[str], pattern: str | None) -> Understood:
    from storedesk.assistant.nlu import get_pipeline

    pipe = get_pipeline([lang for lang in languages if lang] or None)
    t = pipe.triage(text, catalogue=list(catalogue) or None, order_pattern=pattern)
    hits = rules.matches(text, t.language)
    fused = rules.fuse(t.intent, t.confidence, t.decision, list(t.alternatives), hits, dict(t.entities))
    return Understood(
        t.language,
        fused.intent,
        t.confidence,
        fused.decision,
        dict(t.entities),
        list(t.alternatives),
        model_intent=t.intent,
        model_decision=t.decision,
        how=fused.how,
        rules=hits,
    )


def _languages(policy: AssistantPolicy) -> list[str]:
    from storedesk.assistant.nlu.language import validate_languages

    out: list[str] = []
    for lang in policy.languages:
        try:
            validate_languages([lang])
        except ValueError:
            continue
        out.append(lang)
    return out or ["en"]


async def understand(ctx: Inbound) -> Understood:
    return await anyio.to_thread.run_sync(
        _triage, ctx.text, _languages(ctx.policy), ctx.catalogue, ctx.order_pattern
    )


def warm(languages: Sequence[str] | None = None) -> None:
    """Load the NLU models (``storedesk serve`` and ``storedesk worker`` call this at start)."""
    from storedesk.assistant.nlu import get_pipeline

    get_pipeline(list(languages) if languages else None).triage("hello", catalogue=None, order_pattern=None)


def warm_safely(languages: Sequence[str] | None = None) -> None:
    """:func:`warm` that never fails the process (a missing model is trained on first use instead)."""
    try:
        warm(languages)
    except Exception:  # pragma: no cover - logged, the job path loads the model itself
        log.exception("could not load the assistant's models at start")


async def enabled_languages(db: Database) -> list[str] | None:
    """The languages of every shop whose assistant is on (answering or suggesting); None when no shop uses
    the assistant."""
    from sqlalchemy import select

    async with db.transaction() as session:
        rows = (await session.execute(select(Shop.policies, Shop.languages))).all()
    langs: set[str] = set()
    enabled = False
    for policies, shop_languages in rows:
        policy = policy_mod.parse(policies, list(shop_languages or []))
        if policy.mode != "off":
            enabled = True
            langs.update(_languages(policy))
    return sorted(langs) if enabled else None


async def warm_if_used(db: Database) -> bool:
    """Load the models at process start (``storedesk serve`` with embedded jobs, ``storedesk worker``) when
    some shop has the assistant on, so its first answer is fast. Returns whether it loaded them."""
    try:
        languages = await enabled_languages(db)
    except Exception:  # pragma: no cover - e.g. a database not migrated yet
        log.warning("could not read the shops' assistant policies; the models load on first use")
        return False
    if languages is None:
        return False
    await anyio.to_thread.run_sync(warm_safely, languages)
    return True


# --- planning ------------------------------------------------------------------------------------------------


@dataclass
class OrderView:
    order: Order
    verified: bool
    status: str
    lines: dict[str, Any] = field(default_factory=dict)


def _owned(order: Order, ctx: Inbound, entities: dict[str, Any]) -> bool:
    if order.customer_id is not None and order.customer_id == ctx.customer_id:
        return True
    email = (order.email or "").strip().lower()
    if email and email in ctx.customer_emails:
        return True
    given = str(entities.get("email") or "").strip().lower()
    return bool(email) and given == email


async def _find_order(
    facts: FactsRepository, ctx: Inbound, entities: dict[str, Any]
) -> tuple[Order | None, str]:
    """The order the customer means, verified. Reasons: found | not_verified | no_orders."""
    number = entities.get("order_number")
    if number:
        candidates = list(await facts.orders_by_number(str(number).lstrip("#")))
        for order in candidates:
            if _owned(order, ctx, entities):
                return order, "found"
        return None, "not_verified"
    latest = await facts.latest_orders(ctx.customer_id, ctx.customer_emails, limit=1)
    if latest:
        return latest[0], "found"
    return None, "no_orders"


def _order_facts(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "number": order.number,
        "financial_status": str(order.financial_status),
        "fulfillment_status": str(order.fulfillment_status),
        "cancelled": order.cancelled_at is not None,
        "placed_at": order.placed_at.isoformat(),
        "total_minor": order.total_minor,
        "currency": order.currency,
    }


class Planner:
    """Turns (facts, understanding) into a :class:`Plan`. Reads only; writes nothing."""

    def __init__(self, session: AsyncSession, ctx: Inbound, u: Understood, *, now: datetime | None = None):
        self.session = session
        self.ctx = ctx
        self.u = u
        self.facts = FactsRepository(session, ctx.shop_id)
        self.lang = answer_language(u.language, ctx.default_language)
        self.zone = ZoneInfo(ctx.timezone)
        self.now = now or utcnow()
        self.fact_values: list[str] = []

    def t(self, key: str, **fields: Any) -> str:
        self.fact_values.extend(str(v) for k, v in fields.items() if k in rewriter_mod.FACT_FIELDS)
        return render(key, self.lang, self.ctx.default_language, **fields)

    def plan_for(self, outcome: str, template: str, reply: str, **kw: Any) -> Plan:
        return Plan(outcome=outcome, template=template, reply=reply, language=self.lang, **kw)

    # -- entry

    async def plan(self) -> Plan:
        plan = await self._decide()
        plan.fact_values = list(dict.fromkeys(self.fact_values))
        return plan

    async def _decide(self) -> Plan:
        plan = await self._plan()
        if self.ctx.suggest_only:
            return self._suggest_only(plan)
        if self.ctx.after_handover and plan.outcome in ("handover", "answered", "action"):
            # a person has this conversation: the assistant only suggests (and never hands over twice)
            return Plan(
                outcome="suggested",
                reply=None if plan.outcome == "handover" else plan.reply,
                template=plan.template,
                language=plan.language,
                order_id=plan.order_id,
                facts=plan.facts,
                policy_check={**plan.policy_check, "suggest_because": "after_handover"},
            )
        return plan

    def _suggest_only(self, plan: Plan) -> Plan:
        """The shop's assistant is off: the agent gets the answer as a suggestion; where the assistant would
        have handed over, the apology that fits the problem (if any) is the start of their reply."""
        reply, template = plan.reply, plan.template
        if plan.outcome == "handover":
            key = (
                "sorry.angry" if plan.policy_check.get("reason") == "angry_tone" else f"sorry.{self.u.intent}"
            )
            reply, template = (self.t(key), key) if _has_template(key) else (None, None)
        return Plan(
            outcome="suggested",
            reply=reply,
            template=template,
            language=plan.language,
            order_id=plan.order_id,
            facts=plan.facts,
            policy_check={**plan.policy_check, "suggest_because": "suggest_only"},
        )

    async def _plan(self) -> Plan:
        ctx, u = self.ctx, self.u
        if ctx.pending is not None:
            answered = await self._pending()
            if answered is not None:
                return answered
        signals = angry(ctx.text, u.language)
        if signals and ctx.policy.handover_on_angry_tone:
            return await self._handover("angry_tone", extra={"anger": signals})
        if u.intent in HANDOVER_INTENTS:
            return await self._handover(f"intent:{u.intent}")
        if u.decision == "handover":
            return await self._handover("low_confidence")
        plan = await self._intent()
        if plan.outcome == "handover":
            return plan
        suggest = u.decision != "answer" or u.intent not in ctx.policy.automated_intents
        if suggest and plan.reply:
            plan.policy_check["suggest_because"] = (
                "not_automated" if u.intent not in ctx.policy.automated_intents else f"decision:{u.decision}"
            )
            return Plan(
                outcome="suggested",
                reply=plan.reply,
                template=plan.template,
                language=plan.language,
                order_id=plan.order_id,
                facts=plan.facts,
                policy_check=plan.policy_check,
            )
        return plan

    async def _intent(self) -> Plan:
        handler = {
            "track_order": self._track,
            "cancel_order": self._cancel,
            "change_shipping_address": self._address,
            "return_request": self._return_request,
            "return_policy": self._return_policy,
            "refund_status": self._refund_status,
            "delivery_options": self._info,
            "payment_methods": self._info,
            "invoice_request": self._info,
            "product_question": self._info,
            "stock_availability": self._stock,
            "feedback_praise": self._praise,
        }.get(self.u.intent)
        if handler is None:
            return await self._handover(f"intent:{self.u.intent}")
        return await handler()

    # -- orders

    async def _order(self) -> tuple[Order | None, Plan | None]:
        order, why = await _find_order(self.facts, self.ctx, self.u.entities)
        if order is not None:
            return order, None
        key = "verify.failed" if why == "not_verified" else "order.none"
        return None, self.plan_for(
            "answered", key, self.t(key), policy_check={"verification": why}, facts={"order": None}
        )

    async def _track(self) -> Plan:
        order, asked = await self._order()
        if order is None:
            assert asked is not None
            return asked
        shipments = list(await self.facts.shipments(order.id))
        status = order_status(order, shipments)
        parts = [
            self.t(
                f"status.{status}",
                number=order.number,
                delivered=fmt.day(
                    max((s.delivered_at for s in shipments if s.delivered_at), default=self.now),
                    self.lang,
                    self.zone,
                ),
            )
        ]
        late_days, check_by, eta = 0, None, None
        active = [s for s in shipments if s.status != "delivered"] or shipments
        shipment = active[-1] if active else None
        if shipment is not None and status not in ("delivered", "cancelled"):
            if shipment.carrier and shipment.tracking_number:
                parts.append(
                    self.t("track.carrier", carrier=shipment.carrier, tracking=shipment.tracking_number)
                )
            late_days, check_by = lateness(shipment, self.zone, self.now)
            eta = shipment.estimated_delivery_at
            if eta is not None and not late_days:
                parts.append(self.t("track.eta", eta=fmt.day(eta, self.lang, self.zone)))
        link = links().tracking(self.ctx.shop_slug, self.ctx.shop_id, order.id)
        if status != "cancelled":
            parts.append(self.t("track.link", link=link))
        if late_days and eta is not None and check_by is not None:
            parts.append(
                self.t(
                    "track.late",
                    eta=fmt.day(eta, self.lang, self.zone),
                    check_by=fmt.day(check_by, self.lang),
                )
            )
        facts = {
            "order": _order_facts(order),
            "status": status,
            "shipment": {
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "status": str(shipment.status),
                "eta": eta.isoformat() if eta else None,
            }
            if shipment is not None
            else None,
            "late_days": late_days,
            "tracking_link": link,
        }
        if status in ("exception", "returned_to_sender"):
            return await self._handover(
                f"shipment:{status}", order=order, prefix=" ".join(parts), extra={"status": status}
            )
        if status == "delivered" and rules.STILL_WAITING_RULE in self.u.rules:
            # "it still hasn't arrived" about a parcel the carrier delivered: a delivery problem for a person
            return await self._handover("delivered_not_received", order=order, extra={"status": status})
        return self.plan_for(
            "answered",
            f"status.{status}",
            " ".join(parts[:1]) + ("\n" + "\n".join(parts[1:]) if len(parts) > 1 else ""),
            order_id=order.id,
            facts=facts,
            policy_check={"verification": "owner_or_email"},
            resolve=True,
        )

    def _returns_days(self) -> int:
        value = self.ctx.policies.get("return_window_days", 30)
        return int(value) if isinstance(value, int) else 30

    async def _cancel(self) -> Plan:
        order, asked = await self._order()
        if order is None:
            assert asked is not None
            return asked
        shipments = list(await self.facts.shipments(order.id))
        facts = {"order": _order_facts(order), "shipments": len(shipments)}
        hours = self.ctx.policy.cancellation_window_hours
        age_hours = (self.now - order.placed_at).total_seconds() / 3600
        check = {
            "unfulfilled": order.fulfillment_status == FulfillmentStatus.unfulfilled and not shipments,
            "window_hours": hours,
            "age_hours": round(age_hours, 1),
        }
        returns_link = links().returns(self.ctx.shop_slug, self.lang)
        if order.cancelled_at is not None:
            return self.plan_for(
                "answered",
                "cancel.already",
                self.t("cancel.already", number=order.number),
                order_id=order.id,
                facts=facts,
                policy_check=check,
                resolve=True,
            )
        if not check["unfulfilled"]:
            key = "cancel.shipped"
        elif age_hours > hours:
            key = "cancel.window"
        elif not self.ctx.policy.allow_cancel:
            return await self._handover("cancel_not_automated", order=order)
        else:
            total = fmt.money(order.total_minor, order.currency, self.lang)
            return self.plan_for(
                "answered",
                "cancel.confirm",
                self.t("cancel.confirm", number=order.number, total=total),
                order_id=order.id,
                facts=facts,
                policy_check={**check, "allowed": True},
                pending={
                    "kind": "confirm_cancel",
                    "order_id": order.id,
                    "number": order.number,
                    "language": self.lang,
                },
            )
        reply = self.t(
            key, number=order.number, days=self._returns_days(), hours=hours, returns_link=returns_link
        )
        return self.plan_for(
            "answered",
            key,
            reply,
            order_id=order.id,
            facts=facts,
            policy_check={**check, "allowed": False},
            resolve=True,
        )

    async def _address(self) -> Plan:
        order, asked = await self._order()
        if order is None:
            assert asked is not None
            return asked
        shipments = list(await self.facts.shipments(order.id))
        facts = {"order": _order_facts(order), "shipments": len(shipments)}
        open_ = (
            order.fulfillment_status == FulfillmentStatus.unfulfilled
            and not shipments
            and not order.cancelled_at
        )
        if not open_:
            link = links().tracking(self.ctx.shop_slug, self.ctx.shop_id, order.id)
            reply = self.t("address.shipped", number=order.number) + "\n" + self.t("track.link", link=link)
            return self.plan_for(
                "answered",
                "address.shipped",
                reply,
                order_id=order.id,
                facts=facts,
                policy_check={"unshipped": False},
                resolve=True,
            )
        if not self.ctx.policy.allow_address_change:
            return await self._handover("address_change_not_automated", order=order)
        return self._ask_or_confirm_address(order, facts)

    def _ask_or_confirm_address(self, order: Order, facts: dict[str, Any]) -> Plan:
        current = order.shipping_address or {}
        parsed = parse_address(
            self.ctx.text, default_country=current.get("country_code"), default_name=current.get("name")
        )
        if parsed is not None:
            return self.plan_for(
                "answered",
                "address.confirm",
                self.t("address.confirm", number=order.number, address=address_text(parsed)),
                order_id=order.id,
                facts={**facts, "new_address": parsed},
                policy_check={"unshipped": True},
                pending={
                    "kind": "confirm_address",
                    "language": self.lang,
                    "order_id": order.id,
                    "number": order.number,
                    "address": parsed,
                },
            )
        return self.plan_for(
            "answered",
            "address.ask",
            self.t("address.ask", number=order.number),
            order_id=order.id,
            facts=facts,
            policy_check={"unshipped": True},
            pending={
                "kind": "await_address",
                "language": self.lang,
                "order_id": order.id,
                "number": order.number,
            },
        )

    # -- the answer to a question the assistant asked

    async def _pending(self) -> Plan | None:
        pending = self.ctx.pending or {}
        kind = pending.get("kind")
        number = str(pending.get("number") or "")
        order_id = int(pending.get("order_id") or 0)
        if kind == "await_address":
            order = await self.session.get(Order, order_id)
            if order is None or order.shop_id != self.ctx.shop_id:
                return None
            plan = self._ask_or_confirm_address(order, {"order": _order_facts(order)})
            if plan.template == "address.confirm":
                return plan
            if self.u.decision == "answer" and self.u.intent not in ("change_shipping_address",):
                return None  # the customer moved on to something else
            plan.template, plan.reply = "address.unparsed", self.t("address.unparsed")
            return plan
        answer = yes_no(self.ctx.text)
        if answer is None:
            return None
        # "ja" alone says little about the language: answer in the language of the question
        self.lang = answer_language(str(pending.get("language") or self.lang), self.ctx.default_language)
        check = {"confirmation": "yes" if answer else "no", "pending": kind}
        confirmed = CONFIRMED_ACTIONS.get(str(kind))
        if confirmed is None:
            return None
        prefix, action = confirmed
        if not answer:
            return self.plan_for(
                "answered",
                f"{prefix}.kept",
                self.t(f"{prefix}.kept", number=number),
                order_id=order_id,
                policy_check=check,
                resolve=True,
            )
        args: dict[str, Any] = {"order_id": order_id, "number": number}
        if kind == "confirm_address":
            args["address"] = pending.get("address") or {}
        return Plan(
            outcome="action",
            template=f"{prefix}.done",
            language=self.lang,
            order_id=order_id,
            action=action,
            action_args=args,
            policy_check=check,
            resolve=True,
        )

    # -- returns and refunds

    async def _return_policy(self) -> Plan:
        free = self.ctx.policies.get("free_return_countries") or []
        orders = await self.facts.latest_orders(self.ctx.customer_id, self.ctx.customer_emails, limit=1)
        country = None
        if orders:
            country = str((orders[0].shipping_address or {}).get("country_code") or "").upper() or None
        shipping = ""
        if country is not None:
            fee = self.ctx.policies.get("return_label_fee_minor") or 0
            if country in free or not fee:
                shipping = self.t("returns.free") if country in free else ""
            else:
                shipping = self.t("returns.fee", fee=fmt.money(int(fee), orders[0].currency, self.lang))
        reply = self.t(
            "returns.policy",
            days=self._returns_days(),
            shipping=shipping,
            returns_link=links().returns(self.ctx.shop_slug, self.lang),
        )
        return self.plan_for(
            "answered",
            "returns.policy",
            " ".join(reply.split(" ")).replace("  ", " "),
            facts={"return_window_days": self._returns_days(), "country": country},
            policy_check={"source": "shop.policies"},
            resolve=True,
        )

    async def _return_request(self) -> Plan:
        from storedesk.returns import i18n as returns_i18n
        from storedesk.returns.service import order_context, pick_language, shipping_note

        if not self.u.entities.get("order_number"):
            latest = await self.facts.latest_orders(self.ctx.customer_id, self.ctx.customer_emails, limit=1)
            if not latest:
                return await self._return_policy()
        order, asked = await self._order()
        if order is None:
            assert asked is not None
            return asked
        returns_link = links().returns(self.ctx.shop_slug, self.lang)
        context = await order_context(self.session, shop_id=self.ctx.shop_id, order_id=order.id, now=self.now)
        decision = context.decision
        facts = {"order": _order_facts(order), "eligible_lines": sum(1 for d in decision.lines if d.eligible)}
        if decision.any_eligible:
            last_days = [d.window.last_day for d in decision.lines if d.eligible and d.window is not None]
            note = shipping_note(decision)
            shipping = returns_i18n.explain(note, pick_language(self.lang), currency=order.currency)
            reply = self.t(
                "returns.eligible",
                number=order.number,
                last_day=fmt.day(max(last_days), self.lang) if last_days else "",
                shipping=shipping,
                returns_link=returns_link,
            )
            return self.plan_for(
                "answered",
                "returns.eligible",
                reply,
                order_id=order.id,
                facts=facts,
                policy_check={"eligible": True, "shipping": note.code},
                resolve=True,
            )
        reasons = [r for d in decision.lines for r in d.reasons] or list(decision.order_reasons)
        reason = reasons[0] if reasons else None
        explained = (
            returns_i18n.explain(reason, pick_language(self.lang), currency=order.currency)
            if reason is not None
            else ""
        )
        if reason is not None and reason.code in ("not_delivered", "not_shipped") and not order.cancelled_at:
            # not delivered yet: the customer may rather cancel — tell them what applies now
            return await self._cancel()
        return self.plan_for(
            "answered",
            "returns.not_eligible",
            self.t("returns.not_eligible", number=order.number, reason=explained),
            order_id=order.id,
            facts=facts,
            policy_check={"eligible": False, "reason": reason.code if reason else None},
            resolve=True,
        )

    async def _refund_status(self) -> Plan:
        order, asked = await self._order()
        if order is None:
            assert asked is not None
            return asked
        days = self.ctx.policy.refund_processing_days
        refunds = list(await self.facts.refunds(order.id))
        returns = list(await self.facts.returns(order.id))
        facts: dict[str, Any] = {
            "order": _order_facts(order),
            "refunds": [{"amount_minor": r.amount_minor, "status": r.status} for r in refunds],
            "returns": [{"number": r.number, "status": str(r.status)} for r in returns],
        }
        if refunds:
            refund = refunds[-1]
            amount = fmt.money(refund.amount_minor, refund.currency, self.lang)
            if refund.processed_at is not None or refund.status in (
                "succeeded",
                "success",
                "done",
                "processed",
            ):
                when = refund.processed_at or refund.created_at
                key, reply = (
                    "refund.done",
                    self.t(
                        "refund.done",
                        amount=amount,
                        number=order.number,
                        date=fmt.day(when, self.lang, self.zone),
                    ),
                )
            else:
                key, reply = (
                    "refund.pending",
                    self.t("refund.pending", amount=amount, number=order.number, days=days),
                )
        elif order.cancelled_at is not None and not returns:
            # cancelled, no refund on record: when it is due, and a person once it is overdue
            if (self.now - order.cancelled_at).days > math.ceil(days * 7 / 5) + 1:
                return await self._handover(
                    "refund_overdue", order=order, extra={"cancelled_at": order.cancelled_at.isoformat()}
                )
            key, reply = (
                "refund.cancelled",
                self.t(
                    "refund.cancelled",
                    number=order.number,
                    date=fmt.day(order.cancelled_at, self.lang, self.zone),
                    days=days,
                ),
            )
        elif returns and str(returns[-1].status) == "rejected":
            key, reply = (
                "refund.rejected",
                self.t("refund.rejected", rma=returns[-1].number, number=order.number),
            )
        elif returns and str(returns[-1].status) not in ("rejected", "refunded", "exchanged", "store_credit"):
            ret = returns[-1]
            key, reply = (
                "refund.return",
                self.t(
                    "refund.return",
                    rma=ret.number,
                    number=order.number,
                    status=_return_status(ret.status, self.lang),
                    days=days,
                ),
            )
        else:
            key, reply = (
                "refund.none",
                self.t(
                    "refund.none",
                    number=order.number,
                    days=days,
                    returns_link=links().returns(self.ctx.shop_slug, self.lang),
                ),
            )
        return self.plan_for(
            "answered",
            key,
            reply,
            order_id=order.id,
            facts=facts,
            policy_check={"refund_processing_days": days},
            resolve=True,
        )

    # -- information

    async def _info(self) -> Plan:
        key = {
            "delivery_options": "delivery_options",
            "payment_methods": "payment_methods",
            "invoice_request": "invoice",
        }.get(self.u.intent)
        if key is not None:
            text = self.ctx.policy.text(key, self.lang, self.ctx.default_language)
            if text:
                return self.plan_for(
                    "answered",
                    f"policy.{key}",
                    text,
                    facts={"source": f"policies.assistant.{key}"},
                    resolve=True,
                )
        return await self._help_center()

    async def _help_center(self) -> Plan:
        from storedesk.helpcenter.search import search

        result = await search(
            self.session,
            shop_id=self.ctx.shop_id,
            query=self.ctx.text,
            language=self.lang,
            default_language=self.ctx.default_language,
            limit=3,
        )
        if not result.hits:
            return await self._handover("no_answer_found")
        hit = result.hits[0]
        url = links().article(self.ctx.shop_slug, hit.language, hit.slug)
        facts: dict[str, Any] = {
            "article_id": hit.article_id,
            "title": hit.title,
            "language": hit.language,
            "via": hit.via,
        }
        if hit.language != self.lang:
            reply = self.t(
                "kb.other_language",
                language_name=fmt.language_name(hit.language, self.lang),
                title=hit.title,
                url=url,
            )
            return self.plan_for("answered", "kb.other_language", reply, facts=facts, resolve=True)
        return self.plan_for(
            "answered", "kb.found", self.t("kb.found", title=hit.title, url=url), facts=facts, resolve=True
        )

    async def _stock(self) -> Plan:
        title = self.u.entities.get("product")
        product = await self.facts.product_by_title(str(title)) if title else None
        if product is None:
            return await self._help_center()
        variants = list(await self.facts.variants(product.id))
        sizes = {str(s).upper() for s in self.u.entities.get("sizes") or []}
        colours = {str(c).lower() for c in self.u.entities.get("colours") or []}
        wanted = [
            v
            for v in variants
            if (not sizes or (v.size or "").upper() in sizes)
            and (not colours or (v.color or "").lower() in colours)
        ] or variants
        facts = {
            "product_id": product.id,
            "variants": [
                {
                    "sku": v.sku,
                    "stock": v.stock,
                    "policy": str(v.inventory_policy),
                    "restock_date": v.restock_date.isoformat() if v.restock_date else None,
                }
                for v in wanted
            ],
        }
        name = product.title
        if any(v.stock > 0 for v in wanted):
            key, reply = "stock.in", self.t("stock.in", product=name)
        else:
            dates = sorted(v.restock_date for v in wanted if v.restock_date is not None)
            backorder = any(str(v.inventory_policy) == "backorder" for v in wanted)
            if backorder:
                part = f" ({fmt.day(dates[0], self.lang)})" if dates else ""
                key, reply = "stock.backorder", self.t("stock.backorder", product=name, date_part=part)
            elif dates:
                key, reply = (
                    "stock.restock",
                    self.t("stock.restock", product=name, date=fmt.day(dates[0], self.lang)),
                )
            else:
                key, reply = "stock.out", self.t("stock.out", product=name)
        return self.plan_for("answered", key, reply, facts=facts, resolve=True)

    async def _praise(self) -> Plan:
        return self.plan_for("answered", "praise", self.t("praise"), resolve=True)

    # -- hand-over

    async def _handover(
        self,
        reason: str,
        *,
        order: Order | None = None,
        prefix: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Plan:
        ctx, u = self.ctx, self.u
        if (order is None and u.entities.get("order_number")) or (
            order is None
            and u.intent
            in (
                "damaged_or_wrong_item",
                "delivery_problem",
                "refund_request",
                "change_order",
                "payment_problem",
            )
        ):
            found, why = await _find_order(self.facts, ctx, u.entities)
            order = found if why == "found" else None
        priority = RAISE_PRIORITY.get(u.intent)
        if reason == "angry_tone":
            priority = "urgent" if priority == "high" else "high"
        if reason.startswith("shipment:"):
            priority = "high"
        if priority is not None and PRIORITY_RANK[priority] <= PRIORITY_RANK.get(ctx.priority, 1):
            priority = None
        agent_id, agent_name, team_id = await self._route()
        cal = BusinessCalendar.from_config(ctx.timezone, ctx.business_hours)
        opens = cal.add(self.now, timedelta(seconds=1)) - timedelta(seconds=1)
        who = agent_name or self.t("handover.team")
        if opens <= self.now + timedelta(minutes=1):
            wait = EXPECTED_WAIT_MINUTES
            wait_text = self.t("wait.hours", n=wait // 60) if wait >= 60 else self.t("wait.minutes", n=wait)
            text = self.t("handover.open", who=who, wait=wait_text)
            timing: dict[str, Any] = {"open": True, "expected_wait_minutes": wait}
        else:
            when = fmt.weekday_time(opens, self.lang, self.zone)
            text = self.t("handover.closed", who=who, when=when)
            timing = {"open": False, "opens_at": opens.isoformat()}
        sorry_key = "sorry.angry" if reason == "angry_tone" else f"sorry.{u.intent}"
        sorry = self.t(sorry_key) if _has_template(sorry_key) else ""
        reply = " ".join(x for x in (prefix, sorry, text) if x)
        facts = {"order": _order_facts(order) if order else None, **(extra or {}), "timing": timing}
        note = self._summary(reason, order, facts)
        return Plan(
            outcome="handover",
            reply=reply,
            template="handover.open" if timing["open"] else "handover.closed",
            language=self.lang,
            order_id=order.id if order else None,
            facts=facts,
            policy_check={"reason": reason},
            handover=Handover(reason, priority, note, agent_id, agent_name, team_id),
        )

    async def _route(self) -> tuple[int | None, str | None, int | None]:
        ctx = self.ctx
        team_id: int | None = None
        team_ref = ctx.policy.handover_team
        if team_ref is not None:
            for team in await TeamRepository(self.session, ctx.shop_id).list():
                if team.id == team_ref or team.name == team_ref:
                    team_id = team.id
        if ctx.assignee_id is not None:
            return ctx.assignee_id, None, team_id
        speakers = await self.facts.agents_speaking(self.u.language)
        if team_id is not None and speakers:
            members = await self.facts.team_member_ids(team_id)
            speakers = [a for a in speakers if a.id in members] or speakers
        if not speakers:
            return None, None, team_id
        load = await self.facts.open_load([a.id for a in speakers])
        chosen = min(speakers, key=lambda a: (load.get(a.id, 0), a.id))
        return chosen.id, chosen.name.split()[0], team_id

    def _summary(self, reason: str, order: Order | None, facts: dict[str, Any]) -> str:
        u = self.u
        lines = [
            f"Assistant hand-over ({reason.replace('_', ' ')}).",
            f"Intent: {u.intent} ({u.confidence:.0%}, decision {u.decision}); language: {u.language}.",
        ]
        if order is not None:
            lines.append(
                f"Order {order.number}: {order.fulfillment_status}, {order.financial_status}, "
                f"{fmt.money(order.total_minor, order.currency, 'en')}, placed {order.placed_at.date().isoformat()}"
                + (", cancelled" if order.cancelled_at else "")
                + "."
            )
        ents = {k: v for k, v in u.entities.items() if k != "product"} | (
            {"product": u.entities["product"]} if u.entities.get("product") else {}
        )
        if ents:
            lines.append("Entities: " + ", ".join(f"{k}={v}" for k, v in ents.items()) + ".")
        if facts.get("anger"):
            lines.append("Tone: angry (" + ", ".join(facts["anger"]) + ").")
        quoted = " ".join(self.ctx.text.split())
        lines.append(f'Customer wrote: "{quoted[:400]}{"…" if len(quoted) > 400 else ""}"')
        lines.append("Already done: the assistant told the customer a colleague will reply.")
        return "\n".join(lines)


def _has_template(key: str) -> bool:
    from storedesk.assistant.templates import T

    return key in T["en"]


def _return_status(status: object, lang: str) -> str:
    return str(status).replace("_", " ")


# --- acting and writing ------------------------------------------------------------------------------------


async def _act(db: Database, ctx: Inbound, plan: Plan) -> Plan:
    """Run the confirmed order action; the reply says what happened (or hands over when it failed)."""
    args = plan.action_args
    order_id = int(args["order_id"])
    number = str(args.get("number") or "")
    try:
        if plan.action == "cancel_order":
            result = await commerce.cancel_order(
                db,
                shop_id=ctx.shop_id,
                actor=ASSISTANT,
                order_id=order_id,
                restock=True,
                refund=True,
                reason="customer",
                confirm=True,
            )
            refunded = int(result.order.refunded_minor or 0)
            reply = render("cancel.done", plan.language, ctx.default_language, number=number)
            plan.fact_values = [number]
            if refunded:
                amount = fmt.money(refunded, result.order.currency, plan.language)
                reply += " " + render(
                    "cancel.refund",
                    plan.language,
                    ctx.default_language,
                    amount=amount,
                    days=ctx.policy.refund_processing_days,
                )
                plan.fact_values.append(amount)
        else:
            address = dict(args.get("address") or {})
            result = await commerce.update_shipping_address(
                db, shop_id=ctx.shop_id, actor=ASSISTANT, order_id=order_id, address=address, confirm=True
            )
            reply = render(
                "address.done",
                plan.language,
                ctx.default_language,
                number=number,
                address=address_text(address),
            )
            plan.fact_values = [number, address_text(address)]
    except StoredeskError as exc:
        plan.action_result = {"status": "failed", "code": exc.code, "message": exc.message}
        plan.outcome = "handover"
        plan.reply = render("action.failed", plan.language, ctx.default_language)
        plan.template = "action.failed"
        plan.resolve = False
        plan.handover = Handover(
            f"action_failed:{plan.action}",
            "high",
            f"Assistant hand-over: the customer confirmed {plan.action} of order {number}, but it failed: "
            f"{exc.message}",
        )
        return plan
    plan.action_result = {"status": result.status, "message": result.message, "event_id": result.event_id}
    plan.reply = reply
    return plan


async def _write(db: Database, ctx: Inbound, u: Understood | None, plan: Plan) -> AssistantTurn:
    async with db.transaction() as session:
        assert ctx.turn_id is not None
        turn = await TurnRepository(session, ctx.shop_id).get_for_update(ctx.turn_id)
        if turn.status == "done":
            return turn
        conversation = await ConversationRepository(session, ctx.shop_id).get_or_404(ctx.conversation_id)
        reply_id: int | None = None
        closed = conversation.status == ConversationStatus.closed
        if plan.reply and plan.outcome in ("answered", "action", "handover") and not closed:
            message, _ = await conversations.add_message(
                session,
                shop_id=ctx.shop_id,
                actor=ASSISTANT,
                conversation_id=ctx.conversation_id,
                direction=Direction.outbound,
                text=plan.reply,
                meta={"assistant_turn_id": turn.id, "template": plan.template},
            )
            reply_id = message.id
        changes: dict[str, Any] = {}
        if u is not None and u.intent in INTENTS and conversation.intent != u.intent:
            changes["intent"] = u.intent
        if plan.order_id is not None and conversation.order_id is None:
            changes["order_id"] = plan.order_id
        if u is not None and not conversation.language:
            changes["language"] = u.language
        handover = plan.handover
        if handover is not None and handover.priority is not None:
            changes["priority"] = Priority(handover.priority)
        if ctx.suggest_only:
            changes = {}  # suggest only: the agents' conversation stays as it is
        if changes and not closed:
            await conversations.update_attributes(
                session,
                shop_id=ctx.shop_id,
                actor=ASSISTANT,
                conversation_id=ctx.conversation_id,
                changes=changes,
            )
        if handover is not None and not closed:
            if handover.agent_id is not None or handover.team_id is not None:
                await conversations.assign(
                    session,
                    shop_id=ctx.shop_id,
                    actor=ASSISTANT,
                    conversation_id=ctx.conversation_id,
                    assignee_id=handover.agent_id,
                    team_id=handover.team_id,
                    set_assignee=handover.agent_id is not None,
                    set_team=handover.team_id is not None,
                )
            await conversations.add_note(
                session,
                shop_id=ctx.shop_id,
                actor=ASSISTANT,
                conversation_id=ctx.conversation_id,
                text=handover.note,
            )
        if plan.resolve and plan.outcome in ("answered", "action") and ctx.policy.resolve_after_answer:
            fresh = await ConversationRepository(session, ctx.shop_id).get_or_404(ctx.conversation_id)
            if fresh.status in (ConversationStatus.open, ConversationStatus.pending) and not plan.pending:
                await conversations.change_status(
                    session,
                    shop_id=ctx.shop_id,
                    actor=ASSISTANT,
                    conversation_id=ctx.conversation_id,
                    status=ConversationStatus.resolved,
                )
        turn.status = "done"
        turn.outcome = plan.outcome
        turn.language = u.language if u else plan.language
        turn.intent = u.intent if u else None
        turn.confidence = round(u.confidence, 4) if u else None
        turn.decision = u.decision if u else None
        turn.entities = dict(u.entities) if u else {}
        turn.facts = _jsonable(plan.facts)
        turn.policy_check = _jsonable(
            {**plan.policy_check, **({"understanding": u.evidence()} if u is not None else {})}
        )
        turn.action = plan.action
        turn.action_result = _jsonable(plan.action_result)
        turn.pending = plan.pending
        turn.reply_message_id = reply_id
        turn.template = plan.template
        turn.suggested_text = plan.reply if plan.outcome == "suggested" else None
        event_type = {
            "answered": "assistant.answered",
            "action": "assistant.action",
            "handover": "assistant.handover",
            "suggested": "assistant.suggested",
        }.get(plan.outcome, "assistant.skipped")
        await record(
            session,
            shop_id=ctx.shop_id,
            type=event_type,
            actor=ASSISTANT,
            conversation_id=ctx.conversation_id,
            customer_id=ctx.customer_id,
            order_id=plan.order_id,
            data={
                "turn_id": turn.id,
                "message_id": ctx.message_id,
                "intent": turn.intent,
                "confidence": turn.confidence,
                "decision": turn.decision,
                "template": plan.template,
                **({"action": plan.action, "result": turn.action_result} if plan.action else {}),
                **({"reason": handover.reason} if handover else {}),
            },
        )
        return turn


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


async def handle_message(db: Database, *, shop_id: int, message_id: int) -> AssistantTurn | None:
    """The ``assistant.handle`` job: one turn for one inbound message (idempotent)."""
    ctx, todo = await _claim(db, shop_id, message_id)
    if ctx is None or not todo:
        return None
    u = await understand(ctx)
    async with db.transaction() as session:
        plan = await Planner(session, ctx, u).plan()
    if plan.action is not None and plan.outcome == "action":
        plan = await _act(db, ctx, plan)
    plan = await polish(ctx, u, plan)
    return await _write(db, ctx, u, plan)


async def suggest_latest(
    db: Database, *, shop_id: int, conversation_id: int, job_id: int | None = None
) -> AssistantTurn | None:
    """The ``assistant.suggest`` job: the turn (suggest only) for the newest customer message of the
    conversation, the messages before it in the same burst having been coalesced into it. Nothing when
    the shop's assistant no longer only suggests (an answering assistant has a job per message), or the
    newest message already has its turn (an agent's panel ran it).

    ``job_id``: the running job, whose dedupe key is given up first — a message committed before is read
    here as (or before) the newest, one committed after queues the next job."""
    async with db.transaction() as session:
        if job_id is not None:
            await release_key(session, job_id)
        shop = await get_shop(session, shop_id)
        if policy_mod.parse(shop.policies, shop.languages).mode != "suggest":
            return None
        latest = await FactsRepository(session, shop_id).last_inbound(conversation_id)
    if latest is None:
        return None
    return await handle_message(db, shop_id=shop_id, message_id=latest.id)


async def polish(ctx: Inbound, u: Understood, plan: Plan) -> Plan:
    """The optional language model's part (no transaction): rephrase the answer to the customer, write the
    hand-over summary. Our text stays whenever the endpoint fails or its text changes a fact; every use is
    recorded in ``plan.policy_check["llm"]``."""
    rw = rewriter()
    if rw is None:
        return plan
    uses: list[dict[str, Any]] = []
    if rw.rephrase_on and plan.reply and plan.outcome in ("answered", "action"):
        languages = _languages(ctx.policy)

        def detect(text: str) -> str:
            from storedesk.assistant.nlu import get_pipeline

            return get_pipeline(languages).language_id.detect(text).language

        plan.reply, record = await rw.rephrase(
            plan.reply, plan.language, fact_values=plan.fact_values, detect=detect
        )
        uses.append(record)
    if rw.summary_on and plan.handover is not None:
        summary, record = await rw.summarise(plan.handover.note)
        if summary is not None:
            head, _, rest = plan.handover.note.partition("\n")
            plan.handover.note = f"{head}\nSummary ({record['model']}): {summary}\n{rest}".rstrip()
        uses.append(record)
    if uses:
        plan.policy_check = {**plan.policy_check, "llm": uses}
    return plan


# --- agent side ------------------------------------------------------------------------------------------------


async def list_turns(session: AsyncSession, *, shop_id: int, conversation_id: int) -> Sequence[AssistantTurn]:
    await ConversationRepository(session, shop_id).get_or_404(conversation_id)
    return await TurnRepository(session, shop_id).for_conversation(conversation_id)


async def correct_intent(
    session: AsyncSession, *, shop_id: int, actor: Actor, turn_id: int, intent: str
) -> AssistantTurn:
    if intent not in INTENTS:
        raise ValidationFailed(f"unknown intent {intent!r}", details={"field": "intent"})
    turn = await TurnRepository(session, shop_id).get_for_update(turn_id)
    before = turn.corrected_intent or turn.intent
    turn.corrected_intent = intent
    turn.corrected_by = actor.id if actor.type == "agent" else None
    turn.corrected_at = utcnow()
    await record(
        session,
        shop_id=shop_id,
        type="assistant.corrected",
        actor=actor,
        conversation_id=turn.conversation_id,
        data={"turn_id": turn.id, "from": before, "to": intent},
    )
    conversation = await ConversationRepository(session, shop_id).get_or_404(turn.conversation_id)
    if conversation.intent != intent and conversation.status != ConversationStatus.closed:
        await conversations.update_attributes(
            session, shop_id=shop_id, actor=actor, conversation_id=conversation.id, changes={"intent": intent}
        )
    return turn


@dataclass
class Suggestion:
    conversation_id: int
    turn_id: int | None
    text: str | None
    language: str | None
    intent: str | None
    confidence: float | None
    source: str  # turn | engine | none
    macros: list[MacroSuggestion] = field(default_factory=list)  # the shop's best macros for the message


async def suggestion(db: Database, *, shop_id: int, conversation_id: int) -> Suggestion:
    """The reply the assistant suggests for a conversation: the stored suggestion of its latest turn, or
    (an open conversation with none) the engine run now in suggest mode on the last customer message;
    with the shop's macros ranked for that message (``macro_suggestions.rank``).

    Suggest-only shops: when the newest customer message has no turn yet (its coalesced
    ``assistant.suggest`` job is still queued), its turn is run now and stored — computed once per
    customer message, whoever comes first; the queued job then finds it done."""
    await _catch_up(db, shop_id, conversation_id)
    async with db.transaction() as session:
        conversation = await ConversationRepository(session, shop_id).get_or_404(conversation_id)
        turns = await TurnRepository(session, shop_id).for_conversation(conversation_id, limit=1)
        latest = turns[0] if turns else None
        inbound = await FactsRepository(session, shop_id).last_inbound(conversation_id)
        if latest is not None and latest.suggested_text:
            shop = await get_shop(session, shop_id)
            macros = await _ranked_macros(
                session, shop, conversation, inbound, latest.language, latest.intent
            )
            return Suggestion(
                conversation_id,
                latest.id,
                latest.suggested_text,
                latest.language,
                latest.intent,
                latest.confidence,
                "turn",
                macros,
            )
        if inbound is None or conversation.status == ConversationStatus.closed:
            return Suggestion(conversation_id, None, None, None, None, None, "none")
        shop = await get_shop(session, shop_id)
        ctx = await _context_for_suggestion(session, shop, conversation_id, inbound.id, inbound.text or "")
    u = await understand(ctx)
    async with db.transaction() as session:
        plan = await Planner(session, ctx, u).plan()
        macros = await _ranked_macros(session, shop, conversation, inbound, u.language, u.intent)
    text = plan.reply if plan.outcome != "action" else None
    return Suggestion(conversation_id, None, text, u.language, u.intent, u.confidence, "engine", macros)


async def suggested_macros(db: Database, *, shop_id: int, conversation_id: int) -> list[MacroSuggestion]:
    """The macro suggestions alone, without running the engine (a conversation whose customer is not
    waiting, or a shop with the assistant off): the intent and language of the assistant's turn for the
    last customer message when there is one, else the conversation's language and no intent."""
    async with db.transaction() as session:
        conversation = await ConversationRepository(session, shop_id).get_or_404(conversation_id)
        if conversation.status == ConversationStatus.closed:
            return []
        inbound = await FactsRepository(session, shop_id).last_inbound(conversation_id)
        turns = await TurnRepository(session, shop_id).for_conversation(conversation_id, limit=1)
        turn = turns[0] if turns and inbound is not None and turns[0].message_id == inbound.id else None
        shop = await get_shop(session, shop_id)
        intent = (turn.corrected_intent or turn.intent) if turn else None
        return await _ranked_macros(
            session, shop, conversation, inbound, turn.language if turn else None, intent
        )


async def _ranked_macros(
    session: AsyncSession,
    shop: Shop,
    conversation: Conversation,
    inbound: Message | None,
    language: str | None,
    intent: str | None,
) -> list[MacroSuggestion]:
    if (
        inbound is None
        or conversation.status == ConversationStatus.closed
        or not (inbound.text or "").strip()
    ):
        return []
    if not language:
        customer = await CustomerRepository(session, shop.id).get(conversation.customer_id)
        language = conversation.language or (customer.language if customer else None)
    return macro_ranking.rank(
        await MacroRepository(session, shop.id).list(),
        text=inbound.text or "",
        language=language or shop.default_language,
        intent=intent,
        default_language=shop.default_language,
    )


async def _catch_up(db: Database, shop_id: int, conversation_id: int) -> None:
    async with db.transaction() as session:
        conversation = await ConversationRepository(session, shop_id).get_or_404(conversation_id)
        if conversation.status == ConversationStatus.closed:
            return
        shop = await get_shop(session, shop_id)
        if policy_mod.parse(shop.policies, shop.languages).mode != "suggest":
            return
        inbound = await FactsRepository(session, shop_id).last_inbound(conversation_id)
        if inbound is None or await TurnRepository(session, shop_id).for_message(inbound.id) is not None:
            return
    await handle_message(db, shop_id=shop_id, message_id=inbound.id)


async def _context_for_suggestion(
    session: AsyncSession, shop: Shop, conversation_id: int, message_id: int, text: str
) -> Inbound:
    conversation = await ConversationRepository(session, shop.id).get_or_404(conversation_id)
    policy = policy_mod.parse(shop.policies, shop.languages)
    ctx = await _inbound(session, shop, policy, conversation, message_id=None, text=text)
    ctx.after_handover = True  # suggest mode: nothing is sent or done
    return ctx


async def _inbound(
    session: AsyncSession,
    shop: Shop,
    policy: AssistantPolicy,
    conversation: Conversation,
    *,
    message_id: int | None,
    text: str,
) -> Inbound:
    """What the assistant knows for one customer message: the shop's settings and policies, the
    conversation, the customer and every address they are known by, the catalogue's product names."""
    customer = await CustomerRepository(session, shop.id).get(conversation.customer_id)
    facts = FactsRepository(session, shop.id)
    return Inbound(
        shop_id=shop.id,
        shop_slug=shop.slug,
        default_language=shop.default_language,
        timezone=shop.timezone or "UTC",
        business_hours=dict(shop.business_hours or {}),
        order_pattern=shop.order_number_pattern or None,
        policies=dict(shop.policies or {}),
        policy=policy,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        customer_name=customer.name if customer else None,
        customer_emails=sorted(
            set(await facts.emails(conversation.customer_id))
            | ({customer.email.lower()} if customer and customer.email else set())
        ),
        conversation_language=conversation.language,
        assignee_id=conversation.assignee_id,
        priority=str(conversation.priority),
        message_id=message_id,
        text=text,
        catalogue=await facts.product_titles(),
    )


async def corrections(session: AsyncSession, *, shop_id: int) -> list[dict[str, Any]]:
    """Agent corrections as training rows ``{"text", "intent", "language", "group"}``."""
    out: list[dict[str, Any]] = []
    turns = await TurnRepository(session, shop_id).corrections()
    messages = {
        m.id: m
        for m in await FactsRepository(session, shop_id).messages(
            [t.message_id for t in turns if t.message_id]
        )
    }
    for turn in turns:
        message = messages.get(turn.message_id or 0)
        if message is None or not (message.text or "").strip():
            continue
        out.append(
            {
                "text": message.text.strip(),
                "intent": turn.corrected_intent,
                "language": turn.language or "en",
                "group": f"correction:{shop_id}:{turn.id}",
            }
        )
    return out
