"""The demo shop's feedback and service levels: survey policy, SLA policies with every conversation's clock,
twelve months of SLA outcomes and of CSAT, CES and NPS answers (docs/demo.md).

Runs at the end of the seed, in its transaction, on the conversations and messages just written. The SLA
clocks are *replayed* from each conversation's messages and status changes with the SLA module's own
rules (``sla.service.due_times``, the shop's business calendar), so the due times on open conversations,
the ``sla.achieved``/``sla.breached`` events and the breach notifications are what the live hooks would
have written. Survey answers are drawn from the seeded generator (lower when the first answer was late or
the conversation was reopened) and written with the events the survey service writes, so the KPI rollup
counts them like live answers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Agent, Notification, Role
from storedesk.channels.models import Channel
from storedesk.commerce.models import Order, Shipment
from storedesk.conversations.models import Conversation, ConversationTag, Message
from storedesk.customers.models import Customer
from storedesk.events.models import Event
from storedesk.kit.actor import SYSTEM
from storedesk.sla import service as sla_service
from storedesk.sla.calendar import BusinessCalendar
from storedesk.sla.models import ConversationSla, SlaPolicy, SlaTarget
from storedesk.surveys import service as survey_service
from storedesk.surveys.models import Survey, SurveyResponse
from storedesk.surveys.texts import LANGUAGES

SURVEY_POLICY: dict[str, Any] = {
    "after_resolve": ["csat", "ces"],  # CSAT as buttons/first question, CES on the survey page
    "min_days_between": 14,
    "delay_minutes": 0,
    "nps_min_days_between": 90,
}
SLA_POLICIES: tuple[dict[str, Any], ...] = (
    {
        "name": "Urgent",
        "position": 1,
        "match_priority": "urgent",
        "first_response_minutes": 30,
        "next_response_minutes": 60,
        "resolution_minutes": 8 * 60,
    },
    {
        "name": "High priority",
        "position": 2,
        "match_priority": "high",
        "first_response_minutes": 60,
        "next_response_minutes": 2 * 60,
        "resolution_minutes": 16 * 60,
    },
    {
        "name": "Live chat",
        "position": 3,
        "match_channel_kind": "chat",
        "first_response_minutes": 15,
        "next_response_minutes": 30,
        "resolution_minutes": 8 * 60,
    },
    {
        "name": "Default",
        "position": 10,
        "first_response_minutes": 4 * 60,
        "next_response_minutes": 8 * 60,
        "resolution_minutes": 3 * 10 * 60,  # three business days of 10 hours
    },
)
ANSWERED = 0.42  # share of CSAT surveys answered
CES_TOO = 0.6  # of those, share that also answered CES on the page
NPS_SHARE, NPS_ANSWERED = 0.3, 0.45  # delivered orders asked for NPS, and answered
NPS_AFTER = timedelta(days=14)
# scores: (weights for 1..5) — a late first answer or a reopen makes customers less happy
CSAT_GOOD = (2, 3, 8, 32, 55)
CSAT_BAD = (12, 14, 24, 28, 22)
CES_GOOD = (1, 2, 3, 7, 17, 35, 35)
CES_BAD = (8, 10, 14, 18, 20, 17, 13)
NPS_WEIGHTS = (2, 1, 2, 2, 3, 4, 6, 12, 18, 24, 26)


@dataclass
class _Replay:
    """One conversation's SLA clock, replayed."""

    state: ConversationSla
    status: str = "open"
    outcomes: dict[SlaTarget, tuple[str, datetime, datetime]] = field(default_factory=dict)


def _target_minutes(policy: SlaPolicy, target: SlaTarget) -> int | None:
    return {
        SlaTarget.first_response: policy.first_response_minutes,
        SlaTarget.next_response: policy.next_response_minutes,
        SlaTarget.resolution: policy.resolution_minutes,
    }[target]


