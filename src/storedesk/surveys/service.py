"""Surveys: the one write path for each step — schedule, send, answer, follow up.

* After a conversation is resolved, ``survey.after_resolve`` (enqueued by the conversation service)
  calls :func:`schedule_after_resolve`; the shop's policy says which questions (CSAT, CES) and after
  what delay. ``survey.send`` then posts the question into the conversation's channel as a system
  message: rich buttons (``meta.buttons``) for chat and messaging apps, a signed link for email and SMS.
* NPS goes out after delivery or periodically (:func:`scan_nps`), in a conversation of its own.
* A customer answers through the public page ``/s/<token>`` or a button (:func:`answer_by_button`).
  A low score opens a follow-up conversation (or flags the still-open one) with priority high.
* At most one survey per customer per period (``min_days_between``; NPS: ``nps_min_days_between``).

Thresholds and policy keys are documented in docs/surveys.md.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.repository import AgentRepository
from storedesk.channels.models import Channel
from storedesk.channels.outbound import RECIPIENT_KIND
from storedesk.channels.repository import ChannelRepository
from storedesk.commerce.models import Order, Shipment
from storedesk.conversations import service as conversations
from storedesk.conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    Priority,
)
from storedesk.conversations.repository import ConversationRepository
from storedesk.customers.models import Customer
from storedesk.customers.repository import CustomerRepository
from storedesk.events.service import record
from storedesk.jobs.registry import enqueue
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.errors import Conflict, InvalidTransition, NotFound, StoredeskError, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop
from storedesk.shops.service import get_shop, update_shop
from storedesk.surveys import links, texts
from storedesk.surveys.models import SCALES, Survey, SurveyKind, SurveyResponse, SurveyStatus, SurveyTrigger
from storedesk.surveys.repository import SurveyRepository, SurveyResponseRepository, survey_for_link

# a score at or below this opens a follow-up (CES is asked as agreement: 1 = strongly disagree)
LOW_SCORE: dict[SurveyKind, int] = {SurveyKind.csat: 2, SurveyKind.ces: 2, SurveyKind.nps: 6}
SATISFIED_MIN = 4  # CSAT 4–5 counts as satisfied
EASY_MIN = 5  # CES 5–7 counts as easy
PROMOTER_MIN, PASSIVE_MIN = 9, 7  # NPS 9–10 promoters, 7–8 passives, 0–6 detractors
COMMENT_MAX = 2000
BUTTON_CHANNELS = {"chat", "whatsapp", "messenger", "instagram", "api"}
KIND_LABEL = {SurveyKind.csat: "CSAT", SurveyKind.ces: "CES", SurveyKind.nps: "NPS"}

DEFAULT_SETTINGS: dict[str, Any] = {
    # CSAT after every resolution the customer took part in, at most once per customer in
    # min_days_between days; an admin can switch to CES, both, or off ([])
    "after_resolve": ["csat"],
    "delay_minutes": 0,
    "min_days_between": 14,
    "expires_after_days": 14,
    "nps_after_delivery_days": None,
    "nps_every_days": None,
    "nps_min_days_between": 90,
    "follow_up_kinds": ["csat", "ces", "nps"],
    "follow_up_assignee_id": None,
}


def is_low(kind: SurveyKind, score: int) -> bool:
    return score <= LOW_SCORE[kind]


# --- settings (shop policy "surveys") --------------------------------------------------------------------


@dataclass(frozen=True)
class SurveySettings:
    after_resolve: list[SurveyKind] = field(default_factory=lambda: [SurveyKind.csat])
    delay_minutes: int = 0
    min_days_between: int = 14
    expires_after_days: int = 14
    nps_after_delivery_days: int | None = None
    nps_every_days: int | None = None
    nps_min_days_between: int = 90
    follow_up_kinds: list[SurveyKind] = field(default_factory=lambda: list(SurveyKind))
    follow_up_assignee_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "after_resolve": [k.value for k in self.after_resolve],
            "delay_minutes": self.delay_minutes,
            "min_days_between": self.min_days_between,
            "expires_after_days": self.expires_after_days,
            "nps_after_delivery_days": self.nps_after_delivery_days,
            "nps_every_days": self.nps_every_days,
            "nps_min_days_between": self.nps_min_days_between,
            "follow_up_kinds": [k.value for k in self.follow_up_kinds],
            "follow_up_assignee_id": self.follow_up_assignee_id,
        }


def _int(value: Any, field_name: str, lo: int, hi: int, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationFailed(
            f"{field_name} must be a whole number from {lo} to {hi}", details={"field": field_name}
        )
    return value


def parse_settings(raw: dict[str, Any]) -> SurveySettings:
    data = {**DEFAULT_SETTINGS, **raw}
    try:
        after = [SurveyKind(k) for k in data["after_resolve"]]
        follow = [SurveyKind(k) for k in data["follow_up_kinds"]]
    except (TypeError, ValueError):
        raise ValidationFailed("unknown survey kind", details={"field": "after_resolve"}) from None
    if SurveyKind.nps in after or len(set(after)) != len(after):
        raise ValidationFailed(
            "after_resolve takes csat and/or ces, once each", details={"field": "after_resolve"}
        )
    assignee = data["follow_up_assignee_id"]
    return SurveySettings(
        after_resolve=after,
        delay_minutes=int(_int(data["delay_minutes"], "delay_minutes", 0, 7 * 24 * 60) or 0),
        min_days_between=int(_int(data["min_days_between"], "min_days_between", 0, 365) or 0),
        expires_after_days=int(_int(data["expires_after_days"], "expires_after_days", 1, 365) or 1),
        nps_after_delivery_days=_int(
            data["nps_after_delivery_days"], "nps_after_delivery_days", 0, 365, optional=True
        ),
        nps_every_days=_int(data["nps_every_days"], "nps_every_days", 7, 3650, optional=True),
        nps_min_days_between=int(_int(data["nps_min_days_between"], "nps_min_days_between", 0, 3650) or 0),
        follow_up_kinds=follow,
        follow_up_assignee_id=_int(assignee, "follow_up_assignee_id", 1, 2**63 - 1, optional=True),
    )


def settings_of(shop: Shop) -> SurveySettings:
    try:
        return parse_settings(dict(shop.policies.get("surveys") or {}))
    except ValidationFailed:
        return parse_settings({})


async def update_settings(
    session: AsyncSession, *, shop_id: int, actor: Actor, changes: dict[str, Any]
) -> SurveySettings:
    shop = await get_shop(session, shop_id)
    merged = {**settings_of(shop).as_dict(), **changes}
    parsed = parse_settings(merged)
    if parsed.follow_up_assignee_id is not None:
        await AgentRepository(session, shop_id).get_or_404(parsed.follow_up_assignee_id)
    await update_shop(session, shop_id, actor, {"policies": {"surveys": parsed.as_dict()}})
    return parsed


# --- scheduling ------------------------------------------------------------------------------------------


async def _has_inbound(session: AsyncSession, conversation: Conversation) -> bool:
    stmt = select(func.count()).where(
        Message.shop_id == conversation.shop_id,
        Message.conversation_id == conversation.id,
        Message.direction == Direction.inbound,
    )
    return int((await session.execute(stmt)).scalar_one()) > 0


async def create_survey(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    customer_id: int,
    kinds: list[SurveyKind],
    trigger: SurveyTrigger,
    conversation_id: int | None = None,
    order_id: int | None = None,
    channel_id: int | None = None,
    delay: timedelta = timedelta(0),
    respect_frequency: bool = True,
    now: datetime | None = None,
) -> Survey | None:
    """Create a survey and schedule its sending. ``None`` when the customer was asked recently."""
    now = now or utcnow()
    if not kinds or len(set(kinds)) != len(kinds):
        raise ValidationFailed("choose the questions to ask, once each", details={"field": "kinds"})
    shop = await get_shop(session, shop_id)
    policy = settings_of(shop)
    customer = await CustomerRepository(session, shop_id).get_or_404(customer_id)
    conversation = None
    if conversation_id is not None:
        conversation = await ConversationRepository(session, shop_id).get_or_404(conversation_id)
    if channel_id is not None:
        await ChannelRepository(session, shop_id).get_or_404(channel_id)
    if respect_frequency:
        days = policy.nps_min_days_between if SurveyKind.nps in kinds else policy.min_days_between
        family = (
            {SurveyKind.nps.value}
            if SurveyKind.nps in kinds
            else {SurveyKind.csat.value, SurveyKind.ces.value}
        )
        recent = await SurveyRepository(session, shop_id).latest_for_customer(
            customer.id, kinds=family, since=now - timedelta(days=days)
        )
        if recent is not None:
            return None
    survey = Survey(
        shop_id=shop_id,
        customer_id=customer.id,
        conversation_id=conversation.id if conversation else None,
        order_id=order_id if order_id is not None else (conversation.order_id if conversation else None),
        agent_id=conversation.assignee_id if conversation else None,
        team_id=conversation.team_id if conversation else None,
        channel_id=channel_id or (conversation.channel_id if conversation else None),
        kinds=[k.value for k in kinds],
        trigger=trigger,
        language=texts.language_for(
            conversation.language if conversation else None, customer.language, shop.default_language
        ),
        intent=conversation.intent if conversation else None,
        status=SurveyStatus.scheduled,
        nonce=links.new_nonce(),
        scheduled_for=now + delay,
        expires_at=now + delay + timedelta(days=policy.expires_after_days),
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="survey.scheduled",
        actor=actor,
        conversation_id=survey.conversation_id,
        customer_id=customer.id,
        order_id=survey.order_id,
        data={"survey_id": survey.id, "kinds": survey.kinds, "trigger": trigger.value},
    )
    await enqueue(
        session,
        "survey.send",
        {"survey_id": survey.id},
        shop_id=shop_id,
        run_at=survey.scheduled_for,
        dedupe_key=f"survey.send:{survey.id}",
    )
    return survey


async def schedule_after_resolve(
    session: AsyncSession, *, shop_id: int, conversation_id: int, now: datetime | None = None
) -> Survey | None:
    """Job side of a resolution: the CSAT/CES survey the shop's policy asks for, if any."""
    conversation = await ConversationRepository(session, shop_id).get(conversation_id)
    if conversation is None or conversation.status != ConversationStatus.resolved:
        return None  # reopened (or gone) before the job ran
    policy = settings_of(await get_shop(session, shop_id))
    if not policy.after_resolve or not await _has_inbound(session, conversation):
        return None  # surveys off, or a proactive conversation the customer never wrote in
    return await create_survey(
        session,
        shop_id=shop_id,
        actor=SYSTEM,
        customer_id=conversation.customer_id,
        kinds=policy.after_resolve,
        trigger=SurveyTrigger.resolved,
        conversation_id=conversation.id,
        delay=timedelta(minutes=policy.delay_minutes),
        now=now,
    )


