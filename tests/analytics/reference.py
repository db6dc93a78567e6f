"""A direct computation of the KPI counters from raw event histories — written independently of
storedesk.analytics.facts (no shared code), straight from the definitions in docs/kpis.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from storedesk.sla.calendar import BusinessCalendar


@dataclass
class Ev:
    id: int
    type: str
    at: datetime
    actor: str
    actor_id: int | None
    data: dict[str, Any]


@dataclass
class Conv:
    channel: int
    assignee: int | None
    team: int | None
    language: str | None
    intent: str | None
    events: list[Ev]


Key = tuple[int, int, int, str, str, date]  # channel, agent, team, language, intent, day


def per_conversation(conv: Conv, cal: BusinessCalendar) -> list[tuple[Key, Counter[str]]]:
    evs = sorted(conv.events, key=lambda e: (e.at, e.id))
    out: list[tuple[Key, Counter[str]]] = []

    def local(t: datetime) -> date:
        return cal.local_date(t)

    # answering agent: the assignee, else the first agent who answered
    def answered(e: Ev) -> bool:
        return (
            e.type == "message.created"
            and e.data.get("direction") == "outbound"
            and e.actor in ("agent", "assistant")
        )

    agent = conv.assignee
    if agent is None:
        for e in evs:
            if answered(e) and e.actor == "agent":
                agent = e.actor_id
                break
    dims = (conv.channel, agent or 0, conv.team or 0, conv.language or "", conv.intent or "")

    def add(day: date, **values: int) -> None:
        out.append(((*dims, day), Counter(values)))

    customer_messages = [e for e in evs if e.type == "message.received"]
    if customer_messages:
        created_at = next(e.at for e in evs if e.type == "conversation.created")
        add(local(created_at), conversations=1, backlog_delta=1)
        for e in customer_messages:
            add(local(e.at), messages_received=1)
        t0 = customer_messages[0].at
        replies = [e for e in evs if answered(e) and e.at >= t0]
        if replies:
            t = replies[0].at
            secs = int((t - t0).total_seconds())
            bucket = (
                "frt_le_15m"
                if secs <= 900
                else "frt_le_1h"
                if secs <= 3600
                else "frt_le_4h"
                if secs <= 14400
                else "frt_le_24h"
                if secs <= 86400
                else "frt_gt_24h"
            )
            add(
                local(t),
                first_responses=1,
                frt_seconds=secs,
                frt_business_seconds=int(cal.business_seconds(t0, t)),
                **{bucket: 1},
            )
        status_events = [e for e in evs if e.type == "conversation.status_changed"]
        for e in status_events:
            a, b = e.data["from"], e.data["to"]
            if a in ("open", "pending", "snoozed") and b in ("resolved", "closed"):
                add(local(e.at), backlog_delta=-1)
            if a in ("resolved", "closed") and b in ("open", "pending", "snoozed"):
                add(local(e.at), backlog_delta=1)
        firsts = [
            e
            for e in status_events
            if e.at >= t0
            and e.data["from"] in ("open", "pending", "snoozed")
            and e.data["to"] in ("resolved", "closed")
        ]
        if firsts:
            r = firsts[0]
            position = evs.index(r)
            later = evs[position + 1 :]
            reopened = any(
                e.type == "conversation.status_changed"
                and e.data["from"] in ("resolved", "closed")
                and e.data["to"] in ("open", "pending", "snoozed")
                for e in later
            )
            n_replies = len([e for e in evs[:position] if answered(e) and e.at >= t0])
            any_agent_reply = any(answered(e) and e.actor == "agent" for e in evs)
            worked = timedelta(0)
            last: datetime | None = None
            for e in evs:
                if e.actor == "system":
                    continue
                if e.actor == "agent" and last is not None:
                    worked += min(e.at - last, timedelta(minutes=10))
                last = e.at
            values = {
                "resolved": 1,
                "resolution_seconds": int((r.at - t0).total_seconds()),
                "resolution_business_seconds": int(cal.business_seconds(t0, r.at)),
                "reopened": int(reopened),
                "fcr_eligible": int(n_replies > 0),
                "fcr": int(n_replies == 1 and not reopened),
                "automated": int(r.actor == "assistant" and not any_agent_reply and not reopened),
            }
            if int(worked.total_seconds()) > 0:
                values.update(handled=1, handle_seconds=int(worked.total_seconds()))
            add(local(r.at), **values)
        for e in evs:
            if e.type == "sla.achieved":
                add(local(e.at), sla_achieved=1)
            if e.type == "sla.breached":
                add(local(e.at), sla_breached=1)
    for e in evs:
        if e.type != "survey.answered":
            continue
        d = e.data
        sdims = (
            d["channel_id"] or 0,
            d["agent_id"] or 0,
            d["team_id"] or 0,
            d["language"] or "",
            d["intent"] or "",
        )
        s = d["score"]
        kind = d["kind"]
        if kind == "csat":
            values = {"csat_responses": 1, "csat_score_sum": s, "csat_satisfied": int(s >= 4)}
        elif kind == "ces":
            values = {"ces_responses": 1, "ces_score_sum": s, "ces_easy": int(s >= 5)}
        else:
            values = {
                "nps_responses": 1,
                "nps_promoters": int(s >= 9),
                "nps_passives": int(s in (7, 8)),
                "nps_detractors": int(s <= 6),
            }
        out.append(((*sdims, local(e.at)), Counter(values)))
    return out


def totals(
    convs: Iterable[Conv], cal: BusinessCalendar, keep: Callable[[Key], bool], start: date, end: date
) -> tuple[Counter[str], int]:
    """Summed counters over ``[start, end]`` for the kept keys, and the backlog at the end of ``end``."""
    sums: Counter[str] = Counter()
    backlog = 0
    for conv in convs:
        for key, values in per_conversation(conv, cal):
            if not keep(key):
                continue
            if start <= key[5] <= end:
                sums.update(values)
            if key[5] <= end:
                backlog += values.get("backlog_delta", 0)
    return sums, backlog