def replay(
    conversation: Conversation,
    timeline: list[tuple[datetime, int, str]],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    now: datetime,
) -> _Replay:
    """Run the SLA rules over ``timeline`` — ``(at, order, what)`` with ``what`` one of ``in``, ``answer``
    and ``status:<to>`` — and then up to ``now``: each target gets its one outcome (a breach dated at its
    due time, as ``sla.report_breaches`` records it)."""
    st = ConversationSla(
        conversation_id=conversation.id,
        shop_id=conversation.shop_id,
        policy_id=policy.id,
        paused_seconds=0.0,
        last_status="open",
    )
    r = _Replay(st)

    def settle(t: datetime) -> None:
        due = sla_service.due_times(st, r.status, policy, calendar)
        for target, at in sla_service._running(st, r.status, due).items():
            if target not in r.outcomes and at < t:
                r.outcomes[target] = ("breached", at, at)

    def meet(target: SlaTarget, start: datetime, t: datetime, extra: float = 0.0) -> None:
        minutes = _target_minutes(policy, target)
        if minutes is None or target in r.outcomes:
            return
        due = calendar.add(start, timedelta(minutes=minutes, seconds=extra))
        r.outcomes[target] = ("achieved" if t <= due else "breached", due, t)

    for at, _, what in sorted(timeline, key=lambda x: (x[0], x[1])):
        settle(at)
        if what == "in":
            st.started_at = st.started_at or at
            st.awaiting_since = st.awaiting_since or at
        elif what == "answer" and st.started_at is not None:
            if st.first_responded_at is None:
                st.first_responded_at = at
                meet(SlaTarget.first_response, st.started_at, at)
            elif st.awaiting_since is not None:
                meet(SlaTarget.next_response, st.awaiting_since, at)
            st.awaiting_since = None
        elif what.startswith("status:"):
            to = what.split(":", 1)[1]
            if r.status == "pending" and to != "pending" and st.paused_at is not None:
                st.paused_seconds += calendar.business_seconds(st.paused_at, at)
                st.paused_at = None
            if to == "pending":
                st.paused_at = at
            if to in ("resolved", "closed") and st.resolved_at is None and st.started_at is not None:
                meet(SlaTarget.resolution, st.started_at, at, st.paused_seconds)
                st.resolved_at = at
            r.status = to
    settle(now)
    st.last_status = r.status
    for target, (outcome, _, _) in r.outcomes.items():
        setattr(st, f"{target.value}_outcome", outcome)
    due = sla_service.due_times(st, r.status, policy, calendar)
    conversation.first_response_due_at = due.first_response
    conversation.next_response_due_at = due.next_response
    conversation.resolution_due_at = due.resolution
    running = sla_service._running(st, r.status, due)
    st.next_due_at = min(running.values(), default=None)
    st.next_breach_at = min((at for t, at in running.items() if t not in r.outcomes), default=None)
    return r


def _event(
    shop_id: int,
    type_: str,
    at: datetime,
    data: dict[str, Any],
    *,
    conversation_id: int | None = None,
    customer_id: int | None = None,
    order_id: int | None = None,
    actor_type: str = "system",
    actor_id: int | None = None,
) -> Event:
    return Event(
        shop_id=shop_id,
        type=type_,
        occurred_at=at,
        actor_type=actor_type,
        actor_id=actor_id,
        conversation_id=conversation_id,
        customer_id=customer_id,
        order_id=order_id,
        data=data,
    )


async def install(session: AsyncSession, *, shop_id: int, seed: int, now: datetime) -> dict[str, int]:
    """Policies, SLA clocks and outcomes, and survey history for the freshly written demo shop."""
    rng = random.Random(seed * 7919 + 101)
    await survey_service.update_settings(session, shop_id=shop_id, actor=SYSTEM, changes=SURVEY_POLICY)
    policies = [
        await sla_service.create_policy(session, shop_id=shop_id, actor=SYSTEM, values=dict(v))
        for v in SLA_POLICIES
    ]
    await session.flush()
    calendar = await sla_service.shop_calendar(session, shop_id)

    conversations = list(
        (
            await session.execute(
                select(Conversation).where(Conversation.shop_id == shop_id).order_by(Conversation.number)
            )
        ).scalars()
    )
    kinds = {
        c.id: str(c.kind)
        for c in (await session.execute(select(Channel).where(Channel.shop_id == shop_id))).scalars()
    }
    tags: dict[int, set[str]] = defaultdict(set)
    for cid, name in (
        await session.execute(
            select(ConversationTag.conversation_id, ConversationTag.name).where(
                ConversationTag.shop_id == shop_id
            )
        )
    ).all():
        tags[cid].add(name)
    timeline: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for cid, direction, author, created in (
        await session.execute(
            select(Message.conversation_id, Message.direction, Message.author_type, Message.created_at).where(
                Message.shop_id == shop_id
            )
        )
    ).all():
        if direction == "inbound":
            timeline[cid].append((created, 0, "in"))
        elif direction == "outbound" and author in ("agent", "assistant"):
            timeline[cid].append((created, 1, "answer"))
    for cid, at, data in (
        await session.execute(
            select(Event.conversation_id, Event.occurred_at, Event.data).where(
                Event.shop_id == shop_id, Event.type == "conversation.status_changed"
            )
        )
    ).all():
        if cid is not None:
            timeline[cid].append((at, 2, f"status:{data.get('to')}"))
    admins = [
        a
        for a in (
            await session.execute(select(Agent.id).where(Agent.shop_id == shop_id, Agent.role == Role.admin))
        ).scalars()
    ]

    rows: list[Any] = []
    replays: dict[int, _Replay] = {}
    counts = {"sla_achieved": 0, "sla_breached": 0, "sla_open_breached": 0}
    for conv in conversations:
        policy = next(
            (
                p
                for p in policies
                if sla_service.policy_matches(
                    p,
                    priority=str(conv.priority),
                    channel_kind=kinds.get(conv.channel_id),
                    tags=tags[conv.id],
                )
            ),
            None,
        )
        if policy is None or not timeline[conv.id]:
            continue
        r = replay(conv, timeline[conv.id], policy, calendar, now)
        replays[conv.id] = r
        rows.append(r.state)
        for target, (outcome, due, at) in sorted(r.outcomes.items(), key=lambda x: x[1][1]):
            counts[f"sla_{outcome}"] += 1
            rows.append(
                _event(
                    shop_id,
                    f"sla.{outcome}",
                    at if outcome == "achieved" else due,
                    {
                        "target": target.value,
                        "due_at": due.isoformat(),
                        "at": at.isoformat(),
                        "policy_id": policy.id,
                    },
                    conversation_id=conv.id,
                    customer_id=conv.customer_id,
                )
            )
            still_running = r.status not in ("resolved", "closed") and (
                (target == SlaTarget.first_response and r.state.first_responded_at is None)
                or (target == SlaTarget.next_response and r.state.awaiting_since is not None)
                or (target == SlaTarget.resolution and r.state.resolved_at is None)
            )
            if outcome == "breached" and still_running:
                counts["sla_open_breached"] += 1
                label = sla_service.TARGET_LABEL[target]
                for agent_id in [conv.assignee_id] if conv.assignee_id else admins:
                    rows.append(
                        Notification(
                            shop_id=shop_id,
                            agent_id=agent_id,
                            kind="sla_breach",
                            text=f"SLA breached ({label}): #{conv.number} {conv.subject or ''}".strip(),
                            conversation_id=conv.id,
                            created_at=due,
                        )
                    )
    session.add_all(rows)
    await session.flush()
    counts.update(await _surveys(session, shop_id, conversations, replays, rng, now))
    return counts