# --- sending ---------------------------------------------------------------------------------------------


def survey_message(
    survey: Survey, shop_name: str, channel_kind: str
) -> tuple[str, str | None, dict[str, Any]]:
    """``(text, html, meta)`` of the message that asks the survey's first question."""
    kind = SurveyKind(survey.kinds[0])
    lo, hi = SCALES[kind]
    lang = survey.language
    url = links.url_for(survey.id, survey.nonce)
    question = texts.question(lang, kind, shop_name)
    scale = (
        f"{lo} = {texts.text(lang, f'{kind.value}_low')} · {hi} = {texts.text(lang, f'{kind.value}_high')}"
    )
    buttons = channel_kind in BUTTON_CHANNELS
    invite = texts.text(lang, "invite_buttons" if buttons else "invite_link", url=url)
    body = f"{question}\n{scale}\n\n{invite}"
    token = links.token_for(survey.id, survey.nonce)
    meta: dict[str, Any] = {
        "survey": {
            "id": survey.id,
            "kind": kind.value,
            "kinds": list(survey.kinds),
            "language": lang,
            "question": question,
            "scale": [lo, hi],
            "labels": {
                "low": texts.text(lang, f"{kind.value}_low"),
                "high": texts.text(lang, f"{kind.value}_high"),
            },
            "url": url,
        },
    }
    if buttons:
        ends = {lo: texts.text(lang, f"{kind.value}_low"), hi: texts.text(lang, f"{kind.value}_high")}
        meta["buttons"] = [
            {
                "id": f"survey:{token}:{score}",
                "title": str(score),
                "url": links.url_for(survey.id, survey.nonce, score),
            }
            | ({"description": ends[score]} if score in ends else {})
            for score in range(lo, hi + 1)
        ]
        # what a channel that folds the buttons into a menu (a WhatsApp list) puts on the menu button
        meta["buttons_label"] = texts.text(lang, "title")
    html = None
    if channel_kind == "email":
        options = " ".join(
            f'<a href="{html_lib.escape(links.url_for(survey.id, survey.nonce, s))}">{s}</a>'
            for s in range(lo, hi + 1)
        )
        html = (
            f"<p>{html_lib.escape(question)}</p><p>{options}</p>"
            f"<p><small>{html_lib.escape(scale)}</small></p>"
        )
    return body, html, meta


