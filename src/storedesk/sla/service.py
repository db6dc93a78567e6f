"""SLA policies and the SLA clock of each conversation.

The conversation service calls three small hooks — :func:`on_message`, :func:`on_status` and
:func:`on_change` — inside its own write paths; each updates the conversation's clock
(``sla_conversation_states``) and recomputes its due times (``first_response_due_at``,
``next_response_due_at``, ``resolution_due_at``) from the matching policy and the shop's business-hours
calendar. Outcomes are written to the event log once per target: ``sla.achieved`` when met in time,
``sla.breached`` when the due time passes first (reported by the periodic job, with notifications, or
by the hook when the late answer arrives before the job ran). KPIs count those events.
Rules in docs/sla.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Role
from storedesk.agents.repository import AgentRepository
from storedesk.agents.service import notify
from storedesk.channels.models import ChannelKind
from storedesk.conversations.models import (
    AuthorType,
    Conversation,
    ConversationStatus,
    ConversationTag,
    Direction,
    Message,
    Priority,
)
from storedesk.conversations.repository import (
    ConversationRepository,
    conversation_facts,
    facts_for,
    forget_facts,
)
from storedesk.events.service import record
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.errors import Conflict, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop, new_settings_token
from storedesk.sla.calendar import BusinessCalendar
from storedesk.sla.models import ConversationSla, SlaOutcome, SlaPolicy, SlaTarget
from storedesk.sla.repository import ConversationSlaRepository, SlaPolicyRepository

MAX_TARGET_MINUTES = 365 * 24 * 60
TAG_MAX = 64
POLICY_FIELDS = (
    "name",
    "position",
    "is_active",
    "match_priority",
    "match_channel_kind",
    "match_tag",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "business_hours",
)
TARGET_FIELDS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
_DONE = (ConversationStatus.resolved, ConversationStatus.closed)
_CACHE_KEY = "sla_policies"


# --- policies -----------------------------------------------------------------------------------------


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "name" in out:
        name = str(out["name"] or "").strip()
        if not name or len(name) > 100:
            raise ValidationFailed("a policy needs a name of 1–100 characters", details={"field": "name"})
        out["name"] = name
    if out.get("match_priority") is not None:
        try:
            out["match_priority"] = Priority(out["match_priority"]).value
        except ValueError:
            raise ValidationFailed("unknown priority", details={"field": "match_priority"}) from None
    if out.get("match_channel_kind") is not None:
        try:
            out["match_channel_kind"] = ChannelKind(out["match_channel_kind"]).value
        except ValueError:
            raise ValidationFailed("unknown channel kind", details={"field": "match_channel_kind"}) from None
    if out.get("match_tag") is not None:
        tag = str(out["match_tag"]).strip().lower()
        if not tag or len(tag) > TAG_MAX or "," in tag:
            raise ValidationFailed(f"a tag is 1–{TAG_MAX} characters", details={"field": "match_tag"})
        out["match_tag"] = tag
    for field in TARGET_FIELDS:
        value = out.get(field)
        if value is not None and not (1 <= int(value) <= MAX_TARGET_MINUTES):
            raise ValidationFailed(
                f"{field} must be between 1 and {MAX_TARGET_MINUTES} minutes", details={"field": field}
            )
    return out


async def _policies_changed(session: AsyncSession, shop_id: int) -> None:
    """A new settings token for the shop: every process reloads its policies at the next use."""
    session.info.pop(_CACHE_KEY, None)
    forget_facts(session)
    await session.execute(update(Shop).where(Shop.id == shop_id).values(settings_token=new_settings_token()))


async def create_policy(
    session: AsyncSession, *, shop_id: int, actor: Actor, values: dict[str, Any]
) -> SlaPolicy:
    data = _clean({k: v for k, v in values.items() if k in POLICY_FIELDS})
    if not any(data.get(f) for f in TARGET_FIELDS):
        raise ValidationFailed(
            "a policy needs at least one target", details={"field": "first_response_minutes"}
        )
    repo = SlaPolicyRepository(session, shop_id)
    if await repo.by_name(data["name"]) is not None:
        raise Conflict(f"an SLA policy named {data['name']!r} exists", details={"field": "name"})
    policy = SlaPolicy(shop_id=shop_id, **data)
    session.add(policy)
    await session.flush()
    await _policies_changed(session, shop_id)
    await record(
        session,
        shop_id=shop_id,
        type="sla.policy_created",
        actor=actor,
        data={"policy_id": policy.id, **data},
    )
    return policy


async def update_policy(
    session: AsyncSession, *, shop_id: int, actor: Actor, policy_id: int, changes: dict[str, Any]
) -> SlaPolicy:
    repo = SlaPolicyRepository(session, shop_id)
    policy = await repo.get_for_update(policy_id)
    data = _clean({k: v for k, v in changes.items() if k in POLICY_FIELDS})
    if "name" in data and data["name"] != policy.name and await repo.by_name(data["name"]) is not None:
        raise Conflict(f"an SLA policy named {data['name']!r} exists", details={"field": "name"})
    after_targets = {f: data.get(f, getattr(policy, f)) for f in TARGET_FIELDS}
    if not any(after_targets.values()):
        raise ValidationFailed(
            "a policy needs at least one target", details={"field": "first_response_minutes"}
        )
    before = {k: getattr(policy, k) for k in data}
    changed = {k: v for k, v in data.items() if before[k] != v}
    for key, value in changed.items():
        setattr(policy, key, value)
    await _policies_changed(session, shop_id)
    if changed.get("is_active") is False:
        await _stop_clocks(session, shop_id, policy.id)
    if changed:
        await record(
            session,
            shop_id=shop_id,
            type="sla.policy_updated",
            actor=actor,
            data={"policy_id": policy.id, "before": {k: before[k] for k in changed}, "after": changed},
        )
    return policy


async def delete_policy(session: AsyncSession, *, shop_id: int, actor: Actor, policy_id: int) -> None:
    policy = await SlaPolicyRepository(session, shop_id).get_for_update(policy_id)
    await _stop_clocks(session, shop_id, policy.id)
    await session.delete(policy)
    await _policies_changed(session, shop_id)
    await record(
        session,
        shop_id=shop_id,
        type="sla.policy_deleted",
        actor=actor,
        data={"policy_id": policy_id, "name": policy.name},
    )


async def _stop_clocks(session: AsyncSession, shop_id: int, policy_id: int) -> None:
    """A policy deleted or switched off: the due times it set are cleared (conversations pick up another
    matching policy at their next event)."""
    running = (
        ConversationSlaRepository(session, shop_id).select().where(ConversationSla.policy_id == policy_id)
    )
    conversations = ConversationRepository(session, shop_id)
    for state in (await session.execute(running)).scalars():
        state.next_due_at = state.next_breach_at = None
        state.policy_id = None
        conversation = await conversations.get(state.conversation_id)
        if conversation is not None:
            conversation.first_response_due_at = None
            conversation.next_response_due_at = None
            conversation.resolution_due_at = None


@dataclass(frozen=True)
class PolicyView:
    """An active policy as the clock uses it (a plain, immutable copy: shared between requests)."""

    id: int
    match_priority: str | None
    match_channel_kind: str | None
    match_tag: str | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool

    @classmethod
    def of(cls, p: SlaPolicy) -> PolicyView:
        return cls(
            p.id,
            p.match_priority,
            p.match_channel_kind,
            p.match_tag,
            p.first_response_minutes,
            p.next_response_minutes,
            p.resolution_minutes,
            bool(p.business_hours),
        )


@dataclass(frozen=True)
class ShopSla:
    """A shop's active policies (in order) and business-hours calendar."""

    token: str | None
    policies: tuple[PolicyView, ...]
    calendar: BusinessCalendar
    always_open: BusinessCalendar