def _score(rng: random.Random, weights: tuple[int, ...], low: int) -> int:
    return low + rng.choices(range(len(weights)), weights=weights)[0]


def _nonce(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(32))


async def _surveys(
    session: AsyncSession,
    shop_id: int,
    conversations: list[Conversation],
    replays: dict[int, _Replay],
    rng: random.Random,
    now: datetime,
) -> dict[str, int]:
    """CSAT (and CES) after first resolutions, NPS two weeks after deliveries — as the survey service would
    have asked (at most one CSAT/CES per customer in 14 days, one NPS in 90) and the customers answered."""
    customers = {
        c.id: c.language
        for c in (await session.execute(select(Customer).where(Customer.shop_id == shop_id))).scalars()
    }
    waiting_customers = {c.customer_id for c in conversations if c.status not in ("resolved", "closed")}
    asked: dict[int, datetime] = {}
    Plan = tuple[Survey, list[tuple[str, int]], datetime | None, Conversation | None]
    plans: list[Plan] = []
    for conv in sorted(conversations, key=lambda c: c.created_at):
        r = replays.get(conv.id)
        resolved = r.state.resolved_at if r is not None else None
        if resolved is None or resolved > now - timedelta(minutes=5):
            continue
        last = asked.get(conv.customer_id)
        if last is not None and resolved - last < timedelta(days=14):
            continue
        if conv.customer_id in waiting_customers and resolved > now - timedelta(days=14):
            continue  # so resolving their open conversation in the demo sends a survey
        asked[conv.customer_id] = resolved
        late = r is not None and r.outcomes.get(SlaTarget.first_response, ("",))[0] == "breached"
        unhappy = late or conv.reopened_count > 0
        answers: list[tuple[str, int]] = []
        answered_at = None
        if rng.random() < ANSWERED:
            answered_at = resolved + timedelta(minutes=rng.randint(3, 30 * 60))
            answers.append(("csat", _score(rng, CSAT_BAD if unhappy else CSAT_GOOD, 1)))
            if rng.random() < CES_TOO:
                answers.append(("ces", _score(rng, CES_BAD if unhappy else CES_GOOD, 1)))
            if answered_at > now:
                answers, answered_at = [], None
        language = conv.language or customers.get(conv.customer_id) or "en"
        survey = Survey(
            shop_id=shop_id,
            customer_id=conv.customer_id,
            conversation_id=conv.id,
            order_id=conv.order_id,
            agent_id=conv.assignee_id,
            team_id=conv.team_id,
            channel_id=conv.channel_id,
            kinds=["csat", "ces"],
            trigger="resolved",
            language=language if language in LANGUAGES else "en",
            intent=conv.intent,
            status="answered" if answers else "sent",
            nonce=_nonce(rng),
            scheduled_for=resolved,
            sent_at=resolved,
            answered_at=answered_at,
            expires_at=resolved + timedelta(days=14),
            created_at=resolved,
            updated_at=answered_at or resolved,
        )
        plans.append((survey, answers, answered_at, conv))

    nps_asked: dict[int, datetime] = {}
    delivered = (
        await session.execute(
            select(Order.id, Order.customer_id, Shipment.delivered_at)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(
                Order.shop_id == shop_id, Shipment.delivered_at.is_not(None), Order.customer_id.is_not(None)
            )
            .order_by(Shipment.delivered_at, Order.id)
        )
    ).all()
    # the conversation an NPS answer is filed under: the customer's latest one before it was asked (the
    # live service opens a survey-only conversation; the demo files it with the customer's history)
    history: dict[int, list[Conversation]] = defaultdict(list)
    for conv in sorted(conversations, key=lambda c: c.created_at):
        history[conv.customer_id].append(conv)
    for order_id, customer_id, delivered_at in delivered:
        if customer_id is None or delivered_at is None:
            continue
        sent: datetime = delivered_at + NPS_AFTER
        if sent > now or rng.random() >= NPS_SHARE:
            continue
        earlier = [c for c in history.get(customer_id, []) if c.created_at < sent]
        if not earlier:
            continue
        filed = earlier[-1]
        last = nps_asked.get(customer_id)
        if last is not None and sent - last < timedelta(days=90):
            continue
        nps_asked[customer_id] = sent
        answers = []
        answered_at = None
        if rng.random() < NPS_ANSWERED:
            answered_at = sent + timedelta(minutes=rng.randint(10, 48 * 60))
            answers = [("nps", _score(rng, NPS_WEIGHTS, 0))] if answered_at <= now else []
            answered_at = answered_at if answers else None
        language = customers.get(customer_id) or "en"
        survey = Survey(
            shop_id=shop_id,
            customer_id=customer_id,
            conversation_id=filed.id,
            channel_id=filed.channel_id,
            order_id=order_id,
            kinds=["nps"],
            trigger="delivery",
            language=language if language in LANGUAGES else "en",
            status="answered" if answers else "sent",
            nonce=_nonce(rng),
            scheduled_for=sent,
            sent_at=sent,
            answered_at=answered_at,
            expires_at=sent + timedelta(days=14),
            created_at=sent,
            updated_at=answered_at or sent,
        )
        plans.append((survey, answers, answered_at, filed))

    session.add_all([p[0] for p in plans])
    await session.flush()
    rows: list[Any] = []
    counts = {"surveys": len(plans), "csat_responses": 0, "ces_responses": 0, "nps_responses": 0}
    for survey, answers, answered_at, source in plans:
        ids = (survey.conversation_id, survey.customer_id, survey.order_id)
        rows.append(
            _event(
                shop_id,
                "survey.scheduled",
                survey.created_at,
                {"survey_id": survey.id, "kinds": survey.kinds, "trigger": survey.trigger},
                conversation_id=ids[0],
                customer_id=ids[1],
                order_id=ids[2],
            )
        )
        rows.append(
            _event(
                shop_id,
                "survey.sent",
                survey.created_at,
                {"survey_id": survey.id, "message_id": None, "language": survey.language},
                conversation_id=ids[0],
                customer_id=ids[1],
                order_id=ids[2],
            )
        )
        for kind, score in answers:
            assert answered_at is not None
            counts[f"{kind}_responses"] += 1
            response = SurveyResponse(
                shop_id=shop_id,
                survey_id=survey.id,
                kind=kind,
                score=score,
                customer_id=survey.customer_id,
                conversation_id=survey.conversation_id,
                order_id=survey.order_id,
                agent_id=survey.agent_id,
                team_id=survey.team_id,
                channel_id=survey.channel_id,
                language=survey.language,
                answered_at=answered_at,
            )
            session.add(response)
            await session.flush()
            rows.append(
                _event(
                    shop_id,
                    "survey.answered",
                    answered_at,
                    {
                        "survey_id": survey.id,
                        "response_id": response.id,
                        "kind": kind,
                        "score": score,
                        "via": "link",
                        "agent_id": survey.agent_id,
                        "team_id": source.team_id if source and kind != "nps" else None,
                        "channel_id": source.channel_id if source else None,
                        "language": (source.language if source else None) or survey.language,
                        "intent": source.intent if source and kind != "nps" else None,
                    },
                    actor_type="customer",
                    actor_id=survey.customer_id,
                    conversation_id=ids[0],
                    customer_id=ids[1],
                    order_id=ids[2],
                )
            )
    session.add_all(rows)
    await session.flush()
    return counts