async def _skip(session: AsyncSession, survey: Survey, reason: str) -> None:
    survey.status = SurveyStatus.skipped
    survey.skip_reason = reason
    await record(
        session,
        shop_id=survey.shop_id,
        type="survey.skipped",
        actor=SYSTEM,
        conversation_id=survey.conversation_id,
        customer_id=survey.customer_id,
        data={"survey_id": survey.id, "reason": reason},
    )


async def reach_channel(session: AsyncSession, shop_id: int, customer_id: int) -> Channel | None:
    """Where to start a conversation with a customer: their latest conversation's channel, else the first
    active channel we have an address for (email, phone, …), else an API channel."""
    latest = (
        await session.execute(
            ConversationRepository(session, shop_id)
            .select()
            .where(Conversation.customer_id == customer_id)
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    channels = {c.id: c for c in await ChannelRepository(session, shop_id).list()}
    if latest is not None and latest.channel_id in channels and channels[latest.channel_id].is_active:
        return channels[latest.channel_id]
    kinds = {i.kind for i in await CustomerRepository(session, shop_id).identities(customer_id)}
    for channel in channels.values():
        need = RECIPIENT_KIND.get(str(channel.kind))
        if channel.is_active and need is not None and need in kinds:
            return channel
    # an API channel needs no address: the integration behind it reads the conversation
    return next((c for c in channels.values() if c.is_active and str(c.kind) == "api"), None)


async def send_survey(
    session: AsyncSession, *, shop_id: int, survey_id: int, now: datetime | None = None
) -> Message | None:
    """Job side of ``survey.send``: post the question as a system message (delivered by ``delivery.send``)."""
    now = now or utcnow()
    repo = SurveyRepository(session, shop_id)
    survey = await repo.get_for_update(survey_id)
    if survey.status != SurveyStatus.scheduled:
        return None
    shop = await get_shop(session, shop_id)
    conversation = None
    if survey.conversation_id is not None:
        conversation = await ConversationRepository(session, shop_id).get(survey.conversation_id)
    if survey.trigger == SurveyTrigger.resolved:
        if conversation is None or conversation.status != ConversationStatus.resolved:
            await _skip(session, survey, "the conversation was reopened or closed before the survey went out")
            return None
    opened_here = conversation is None
    if conversation is None:
        channel = (
            await ChannelRepository(session, shop_id).get(survey.channel_id)
            if survey.channel_id is not None
            else await reach_channel(session, shop_id, survey.customer_id)
        )
        if channel is None:
            await _skip(session, survey, "no channel to reach the customer on")
            return None
        conversation = await conversations.open_conversation(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            customer_id=survey.customer_id,
            channel_id=channel.id,
            subject=texts.text(survey.language, "title"),
            language=survey.language,
            order_id=survey.order_id,
            created_at=now,
        )
        survey.conversation_id = conversation.id
        survey.channel_id = channel.id
    channel_obj = await session.get(Channel, survey.channel_id or conversation.channel_id)
    body, html, meta = survey_message(survey, shop.name, str(channel_obj.kind) if channel_obj else "api")
    try:
        message, _ = await conversations.add_message(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            conversation_id=conversation.id,
            direction=Direction.outbound,
            text=body,
            html=html,
            channel_id=survey.channel_id,
            meta=meta,
            created_at=now,
        )
    except InvalidTransition:
        await _skip(session, survey, "the conversation is closed")
        return None
    if opened_here:
        # a survey-only conversation (NPS) waits for nothing from us: keep it out of the open inbox
        await conversations.change_status(
            session,
            shop_id=shop_id,
            actor=SYSTEM,
            conversation_id=conversation.id,
            status=ConversationStatus.resolved,
        )
    survey.status = SurveyStatus.sent
    survey.sent_at = now
    survey.message_id = message.id
    await record(
        session,
        shop_id=shop_id,
        type="survey.sent",
        actor=SYSTEM,
        conversation_id=conversation.id,
        customer_id=survey.customer_id,
        data={"survey_id": survey.id, "message_id": message.id, "language": survey.language},
    )
    return message


# --- answering -------------------------------------------------------------------------------------------


class SurveyExpired(InvalidTransition):
    code = "survey_expired"


class AlreadyAnswered(Conflict):
    code = "already_answered"


@dataclass
class AnswerResult:
    survey: Survey
    responses: list[SurveyResponse]
    follow_up_conversation_id: int | None


def open_questions(survey: Survey, answered: list[SurveyResponse]) -> list[SurveyKind]:
    done = {r.kind for r in answered}
    return [SurveyKind(k) for k in survey.kinds if k not in done]


async def answer(
    session: AsyncSession,
    *,
    survey: Survey,
    answers: dict[SurveyKind, int],
    comment: str | None = None,
    via: str = "link",
    now: datetime | None = None,
) -> AnswerResult:
    """Record the customer's answers (each question once); a low score opens a follow-up."""
    now = now or utcnow()
    if survey.status not in (SurveyStatus.sent, SurveyStatus.answered):
        raise InvalidTransition("this survey was not sent", details={"status": survey.status})
    if survey.expires_at <= now:
        raise SurveyExpired("this survey has expired", details={"expired_at": survey.expires_at.isoformat()})
    if not answers:
        raise ValidationFailed("choose a score", details={"field": "score"})
    existing = await SurveyResponseRepository(session, survey.shop_id).for_survey(survey.id)
    if any(r.kind in {k.value for k in answers} for r in existing):
        raise AlreadyAnswered("this question was already answered", details={"survey_id": survey.id})
    for kind, score in answers.items():
        if kind.value not in survey.kinds:
            raise ValidationFailed(f"this survey does not ask {kind.value}", details={"field": kind.value})
        lo, hi = SCALES[kind]
        if isinstance(score, bool) or not lo <= score <= hi:
            raise ValidationFailed(
                f"{kind.value} is a score from {lo} to {hi}", details={"field": kind.value}
            )
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        raise ValidationFailed(
            f"the comment is longer than {COMMENT_MAX} characters", details={"field": "comment"}
        )
    conversation = None
    if survey.conversation_id is not None:
        conversation = await ConversationRepository(session, survey.shop_id).get(survey.conversation_id)
    created: list[SurveyResponse] = []
    for kind in [SurveyKind(k) for k in survey.kinds if SurveyKind(k) in answers]:
        response = SurveyResponse(
            shop_id=survey.shop_id,
            survey_id=survey.id,
            kind=kind,
            score=answers[kind],
            comment=comment if not created else None,
            customer_id=survey.customer_id,
            conversation_id=survey.conversation_id,
            order_id=survey.order_id,
            agent_id=survey.agent_id,
            team_id=survey.team_id,
            channel_id=survey.channel_id,
            language=survey.language,
            answered_at=now,
        )
        session.add(response)
        created.append(response)
    await session.flush()
    survey.status = SurveyStatus.answered
    survey.answered_at = survey.answered_at or now
    for response in created:
        await record(
            session,
            shop_id=survey.shop_id,
            type="survey.answered",
            actor=Actor("customer", survey.customer_id),
            conversation_id=survey.conversation_id,
            customer_id=survey.customer_id,
            order_id=survey.order_id,
            occurred_at=now,
            data={
                "survey_id": survey.id,
                "response_id": response.id,
                "kind": response.kind.value if isinstance(response.kind, SurveyKind) else str(response.kind),
                "score": response.score,
                "via": via,
                # what the KPI rollups break the answer down by (as of now)
                "agent_id": survey.agent_id,
                "team_id": conversation.team_id if conversation else survey.team_id,
                "channel_id": conversation.channel_id if conversation else survey.channel_id,
                "language": (conversation.language if conversation else None) or survey.language,
                "intent": (conversation.intent if conversation else None) or survey.intent,
            },
        )
    follow_up = None
    low = [r for r in created if is_low(SurveyKind(r.kind), r.score)]
    if low and not any(r.follow_up_conversation_id for r in existing):
        follow_up = await _follow_up(session, survey, low[0], conversation, comment)
    return AnswerResult(survey, created, follow_up)


async def answer_by_link(
    session: AsyncSession,
    *,
    token: str,
    answers: dict[SurveyKind, int],
    comment: str | None = None,
    now: datetime | None = None,
) -> AnswerResult:
    survey = await survey_by_token(session, token)
    return await answer(session, survey=survey, answers=answers, comment=comment, via="link", now=now)


async def answer_by_button(
    session: AsyncSession, *, shop_id: int, button_id: str, now: datetime | None = None
) -> AnswerResult:
    """For channel adapters: a tapped survey button (``meta.buttons[].id``, ``survey:<token>:<score>``)
    coming back as a reply (WhatsApp ``interactive.button_reply.id``, widget quick reply)."""
    prefix, _, rest = button_id.partition(":")
    token, _, score_text = rest.rpartition(":")
    if prefix != "survey" or not score_text.isdigit():
        raise ValidationFailed("not a survey button", details={"field": "button_id"})
    survey = await survey_by_token(session, token)
    if survey.shop_id != shop_id:
        raise NotFound("survey")
    kind = SurveyKind(survey.kinds[0])
    return await answer(session, survey=survey, answers={kind: int(score_text)}, via="button", now=now)


def is_survey_button(button_id: str | None) -> bool:
    return bool(button_id) and str(button_id).startswith("survey:")


async def answer_from_channel(
    session: AsyncSession,
    *,
    shop_id: int,
    conversation_id: int | None,
    button_id: str,
    now: datetime | None = None,
) -> AnswerResult | None:
    """A survey button tapped in a channel (a WhatsApp interactive reply, the chat widget): record the
    answer and acknowledge it in the conversation (thanks / already answered / expired), as a system
    message delivered like any other. The survey must belong to this conversation (else 404).

    ``None`` when the answer could not be recorded (already answered, expired)."""
    prefix, _, rest = button_id.partition(":")
    token = rest.rpartition(":")[0]
    if prefix != "survey" or not token:
        raise ValidationFailed("not a survey button", details={"field": "button_id"})
    survey = await survey_by_token(session, token)
    if survey.shop_id != shop_id or conversation_id is None or survey.conversation_id != conversation_id:
        raise NotFound("survey")
    result: AnswerResult | None = None
    try:
        result = await answer_by_button(session, shop_id=shop_id, button_id=button_id, now=now)
        low = any(is_low(SurveyKind(r.kind), r.score) for r in result.responses)
        reply = texts.text(survey.language, "thanks_low" if low else "thanks")
    except AlreadyAnswered:
        reply = texts.text(survey.language, "already")
    except SurveyExpired:
        reply = texts.text(survey.language, "expired")
    await conversations.add_message(
        session,
        shop_id=shop_id,
        actor=SYSTEM,
        conversation_id=survey.conversation_id,
        direction=Direction.outbound,
        text=reply,
        meta={"survey_ack": survey.id},
        created_at=now,
    )
    return result


async def survey_by_token(session: AsyncSession, token: str) -> Survey:
    parsed = links.parse(token)
    if parsed is None:
        raise NotFound("survey")
    survey_id, signature = parsed
    survey = await survey_for_link(session, survey_id)
    if survey is None or not links.verify(survey.id, survey.nonce, signature):
        raise NotFound("survey")
    return survey


async def _follow_up(
    session: AsyncSession,
    survey: Survey,
    response: SurveyResponse,
    conversation: Conversation | None,
    comment: str | None,
) -> int | None:
    """A low score: flag the conversation if it is still open, otherwise open a follow-up conversation
    with priority high, assigned to the policy's follow-up agent (else unassigned) in the same team.
    A resolved conversation is not reopened: that would count as a reopen in the KPIs."""
    kind = SurveyKind(response.kind)
    shop = await get_shop(session, survey.shop_id)
    policy = settings_of(shop)
    if kind not in policy.follow_up_kinds:
        return None
    lo, hi = SCALES[kind]
    note = f"Low {KIND_LABEL[kind]} from the customer: {response.score} on a {lo}–{hi} scale."
    if comment:
        note += f"\nComment: “{comment}”"
    if conversation is not None and conversation.status in (
        ConversationStatus.open,
        ConversationStatus.pending,
        ConversationStatus.snoozed,
    ):
        target = conversation
        if target.priority not in (Priority.high, Priority.urgent):
            await conversations.update_attributes(
                session,
                shop_id=shop.id,
                actor=SYSTEM,
                conversation_id=target.id,
                changes={"priority": Priority.high},
            )
    else:
        channel_id = survey.channel_id or (conversation.channel_id if conversation else None)
        if channel_id is None:
            channel = await reach_channel(session, shop.id, survey.customer_id)
            if channel is None:
                return None
            channel_id = channel.id
        subject = f"Follow-up: {KIND_LABEL[kind]} {response.score}/{hi}"
        if conversation is not None:
            subject += f" on #{conversation.number}"
            note += f"\nAbout conversation #{conversation.number}."
        target = await conversations.open_conversation(
            session,
            shop_id=shop.id,
            actor=SYSTEM,
            customer_id=survey.customer_id,
            channel_id=channel_id,
            subject=subject,
            language=survey.language,
            priority=Priority.high,
            order_id=survey.order_id,
        )
        assignee = policy.follow_up_assignee_id
        if assignee is not None:
            agent = await AgentRepository(session, shop.id).get(assignee)
            assignee = agent.id if agent is not None and agent.is_active else None
        team_id = conversation.team_id if conversation is not None else survey.team_id
        if assignee is not None or team_id is not None:
            await conversations.assign(
                session,
                shop_id=shop.id,
                actor=SYSTEM,
                conversation_id=target.id,
                assignee_id=assignee,
                team_id=team_id,
            )
    await conversations.add_note(session, shop_id=shop.id, actor=SYSTEM, conversation_id=target.id, text=note)
    response.follow_up_conversation_id = target.id
    await record(
        session,
        shop_id=shop.id,
        type="survey.follow_up_opened",
        actor=SYSTEM,
        conversation_id=target.id,
        customer_id=survey.customer_id,
        data={
            "survey_id": survey.id,
            "response_id": response.id,
            "kind": kind.value,
            "score": response.score,
        },
    )
    return target.id


# --- NPS after delivery and periodically (periodic job) --------------------------------------------------


async def scan_nps(
    session: AsyncSession, *, shop_id: int, now: datetime | None = None, limit: int = 200
) -> int:
    """Schedule NPS surveys the policy asks for: ``nps_after_delivery_days`` after a shipment was
    delivered (shipments delivered in the two days before that point, so a missed run is caught up),
    and every ``nps_every_days`` for customers who ordered in that period. The frequency rule keeps it
    idempotent. Returns how many surveys were scheduled."""
    now = now or utcnow()
    policy = settings_of(await get_shop(session, shop_id))
    scheduled = 0
    candidates: list[tuple[int, int | None, SurveyTrigger]] = []
    if policy.nps_after_delivery_days is not None:
        until = now - timedelta(days=policy.nps_after_delivery_days)
        stmt = (
            select(Order.customer_id, Order.id)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Order.shop_id == shop_id, Shipment.shop_id == shop_id, Order.customer_id.is_not(None))
            .where(Shipment.delivered_at > until - timedelta(days=2), Shipment.delivered_at <= until)
            .order_by(Shipment.delivered_at)
            .limit(limit)
        )
        candidates += [
            (int(c), int(o), SurveyTrigger.delivery)
            for c, o in (await session.execute(stmt)).all()
            if c is not None
        ]
    if policy.nps_every_days is not None:
        stmt2 = (
            select(Order.customer_id)
            .where(Order.shop_id == shop_id, Order.customer_id.is_not(None))
            .where(Order.placed_at > now - timedelta(days=policy.nps_every_days))
            .group_by(Order.customer_id)
            .order_by(Order.customer_id)
            .limit(limit)
        )
        candidates += [
            (int(c), None, SurveyTrigger.periodic)
            for c in (await session.execute(stmt2)).scalars()
            if c is not None
        ]
    seen: set[int] = set()
    for customer_id, order_id, trigger in candidates:
        if customer_id in seen or scheduled >= limit:
            continue
        seen.add(customer_id)
        customer = await session.get(Customer, customer_id)
        if customer is None or customer.shop_id != shop_id or customer.merged_into_id is not None:
            continue
        try:
            survey = await create_survey(
                session,
                shop_id=shop_id,
                actor=SYSTEM,
                customer_id=customer_id,
                kinds=[SurveyKind.nps],
                trigger=trigger,
                order_id=order_id,
                now=now,
            )
        except StoredeskError:
            continue
        scheduled += survey is not None
    return scheduled


async def shops_with_nps(session: AsyncSession) -> list[int]:
    """Shops whose policy sends NPS on its own (the periodic job's fan-out)."""
    out = []
    for shop in (await session.execute(select(Shop))).scalars():
        policy = settings_of(shop)
        if policy.nps_after_delivery_days is not None or policy.nps_every_days is not None:
            out.append(shop.id)
    return out