# Process-wide, per shop: reused while the shop's ``settings_token`` (read in the same statement as the
# conversation, see ConversationRepository.get_for_update) is unchanged. Every change of a policy, the
# time zone or the business hours sets a new random token in the same transaction, so every process
# reloads at its next use — no expiry time, no stale policy after a commit.
_shop_cache: dict[int, ShopSla] = {}
_SHOP_CACHE_MAX = 10_000


async def _load_shop_sla(session: AsyncSession, shop_id: int, token: str | None) -> ShopSla:
    policies = await SlaPolicyRepository(session, shop_id).ordered(active_only=True)
    shop = await session.get(Shop, shop_id)
    assert shop is not None
    calendar = BusinessCalendar.from_config(shop.timezone, shop.business_hours)
    return ShopSla(
        token,
        tuple(PolicyView.of(p) for p in policies),
        calendar,
        BusinessCalendar.always_open(calendar.timezone),
    )


async def _shop_sla(session: AsyncSession, conversation: Conversation) -> ShopSla:
    return await _shop_sla_for(session, conversation.shop_id, conversation.id)


async def _shop_sla_for(session: AsyncSession, shop_id: int, conversation_id: int) -> ShopSla:
    token = (await facts_for(session, shop_id, conversation_id)).settings_token
    memo: dict[tuple[int, str | None], ShopSla] = session.info.setdefault(_CACHE_KEY, {})
    if (shop_id, token) in memo:  # this transaction already looked (a NULL token: read once per transaction)
        return memo[(shop_id, token)]
    cached = _shop_cache.get(shop_id)
    if cached is None or token is None or cached.token != token:
        cached = await _load_shop_sla(session, shop_id, token)
        if token is not None:
            if len(_shop_cache) >= _SHOP_CACHE_MAX:
                _shop_cache.clear()
            _shop_cache[shop_id] = cached
    memo[(shop_id, token)] = cached
    return cached


