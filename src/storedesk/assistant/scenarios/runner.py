"""Play the scenario suite against the demo shop through the real ingest and job path, and score it.

For each scenario a customer of the scenario's language is taken from the demo data and one of their
orders is put into the state the scenario needs (in transit, late, delivered, unshipped …). Each
customer message goes in through ``channels.ingest.ingest_now`` on the demo chat channel; the job
runner then runs ``assistant.handle`` (and the delivery queue) exactly as in production.

Scoring, per customer message: *automated* = the assistant answered or acted by itself; *wrong* = an
automated answer or action that is not the expected one (wrong template, wrong order state, data shown
to someone who is not the order's owner). Per conversation: *resolved with no agent* = a routine
scenario whose every message was answered correctly by the assistant and that ended resolved by it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from storedesk.assistant import tasks as _tasks  # noqa: F401  (registers assistant.handle)
from storedesk.assistant.models import AssistantTurn
from storedesk.channels import ingest
from storedesk.channels.models import Channel
from storedesk.commerce.models import (
    FinancialStatus,
    FulfillmentStatus,
    Order,
    Product,
    Refund,
    Return,
    Shipment,
    ShipmentStatus,
)
from storedesk.conversations.models import Conversation, Message
from storedesk.customers.models import Customer, IdentityKind
from storedesk.db.session import Database
from storedesk.jobs.runner import JobRunner
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop

FILE = Path(__file__).with_name("scenarios.jsonl")

EXPECT: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "track": (frozenset({"answered"}), ("status.",)),
    "track_late": (frozenset({"answered"}), ("status.",)),
    "verify": (frozenset({"answered"}), ("verify.failed", "order.none")),
    "cancel_confirm": (frozenset({"answered"}), ("cancel.confirm",)),
    "cancel_done": (frozenset({"action"}), ("cancel.done",)),
    "cancel_kept": (frozenset({"answered"}), ("cancel.kept",)),
    "cancel_shipped": (frozenset({"answered"}), ("cancel.shipped",)),
    "cancel_window": (frozenset({"answered"}), ("cancel.window",)),
    "address_ask": (frozenset({"answered"}), ("address.ask",)),
    "address_confirm": (frozenset({"answered"}), ("address.confirm",)),
    "address_done": (frozenset({"action"}), ("address.done",)),
    "address_shipped": (frozenset({"answered"}), ("address.shipped",)),
    "return_eligible": (frozenset({"answered"}), ("returns.eligible",)),
    "return_not_eligible": (frozenset({"answered"}), ("returns.not_eligible",)),
    "return_policy": (frozenset({"answered"}), ("returns.policy",)),
    "refund_done": (frozenset({"answered"}), ("refund.done",)),
    "refund_none": (frozenset({"answered"}), ("refund.none",)),
    "delivery": (frozenset({"answered"}), ("policy.delivery_options",)),
    "payment": (frozenset({"answered"}), ("policy.payment_methods",)),
    "praise": (frozenset({"answered"}), ("praise",)),
    "stock": (frozenset({"answered"}), ("stock.",)),
    "handover": (frozenset({"handover"}), ("handover.",)),
}
AUTOMATED = frozenset({"answered", "action"})


def load(path: Path = FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class TurnResult:
    scenario: str
    language: str
    text: str
    expect: str
    outcome: str | None
    template: str | None
    intent: str | None
    reply: str | None
    correct: bool
    problem: str | None = None
    seconds: float = 0.0  # ingest → reply written (the job run included)

    @property
    def automated(self) -> bool:
        return self.outcome in AUTOMATED

    @property
    def wrong(self) -> bool:
        return self.automated and not self.correct


@dataclass
class ScenarioResult:
    id: str
    language: str
    routine: bool
    turns: list[TurnResult]
    resolved_by_assistant: bool
    state_ok: bool
    priority_ok: bool

    @property
    def resolved_without_agent(self) -> bool:
        return (
            self.routine
            and self.state_ok
            and self.resolved_by_assistant
            and all(t.correct and t.automated for t in self.turns)
        )


@dataclass
class Report:
    results: list[ScenarioResult] = field(default_factory=list)

    def turns(self) -> list[TurnResult]:
        return [t for r in self.results for t in r.turns]

    def summary(self) -> dict[str, Any]:
        turns = self.turns()
        automated = [t for t in turns if t.automated]
        wrong = [t for t in automated if t.wrong] + [
            t for r in self.results if not r.state_ok for t in r.turns[-1:] if t.automated and not t.wrong
        ]
        routine = [r for r in self.results if r.routine]
        handovers = [t for t in turns if t.expect == "handover"]
        by_lang: dict[str, dict[str, Any]] = {}
        for lang in sorted({r.language for r in self.results}):
            rs = [r for r in self.results if r.language == lang]
            ts = [t for r in rs for t in r.turns]
            auto = [t for t in ts if t.automated]
            rout = [r for r in rs if r.routine]
            by_lang[lang] = {
                "scenarios": len(rs),
                "automated": len(auto),
                "wrong": sum(1 for t in auto if t.wrong)
                + sum(1 for r in rs if not r.state_ok and r.turns[-1].automated and not r.turns[-1].wrong),
                "routine": len(rout),
                "resolved_without_agent": sum(1 for r in rout if r.resolved_without_agent),
            }
        return {
            "scenarios": len(self.results),
            "messages": len(turns),
            "automated": len(automated),
            "wrong_automated": len(wrong),
            "wrong_rate": round(len(wrong) / len(automated), 4) if automated else 0.0,
            "routine": len(routine),
            "resolved_without_agent": sum(1 for r in routine if r.resolved_without_agent),
            "automation_rate": round(sum(1 for r in routine if r.resolved_without_agent) / len(routine), 4)
            if routine
            else 0.0,
            "handover_expected": len(handovers),
            "handover_correct": sum(1 for t in handovers if t.outcome == "handover"),
            "priority_raised_ok": sum(1 for r in self.results if r.priority_ok),
            "outcomes": dict(Counter(t.outcome or "none" for t in turns)),
            "seconds_p50": round(statistics.median([t.seconds for t in turns]), 3) if turns else 0.0,
            "seconds_p95": round(sorted(t.seconds for t in turns)[int(0.95 * (len(turns) - 1))], 3)
            if turns
            else 0.0,
            "by_language": by_lang,
        }


class World:
    """Picks demo customers and puts their orders into the states scenarios need."""

    def __init__(self, db: Database, shop_id: int, channel_id: int) -> None:
        self.db = db
        self.shop_id = shop_id
        self.channel_id = channel_id
        self.used: set[int] = set()
        self.n = 0

    async def customer(self, language: str, *, refunded: bool = False) -> tuple[Customer, Order]:
        async with self.db.transaction() as s:
            stmt = (
                select(Customer, Order)
                .join(Order, Order.customer_id == Customer.id)
                .where(
                    Customer.shop_id == self.shop_id,
                    Customer.language == language,
                    Customer.email.is_not(None),
                )
                .order_by(Customer.id, Order.placed_at.desc())
            )
            if refunded:
                stmt = stmt.where(
                    Order.id.in_(
                        select(Refund.order_id).where(
                            Refund.shop_id == self.shop_id, Refund.processed_at.is_not(None)
                        )
                    )
                )
            for customer, order in (await s.execute(stmt)).all():
                if customer.id not in self.used:
                    self.used.add(customer.id)
                    return customer, order
        raise RuntimeError(f"the demo shop has no unused {language} customer left")

    async def prepare(self, order_id: int, state: str) -> Order:
        now = utcnow()
        async with self.db.transaction() as s:
            order = await s.get(Order, order_id)
            assert order is not None
            if state == "refunded":
                return order
            await s.execute(delete(Shipment).where(Shipment.order_id == order.id))
            await s.execute(delete(Refund).where(Refund.order_id == order.id))
            await s.execute(delete(Return).where(Return.order_id == order.id))
            # the scenario's order is the customer's latest; any other order moves a year back
            others = (
                await s.execute(
                    select(Order).where(
                        Order.shop_id == self.shop_id,
                        Order.customer_id == order.customer_id,
                        Order.id != order.id,
                    )
                )
            ).scalars()
            for other in others:
                other.placed_at = now - timedelta(days=400)
            order.cancelled_at = None
            order.cancel_reason = None
            order.refunded_minor = 0
            order.financial_status = FinancialStatus.paid
            order.action_pending = None
            days = {
                "in_transit": 2,
                "late": 9,
                "delivered": 8,
                "delivered_old": 70,
                "unshipped_recent": 0.125,
                "unshipped_old": 3,
            }[state]
            order.placed_at = now - timedelta(days=days)
            if state.startswith("unshipped"):
                order.fulfillment_status = FulfillmentStatus.unfulfilled
                return order
            order.fulfillment_status = FulfillmentStatus.fulfilled
            eta = {"in_transit": now + timedelta(days=2), "late": now - timedelta(days=3)}.get(
                state, now - timedelta(days=days - 3)
            )
            delivered = state in ("delivered", "delivered_old")
            s.add(
                Shipment(
                    shop_id=self.shop_id,
                    order_id=order.id,
                    external_id=f"scenario-{order.id}",
                    carrier="DHL",
                    tracking_number=f"JJD{order.id:017d}",
                    status=ShipmentStatus.delivered if delivered else ShipmentStatus.in_transit,
                    shipped_at=order.placed_at + timedelta(hours=20),
                    estimated_delivery_at=eta,
                    delivered_at=now - timedelta(days=days - 3) if delivered else None,
                )
            )
            return order

    async def product(self) -> str:
        async with self.db.transaction() as s:
            titles = list(
                (
                    await s.execute(
                        select(Product.title).where(Product.shop_id == self.shop_id).order_by(Product.id)
                    )
                ).scalars()
            )
        self.n += 1
        return titles[(self.n * 7) % len(titles)]

    async def say(
        self, sender: tuple[IdentityKind, str], text: str, conversation_id: int | None
    ) -> tuple[int, int]:
        self.n += 1
        message = ingest.InboundMessage(
            channel_id=self.channel_id,
            sender=ingest.SenderIdentity(*sender),
            text=text,
            provider_message_id=f"scenario-{self.n}-{utcnow().timestamp()}",
            thread=ingest.ThreadHints(conversation_id=conversation_id),
        )
        async with self.db.transaction() as s:
            results = await ingest.ingest_now(
                s,
                source="scenario",
                dedupe_key=ingest.event_key(self.channel_id, message.provider_message_id or ""),
                shop_id=self.shop_id,
                channel_id=self.channel_id,
                headers={},
                body=text.encode(),
                items=[message],
            )
        assert (
            results is not None
            and results[0].message_id is not None
            and results[0].conversation_id is not None
        )
        await JobRunner(self.db, concurrency=1).drain()
        return results[0].message_id, results[0].conversation_id


def _check(
    expect: str, turn: AssistantTurn | None, reply: str | None, secret: list[str]
) -> tuple[bool, str | None]:
    if turn is None:
        return False, "no turn"
    outcomes, prefixes = EXPECT[expect]
    if turn.outcome not in outcomes:
        return False, f"outcome {turn.outcome}"
    if not (turn.template or "").startswith(prefixes):
        return False, f"template {turn.template}"
    if expect == "track_late" and not (turn.facts or {}).get("late_days"):
        return False, "not told it is late"
    if secret and reply and any(s in reply for s in secret):
        return False, "showed another customer's order"
    return True, None


async def run(
    db: Database,
    scenarios: list[dict[str, Any]],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    async with db.transaction() as s:
        shop = (await s.execute(select(Shop).where(Shop.slug == "demo"))).scalar_one()
        channel = (
            (
                await s.execute(
                    select(Channel)
                    .where(Channel.shop_id == shop.id, Channel.kind == "chat")
                    .order_by(Channel.id)
                )
            )
            .scalars()
            .first()
        )
        assert channel is not None
    world = World(db, shop.id, channel.id)
    report = Report()
    for i, sc in enumerate(scenarios):
        lang = sc["language"]
        customer, order = await world.customer(lang, refunded=sc.get("order") == "refunded")
        if sc.get("order"):
            order = await world.prepare(order.id, sc["order"])
        fields = {
            "number": order.number,
            "email": order.email or customer.email or "",
            "name": customer.name or "Kim",
            "product": await world.product() if any("{product}" in t["say"] for t in sc["turns"]) else "",
        }
        who = sc["who"]
        world.n += 1
        sender: tuple[IdentityKind, str] = {
            "owner": (IdentityKind.email, (customer.email or "").lower()),
            "stranger": (IdentityKind.email, f"someone.else.{world.n}@example.org"),
            "anon_email": (IdentityKind.chat_visitor, f"scenario-visitor-{world.n}"),
            "anon": (IdentityKind.chat_visitor, f"scenario-visitor-{world.n}"),
        }[who]
        secret = [order.number, f"JJD{order.id:017d}"] if who in ("stranger", "anon") else []
        conversation_id: int | None = None
        results: list[TurnResult] = []
        for step in sc["turns"]:
            text = step["say"].format(**fields)
            started = time.perf_counter()
            message_id, conversation_id = await world.say(sender, text, conversation_id)
            took = time.perf_counter() - started
            async with db.transaction() as s:
                turn = (
                    await s.execute(select(AssistantTurn).where(AssistantTurn.message_id == message_id))
                ).scalar_one_or_none()
                reply = (
                    (await s.get(Message, turn.reply_message_id)).text  # type: ignore[union-attr]
                    if turn is not None and turn.reply_message_id
                    else (turn.suggested_text if turn is not None else None)
                )
            ok, problem = _check(step["expect"], turn, reply, secret)
            results.append(
                TurnResult(
                    sc["id"],
                    lang,
                    text,
                    step["expect"],
                    turn.outcome if turn else None,
                    turn.template if turn else None,
                    turn.intent if turn else None,
                    reply,
                    ok,
                    problem,
                    took,
                )
            )
        async with db.transaction() as s:
            conv = await s.get(Conversation, conversation_id)
            fresh = await s.get(Order, order.id)
            assert conv is not None and fresh is not None
            state_ok = True
            if "cancelled" in sc:
                state_ok = (fresh.cancelled_at is not None) == sc["cancelled"]
            if "address_changed" in sc:
                changed = (fresh.shipping_address or {}).get("address1") != (
                    order.shipping_address or {}
                ).get("address1")
                state_ok = state_ok and changed == sc["address_changed"]
            priority_ok = "priority" not in sc or str(conv.priority) in ("high", "urgent")
            report.results.append(
                ScenarioResult(
                    sc["id"],
                    lang,
                    bool(sc["routine"]),
                    results,
                    bool(conv.resolved_by_assistant),
                    state_ok,
                    priority_ok,
                )
            )
        if progress is not None:
            progress(i + 1, len(scenarios))
    return report


def by_expectation(report: Report) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "correct": 0, "automated": 0, "wrong": 0})
    for t in report.turns():
        row = out[t.expect]
        row["n"] += 1
        row["correct"] += int(t.correct)
        row["automated"] += int(t.automated)
        row["wrong"] += int(t.wrong)
    return dict(out)
