"""From a conversation's events to what it contributes to the daily rollups (pure functions).

A conversation's contribution is a set of additive counters per (dimensions, shop-local day). It is
recomputed from all of the conversation's events whenever one of them changes, and the rollup job
applies the difference to ``kpi_daily``. The definitions (docs/kpis.md):

* Only conversations in which the customer wrote at least once count (proactive messages, survey-only
  conversations and follow-ups nobody answered are not support volume).
* An *answer* is a public outbound message by an agent or the assistant (not notes, not automatic system
  messages such as acknowledgements or surveys).
* First response time: first customer message → first answer after it; on the day of the answer; wall
  clock and business hours (the shop's calendar).
* Resolution: the first change into resolved/closed after the first customer message; resolution time
  from the first customer message; reopen rate, first-contact resolution, automation and handling time
  are reported on the day of that first resolution.
* Handling time: for each event by an agent, the time since the previous event of the conversation by a
  person or the assistant (system events such as SLA outcomes and deliveries are consequences, not
  work), capped at ``HANDLE_CAP``: an agent reads, thinks and types in between; a longer gap is time away.
* Backlog: +1 the day the conversation is created, −1 when it is resolved or closed, +1 when reopened.
* SLA: ``sla.achieved`` / ``sla.breached`` events on their day. Surveys: ``survey.answered`` events on
  their day, broken down by the dimensions recorded with the answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from storedesk.analytics.metrics import METRICS, frt_bucket
from storedesk.analytics.models import NO_DAY, NONE_ID, NONE_TEXT
from storedesk.sla.calendar import BusinessCalendar

HANDLE_CAP = timedelta(minutes=10)
OPEN_LIKE = frozenset({"open", "pending", "snoozed"})
DONE = frozenset({"resolved", "closed"})
ANSWER_ACTORS = frozenset({"agent", "assistant"})
# the event types a conversation's contribution depends on, besides every event by a person or the
# assistant (handling time counts any agent action); system bookkeeping such as deliveries is not read.
RELEVANT_EVENTS: tuple[str, ...] = (
    "conversation.created",
    "conversation.status_changed",
    "conversation.assigned",
    "conversation.tagged",
    "conversation.updated",
    "message.received",
    "message.created",
    "sla.achieved",
    "sla.breached",
    "survey.answered",
)
SATISFIED_MIN, EASY_MIN, PROMOTER_MIN, PASSIVE_MIN = 4, 5, 9, 7


@dataclass(frozen=True)
class EventRow:
    id: int
    type: str
    occurred_at: datetime
    actor_type: str
    actor_id: int | None
    data: Mapping[str, Any]


@dataclass(frozen=True, order=True)
class Dims:
    channel_id: int = NONE_ID
    agent_id: int = NONE_ID
    team_id: int = NONE_ID
    language: str = NONE_TEXT
    intent: str = NONE_TEXT

    @classmethod
    def of(
        cls,
        channel_id: int | None,
        agent_id: int | None,
        team_id: int | None,
        language: str | None,
        intent: str | None,
    ) -> Dims:
        return cls(
            int(channel_id or NONE_ID),
            int(agent_id or NONE_ID),
            int(team_id or NONE_ID),
            (language or NONE_TEXT)[:8],
            (intent or NONE_TEXT)[:48],
        )

    def key(self) -> str:
        return f"{self.channel_id}|{self.agent_id}|{self.team_id}|{self.language}|{self.intent}"

    @classmethod
    def from_key(cls, key: str) -> Dims:
        c, a, t, lang, intent = key.split("|", 4)
        return cls(int(c), int(a), int(t), lang, intent)


# (dims, day) → counters
Contributions = dict[tuple[Dims, date], Counter[str]]


def is_answer(e: EventRow) -> bool:
    return (
        e.type == "message.created"
        and e.data.get("direction") == "outbound"
        and e.actor_type in ANSWER_ACTORS
    )


def _ordered(events: Iterable[EventRow]) -> list[EventRow]:
    return sorted(events, key=lambda e: (e.occurred_at, e.id))


def first_answering_agent(events: Sequence[EventRow]) -> int | None:
    for e in _ordered(events):
        if is_answer(e) and e.actor_type == "agent":
            return e.actor_id
    return None


def conversation_counters(events: Sequence[EventRow], calendar: BusinessCalendar) -> dict[date, Counter[str]]:
    """The conversation's own counters per shop-local day (surveys excluded)."""
    evs = _ordered(events)
    inbound = [e for e in evs if e.type == "message.received"]
    out: dict[date, Counter[str]] = defaultdict(Counter)
    if not inbound:
        return {}
    day = calendar.local_date
    created = next((e for e in evs if e.type == "conversation.created"), evs[0])
    t0 = inbound[0].occurred_at
    out[day(created.occurred_at)]["conversations"] += 1
    out[day(created.occurred_at)]["backlog_delta"] += 1
    for e in inbound:
        out[day(e.occurred_at)]["messages_received"] += 1

    answers = [(i, e) for i, e in enumerate(evs) if is_answer(e)]
    first = next(((i, e) for i, e in answers if e.occurred_at >= t0), None)
    if first is not None:
        t = first[1].occurred_at
        wall = int((t - t0).total_seconds())
        c = out[day(t)]
        c["first_responses"] += 1
        c["frt_seconds"] += wall
        c["frt_business_seconds"] += int(calendar.business_seconds(t0, t))
        c[frt_bucket(wall)] += 1

    for e in evs:
        if e.type == "conversation.status_changed":
            before, after = e.data.get("from"), e.data.get("to")
            if before in OPEN_LIKE and after in DONE:
                out[day(e.occurred_at)]["backlog_delta"] -= 1
            elif before in DONE and after in OPEN_LIKE:
                out[day(e.occurred_at)]["backlog_delta"] += 1
        elif e.type == "sla.achieved":
            out[day(e.occurred_at)]["sla_achieved"] += 1
        elif e.type == "sla.breached":
            out[day(e.occurred_at)]["sla_breached"] += 1

    resolution = next(
        (
            (i, e)
            for i, e in enumerate(evs)
            if e.type == "conversation.status_changed"
            and e.occurred_at >= t0
            and e.data.get("from") in OPEN_LIKE
            and e.data.get("to") in DONE
        ),
        None,
    )
    if resolution is not None:
        r_index, r_event = resolution
        t1 = r_event.occurred_at
        c = out[day(t1)]
        reopened = any(
            e.type == "conversation.status_changed"
            and e.data.get("from") in DONE
            and e.data.get("to") in OPEN_LIKE
            for e in evs[r_index + 1 :]
        )
        c["resolved"] += 1
        c["resolution_seconds"] += int((t1 - t0).total_seconds())
        c["resolution_business_seconds"] += int(calendar.business_seconds(t0, t1))
        c["reopened"] += int(reopened)
        answered_before = sum(1 for i, e in answers if i < r_index and e.occurred_at >= t0)
        if answered_before >= 1:
            c["fcr_eligible"] += 1
            c["fcr"] += int(answered_before == 1 and not reopened)
        agent_answered = any(e.actor_type == "agent" for _, e in answers)
        c["automated"] += int(r_event.actor_type == "assistant" and not agent_answered and not reopened)
        handle = timedelta(0)
        people = [e for e in evs if e.actor_type != "system"]  # system events are consequences, not work
        for i, e in enumerate(people):
            if i and e.actor_type == "agent":
                handle += min(e.occurred_at - people[i - 1].occurred_at, HANDLE_CAP)
        handle_seconds = int(handle.total_seconds())
        if handle_seconds > 0:
            c["handled"] += 1
            c["handle_seconds"] += handle_seconds
    return {d: c for d, c in out.items() if any(c.values())}