async def _active_policies(session: AsyncSession, conversation: Conversation) -> Sequence[PolicyView]:
    return (await _shop_sla(session, conversation)).policies


Policy = SlaPolicy | PolicyView


def policy_matches(policy: Policy, *, priority: str, channel_kind: str | None, tags: set[str]) -> bool:
    if policy.match_priority and policy.match_priority != priority:
        return False
    if policy.match_channel_kind and policy.match_channel_kind != channel_kind:
        return False
    return not (policy.match_tag and policy.match_tag not in tags)


async def _policy_for(session: AsyncSession, conversation: Conversation) -> PolicyView | None:
    policies = await _active_policies(session, conversation)
    if not policies:
        return None
    channel_kind = (await conversation_facts(session, conversation)).channel_kind
    tags: set[str] = set()
    if any(p.match_tag for p in policies):
        tags = set(
            (
                await session.execute(
                    select(ConversationTag.name).where(
                        ConversationTag.shop_id == conversation.shop_id,
                        ConversationTag.conversation_id == conversation.id,
                    )
                )
            ).scalars()
        )
    for policy in policies:
        if policy_matches(
            policy,
            priority=str(conversation.priority),
            channel_kind=channel_kind,
            tags=tags,
        ):
            return policy
    return None


async def shop_calendar(session: AsyncSession, shop_id: int) -> BusinessCalendar:
    """The shop's business calendar read now (bulk work such as the demo seed; the message path uses the
    per-process cache behind the settings token)."""
    shop = await session.get(Shop, shop_id)
    assert shop is not None
    return BusinessCalendar.from_config(shop.timezone, shop.business_hours)


async def _calendar_for(
    session: AsyncSession, conversation: Conversation, policy: Policy | None
) -> BusinessCalendar:
    shop_sla = await _shop_sla(session, conversation)
    if policy is not None and not policy.business_hours:
        return shop_sla.always_open
    return shop_sla.calendar


# --- the clock ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueTimes:
    first_response: datetime | None
    next_response: datetime | None
    resolution: datetime | None


def _minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value else None


def due_times(
    state: ConversationSla, status: str, policy: Policy | None, calendar: BusinessCalendar
) -> DueTimes:
    """The due times a clock implies (pure: unit-tested without a database)."""
    if policy is None or state.started_at is None:
        return DueTimes(None, None, None)
    running = status not in _DONE
    first = None
    if (fr := _minutes(policy.first_response_minutes)) is not None:
        first = calendar.add(state.started_at, fr)
    nxt = None
    if (
        running
        and (nr := _minutes(policy.next_response_minutes)) is not None
        and state.first_responded_at is not None
        and state.awaiting_since is not None
    ):
        nxt = calendar.add(state.awaiting_since, nr)
    resolution = None
    if (
        running
        and (rt := _minutes(policy.resolution_minutes)) is not None
        and state.resolved_at is None
        and state.paused_at is None
    ):
        resolution = calendar.add(state.started_at, rt + timedelta(seconds=state.paused_seconds))
    return DueTimes(first, nxt, resolution)


def _running(state: ConversationSla, status: str, due: DueTimes) -> dict[SlaTarget, datetime]:
    """Targets still to be met, with their due times (met, cancelled and finished ones left out)."""
    out: dict[SlaTarget, datetime] = {}
    if status in _DONE:
        return out
    if due.first_response is not None and state.first_responded_at is None:
        out[SlaTarget.first_response] = due.first_response
    if due.next_response is not None:
        out[SlaTarget.next_response] = due.next_response
    if due.resolution is not None:
        out[SlaTarget.resolution] = due.resolution
    return out


def _outcome_attr(target: SlaTarget) -> str:
    return f"{target.value}_outcome"


async def _outcome(
    session: AsyncSession,
    conversation: Conversation,
    state: ConversationSla,
    target: SlaTarget,
    due_at: datetime,
    at: datetime,
    policy: Policy | None,
) -> None:
    """Record the one outcome of a target (no-op when it already has one)."""
    if getattr(state, _outcome_attr(target)) is not None:
        return
    outcome = SlaOutcome.achieved if at <= due_at else SlaOutcome.breached
    setattr(state, _outcome_attr(target), outcome.value)
    await record(
        session,
        shop_id=conversation.shop_id,
        type=f"sla.{outcome.value}",
        actor=SYSTEM,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        occurred_at=at if outcome == SlaOutcome.achieved else due_at,
        data={
            "target": target.value,
            "due_at": due_at.isoformat(),
            "at": at.isoformat(),
            "policy_id": policy.id if policy else None,
        },
    )


def _apply(conversation: Conversation, state: ConversationSla, due: DueTimes) -> None:
    conversation.first_response_due_at = due.first_response
    conversation.next_response_due_at = due.next_response
    conversation.resolution_due_at = due.resolution
    running = _running(state, str(conversation.status), due)
    state.next_due_at = min(running.values(), default=None)
    unreported = [at for target, at in running.items() if getattr(state, _outcome_attr(target)) is None]
    state.next_breach_at = min(unreported, default=None)


async def _state(
    session: AsyncSession, conversation: Conversation, *, create: bool
) -> ConversationSla | None:
    state = await ConversationSlaRepository(session, conversation.shop_id).for_conversation(conversation.id)
    if state is None and create:
        state = ConversationSla(
            conversation_id=conversation.id,
            shop_id=conversation.shop_id,
            last_status=str(conversation.status),
            paused_seconds=0.0,
        )
        session.add(state)
    return state


def _is_answer(message: Message) -> bool:
    return message.direction == Direction.outbound and message.author_type in (
        AuthorType.agent,
        AuthorType.assistant,
    )


async def wants_message(session: AsyncSession, shop_id: int, conversation_id: int, message: Message) -> bool:
    """Whether :func:`on_message` has work for this message, decided without the conversation's row (the
    message write path loads the row only then)."""
    if message.direction != Direction.inbound and not _is_answer(message):
        return False
    return bool((await _shop_sla_for(session, shop_id, conversation_id)).policies)