def survey_counters(e: EventRow) -> Counter[str]:
    kind, score = str(e.data.get("kind")), int(e.data.get("score", 0))
    c: Counter[str] = Counter()
    if kind == "csat":
        c.update(csat_responses=1, csat_score_sum=score, csat_satisfied=int(score >= SATISFIED_MIN))
    elif kind == "ces":
        c.update(ces_responses=1, ces_score_sum=score, ces_easy=int(score >= EASY_MIN))
    elif kind == "nps":
        c.update(
            nps_responses=1,
            nps_promoters=int(score >= PROMOTER_MIN),
            nps_passives=int(PASSIVE_MIN <= score < PROMOTER_MIN),
            nps_detractors=int(score < PASSIVE_MIN),
        )
    return c


def contributions(events: Sequence[EventRow], dims: Dims, calendar: BusinessCalendar) -> Contributions:
    """Everything one conversation contributes: its counters under its current dimensions, and each
    survey answer under the dimensions recorded with it."""
    out: Contributions = {}
    for d, counters in conversation_counters(events, calendar).items():
        out[(dims, d)] = counters
    for e in events:
        if e.type != "survey.answered":
            continue
        data = e.data
        sdims = Dims.of(
            data.get("channel_id"),
            data.get("agent_id"),
            data.get("team_id"),
            data.get("language"),
            data.get("intent"),
        )
        key = (sdims, calendar.local_date(e.occurred_at))
        out.setdefault(key, Counter()).update(survey_counters(e))
    return {k: v for k, v in out.items() if any(v.values())}


def encode(contrib: Contributions) -> dict[str, Any]:
    """JSON form stored in ``kpi_conversation_facts.contributions``."""
    return {
        f"{dims.key()}@{day.isoformat()}": {m: n for m, n in counters.items() if n}
        for (dims, day), counters in sorted(contrib.items())
    }


def decode(data: Mapping[str, Any]) -> Contributions:
    out: Contributions = {}
    for key, counters in data.items():
        dims_key, _, day = key.rpartition("@")
        out[(Dims.from_key(dims_key), date.fromisoformat(day))] = Counter(
            {m: int(n) for m, n in counters.items()}
        )
    return out


def accumulate(deltas: dict[tuple[Dims, date], Counter[str]], contrib: Contributions, sign: int) -> None:
    """Add (``sign=+1``) or take away (``-1``) a contribution, per dimensions and day."""
    for key, counters in contrib.items():
        target = deltas.get(key)
        if target is None:
            target = deltas[key] = Counter()
        if sign > 0:
            target.update(counters)
        else:
            target.subtract(counters)


def clean(deltas: dict[tuple[Dims, date], Counter[str]]) -> dict[tuple[Dims, date], dict[str, int]]:
    """Deltas without zero counters and without the keys that do not change."""
    out = {}
    for key, counters in deltas.items():
        values = {m: int(counters[m]) for m in METRICS if counters.get(m, 0)}
        if values:
            out[key] = values
    return out


# --- purchases (retention, repeat purchase) ----------------------------------------------------------------


def buyer_transitions(days: Iterable[tuple[date, int]]) -> Counter[tuple[str, date, date]]:
    """A customer's buying days → ``(kind, day, ref_day)`` counts (see ``KpiBuyerTransition``)."""
    out: Counter[tuple[str, date, date]] = Counter()
    previous, first, total = NO_DAY, None, 0
    for day, n in sorted(days):
        if n <= 0:
            continue
        out[("v", day, previous)] += 1
        first = first or day
        if total < 2 <= total + n:
            out[("s", day, first)] += 1
        total += n
        previous = day
    return out