async def on_message(session: AsyncSession, conversation: Conversation, message: Message) -> None:
    """Hook of ``conversations.service.add_message``: a customer message starts (or continues) the
    wait for an answer; an agent's or the assistant's public reply answers it."""
    inbound = message.direction == Direction.inbound
    if not inbound and not _is_answer(message):
        return
    if not await _active_policies(session, conversation):
        return  # no SLA in this shop (clocks of removed policies were stopped with them)
    state = await _state(session, conversation, create=inbound)
    if state is None:
        return
    at = message.created_at
    policy = await _policy_for(session, conversation)
    calendar = await _calendar_for(session, conversation, policy)
    before = due_times(state, str(conversation.status), policy, calendar)
    if inbound:
        if state.started_at is None:
            state.started_at = at
        if state.awaiting_since is None:
            state.awaiting_since = at
            state.next_response_outcome = None
    elif state.started_at is not None and at >= state.started_at:
        if state.first_responded_at is None:
            state.first_responded_at = at
            if before.first_response is not None:
                await _outcome(
                    session, conversation, state, SlaTarget.first_response, before.first_response, at, policy
                )
        elif state.awaiting_since is not None and before.next_response is not None:
            await _outcome(
                session, conversation, state, SlaTarget.next_response, before.next_response, at, policy
            )
        state.awaiting_since = None
        state.next_response_outcome = None
    state.policy_id = policy.id if policy else None
    _apply(conversation, state, due_times(state, str(conversation.status), policy, calendar))


async def on_status(session: AsyncSession, conversation: Conversation, now: datetime) -> None:
    """Hook of the conversation service's status changes: pending pauses the resolution clock,
    resolving (or closing) meets or misses the resolution target and ends the running ones."""
    if not await _active_policies(session, conversation):
        return
    state = await _state(session, conversation, create=False)
    if state is None:
        return
    status = str(conversation.status)
    policy = await _policy_for(session, conversation)
    calendar = await _calendar_for(session, conversation, policy)
    if status != ConversationStatus.pending and state.paused_at is not None:
        state.paused_seconds += calendar.business_seconds(state.paused_at, now)
        state.paused_at = None
    before = due_times(state, str(state.last_status or status), policy, calendar)
    if status == ConversationStatus.pending and state.paused_at is None:
        state.paused_at = now
    if status in _DONE and state.last_status not in _DONE:
        if state.resolved_at is None and state.started_at is not None:
            state.resolved_at = now
            if before.resolution is not None:
                await _outcome(
                    session, conversation, state, SlaTarget.resolution, before.resolution, now, policy
                )
        state.awaiting_since = None  # resolving ends the wait; a new customer message starts a new one
        state.next_response_outcome = None
    state.last_status = status
    state.policy_id = policy.id if policy else None
    _apply(conversation, state, due_times(state, status, policy, calendar))


async def on_change(session: AsyncSession, conversation: Conversation) -> None:
    """Hook for priority and tag changes: another policy may match now; due times follow it."""
    if not await _active_policies(session, conversation):
        return
    state = await _state(session, conversation, create=False)
    if state is None:
        return
    policy = await _policy_for(session, conversation)
    calendar = await _calendar_for(session, conversation, policy)
    state.policy_id = policy.id if policy else None
    _apply(conversation, state, due_times(state, str(conversation.status), policy, calendar))


# --- breaches (periodic job) ---------------------------------------------------------------------------


async def _breach_recipients(session: AsyncSession, conversation: Conversation) -> list[int]:
    if conversation.assignee_id is not None:
        return [conversation.assignee_id]
    agents = await AgentRepository(session, conversation.shop_id).list()
    return [a.id for a in agents if a.role == Role.admin and a.is_active]


TARGET_LABEL = {
    SlaTarget.first_response: "first response",
    SlaTarget.next_response: "next response",
    SlaTarget.resolution: "resolution",
}


async def report_breaches(
    session: AsyncSession, *, shop_id: int, now: datetime | None = None, limit: int = 500
) -> int:
    """Report every due time that has passed unmet: event ``sla.breached`` (dated at the due time) and a
    notification for the assignee (or the shop's admins when nobody is assigned). Idempotent: each
    target is reported once. Returns how many breaches were reported."""
    now = now or utcnow()
    reported = 0
    ids = await ConversationSlaRepository(session, shop_id).due_for_breach_check(now, limit=limit)
    conversations = ConversationRepository(session, shop_id)
    for conversation_id in ids:
        conversation = await conversations.get_for_update(conversation_id)
        state = await _state(session, conversation, create=False)
        if state is None:
            continue
        policy = await _policy_for(session, conversation)
        calendar = await _calendar_for(session, conversation, policy)
        due = due_times(state, str(conversation.status), policy, calendar)
        for target, due_at in _running(state, str(conversation.status), due).items():
            if due_at > now or getattr(state, _outcome_attr(target)) is not None:
                continue
            await _outcome(session, conversation, state, target, due_at, now, policy)
            reported += 1
            text = (
                f"SLA breached ({TARGET_LABEL[target]}): #{conversation.number} {conversation.subject or ''}"
            )
            for agent_id in await _breach_recipients(session, conversation):
                await notify(
                    session,
                    shop_id=shop_id,
                    agent_id=agent_id,
                    kind="sla_breach",
                    text=text.strip(),
                    conversation_id=conversation.id,
                )
        _apply(conversation, state, due)
    return reported


# --- views ---------------------------------------------------------------------------------------------

DUE_SOON_DEFAULT = timedelta(hours=1)


@dataclass(frozen=True)
class SlaSnapshot:
    state: str  # "none", "ok", "due_soon", "breached", "paused", "met"
    next_due_at: datetime | None
    breached_targets: list[str]
    policy_id: int | None


def snapshot(
    conversation: Conversation,
    state: ConversationSla | None,
    now: datetime,
    window: timedelta = DUE_SOON_DEFAULT,
) -> SlaSnapshot:
    if state is None or (state.policy_id is None and state.next_due_at is None):
        return SlaSnapshot("none", None, [], None)
    breached = [
        t.value
        for t in SlaTarget
        if getattr(state, _outcome_attr(t)) == SlaOutcome.breached
        and (
            (t == SlaTarget.first_response and state.first_responded_at is None)
            or (t == SlaTarget.next_response and state.awaiting_since is not None)
            or (t == SlaTarget.resolution and state.resolved_at is None)
        )
        and conversation.status not in _DONE
    ]
    if conversation.status in _DONE:
        label = "met"
    elif state.next_due_at is not None and state.next_due_at <= now:
        label = "breached"
    elif state.next_due_at is not None and state.next_due_at <= now + window:
        label = "due_soon"
    elif state.paused_at is not None and state.next_due_at is None:
        label = "paused"
    else:
        label = "ok"
    return SlaSnapshot(label, state.next_due_at, breached, state.policy_id)


async def conversations_in_state(
    session: AsyncSession,
    *,
    shop_id: int,
    state: str,
    window: timedelta = DUE_SOON_DEFAULT,
    now: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[tuple[Conversation, ConversationSla]], bool]:
    """The inbox's SLA views: ``breached`` (a running due time has passed) or ``due_soon`` (the earliest
    running due time is within ``window``), most urgent first."""
    now = now or utcnow()
    repo = ConversationSlaRepository(session, shop_id)
    if state == "breached":
        stmt = repo.view(due_before=now, due_after=None)
    elif state == "due_soon":
        stmt = repo.view(due_before=now + window, due_after=now)
    else:
        raise ValidationFailed("state must be breached or due_soon", details={"field": "state"})
    rows = (await session.execute(stmt.offset(offset).limit(limit + 1))).all()
    return [(row[0], row[1]) for row in rows[:limit]], len(rows) > limit
