"""KPI reports from the rollup tables: any period (shop-local dates), filters, a breakdown, and the
previous period of the same length for comparison. Formulas: ``analytics.metrics`` and docs/kpis.md."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.repository import AgentRepository, TeamRepository
from storedesk.analytics.metrics import FRT_BUCKETS, KPIS, derive, ratio
from storedesk.analytics.models import Grain
from storedesk.analytics.repository import KpiFilter, KpiRepository, choose_grain
from storedesk.channels.repository import ChannelRepository
from storedesk.kit.errors import ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop
from storedesk.sla.calendar import BusinessCalendar

TIME_GROUPS = ("day", "week", "month")
DIM_GROUPS = ("channel", "agent", "team", "language", "intent")
GROUP_BY = ("none", *TIME_GROUPS, *DIM_GROUPS)
MAX_DAYS = 3 * 366
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2199, 12, 31)
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class KpiQuery:
    start: date
    end: date
    filters: KpiFilter = field(default_factory=KpiFilter)
    group_by: str = "none"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationFailed(
                "'to' is before 'from'", details={"field": "to"}, reason="report_dates_reversed"
            )
        if self.start < MIN_DAY or self.end > MAX_DAY:
            raise ValidationFailed(
                f"dates are between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}",
                details={"field": "from"},
                reason="report_dates_range",
                params={"min": MIN_DAY.isoformat(), "max": MAX_DAY.isoformat()},
            )
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ValidationFailed(
                f"a report covers at most {MAX_DAYS} days",
                details={"field": "from"},
                reason="report_too_long",
                params={"max": MAX_DAYS},
            )
        if self.group_by not in GROUP_BY:
            raise ValidationFailed(
                f"group_by is one of {', '.join(GROUP_BY)}",
                details={"field": "group_by"},
                reason="report_group_by",
                params={"options": ", ".join(GROUP_BY)},
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> tuple[date, date]:
        return self.start - timedelta(days=self.days), self.start - timedelta(days=1)


def default_period(shop: Shop, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    today = BusinessCalendar.from_config(shop.timezone, None).local_date(utcnow())
    return today - timedelta(days=days - 1), today


def bucket_start(day: date, group_by: str) -> date:
    if group_by == "week":
        return day - timedelta(days=day.weekday())
    if group_by == "month":
        return day.replace(day=1)
    return day


def buckets(start: date, end: date, group_by: str) -> list[tuple[date, date]]:
    """Consecutive ``(first, last)`` day ranges covering ``[start, end]`` (clipped at both ends)."""
    out = []
    day = start
    while day <= end:
        first = bucket_start(day, group_by)
        if group_by == "week":
            nxt = first + timedelta(days=7)
        elif group_by == "month":
            nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            nxt = first + timedelta(days=1)
        last = min(nxt - timedelta(days=1), end)
        out.append((max(first, start), last))
        day = last + timedelta(days=1)
    return out


def _orders(counts: Any) -> dict[str, Any]:
    return {
        "buyers": counts.buyers,
        "repeat_buyers": counts.repeat_buyers,
        "retained_buyers": counts.retained,
        "previous_period_buyers": counts.previous_buyers,
        "customer_retention_rate": ratio(counts.retained, counts.previous_buyers),
        "repeat_purchase_rate": ratio(counts.repeat_buyers, counts.buyers),
    }


PURCHASE_FILTERS = ("from", "to")


def purchases_scope(flt: KpiFilter) -> dict[str, Any]:
    """Which of the report's filters the purchase KPIs (retention, repeat purchase) honour — only the
    period: they count the shop's buyers from the orders mirror, and an order has no support channel,
    agent, team or intent (docs/kpis.md). Said in every answer rather than silently ignored."""
    return {
        "kpis": ["customer_retention_rate", "repeat_purchase_rate"],
        "filters_applied": list(PURCHASE_FILTERS),
        "filters_not_applied": sorted(flt.values()),
        "in_groups": False,  # totals and previous_totals only; groups carry null
        "shop_wide": True,
    }


def _change(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in KPIS:
        a, b = current.get(key), previous.get(key)
        out[key] = (a - b) if isinstance(a, int | float) and isinstance(b, int | float) else None
    return out


async def _labels(session: AsyncSession, shop_id: int, group_by: str, keys: list[Any]) -> dict[Any, str]:
    if group_by == "channel":
        names = {c.id: c.name for c in await ChannelRepository(session, shop_id).list()}
        return {k: names.get(k, f"channel {k}") if k else "(none)" for k in keys}
    if group_by == "agent":
        names = {a.id: a.name for a in await AgentRepository(session, shop_id).list()}
        return {k: names.get(k, f"agent {k}") if k else "Unassigned" for k in keys}
    if group_by == "team":
        names = {t.id: t.name for t in await TeamRepository(session, shop_id).list()}
        return {k: names.get(k, f"team {k}") if k else "No team" for k in keys}
    return {k: (str(k) if k not in (None, "") else "(unknown)") for k in keys}


async def report(
    session: AsyncSession,
    shop: Shop,
    query: KpiQuery,
    *,
    previous: bool = True,
    orders: bool = True,
) -> dict[str, Any]:
    """Every KPI for the period (and the previous one), broken down by ``query.group_by``."""
    repo = KpiRepository(session, shop.id)
    flt = query.filters
    dim = query.group_by if query.group_by in DIM_GROUPS else None
    grain = choose_grain(flt, dim)
    groups: list[dict[str, Any]] = []
    # open conversations at the end of the day before the period: the previous period's backlog, and
    # the start of the running sum (backlog changes are additive)
    before = (await repo.backlog(grain, flt, query.start - timedelta(days=1), None))[None]
    if query.group_by in TIME_GROUPS:
        per_day = dict(await repo.sums(grain, flt, query.start, query.end, "day"))
        running = before
        totals: Counter[str] = Counter()
        for first, last in buckets(query.start, query.end, query.group_by):
            sums: Counter[str] = Counter()
            day = first
            while day <= last:
                sums.update(per_day.get(day, {}))
                day += timedelta(days=1)
            running += sums["backlog_delta"]
            totals.update(sums)
            groups.append(
                {
                    "key": first.isoformat(),
                    "label": first.isoformat(),
                    "from": first.isoformat(),
                    "to": last.isoformat(),
                    "kpis": derive(sums, backlog=running),
                }
            )
    elif dim is not None:
        rows = await repo.sums(grain, flt, query.start, query.end, dim)
        backlog = await repo.backlog(grain, flt, query.end, dim)
        keys = sorted({k for k, _ in rows} | {k for k, v in backlog.items() if v})
        labels = await _labels(session, shop.id, dim, keys)
        by_key = dict(rows)
        totals = Counter()
        for key in keys:
            sums = Counter(by_key.get(key, {}))
            totals.update(sums)
            groups.append(
                {"key": str(key), "label": labels[key], "kpis": derive(sums, backlog=backlog.get(key, 0))}
            )
        groups.sort(key=lambda g: (-g["kpis"]["conversations"], g["label"]))
    else:
        rows = await repo.sums(grain, flt, query.start, query.end, None)
        totals = Counter(rows[0][1] if rows else {})
    total_backlog = before + totals["backlog_delta"]
    out: dict[str, Any] = {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "timezone": shop.timezone,
        "group_by": query.group_by,
        "filters": flt.values(),
        "totals": derive(totals, backlog=total_backlog),
        "groups": groups,
        "rollups_updated_at": (ran.isoformat() if (ran := await repo.last_run()) else None),
    }
    if orders:
        out["totals"].update(_orders(await repo.buyers(query.start, query.end)))
        out["purchases_scope"] = purchases_scope(flt)
    if previous:
        prev_start, prev_end = query.previous
        prev_grain = choose_grain(flt, None)
        prev_rows = await repo.sums(prev_grain, flt, prev_start, prev_end, None)
        prev = derive(Counter(prev_rows[0][1] if prev_rows else {}), backlog=before)
        if orders:
            prev.update(_orders(await repo.buyers(prev_start, prev_end)))
        out["previous"] = {"from": prev_start.isoformat(), "to": prev_end.isoformat()}
        out["previous_totals"] = prev
        out["change"] = _change(out["totals"], prev)
    return out


def series_granularity(days: int) -> str:
    return "day" if days <= 62 else ("week" if days <= 200 else "month")


async def dashboard(
    session: AsyncSession, shop: Shop, start: date, end: date, flt: KpiFilter
) -> dict[str, Any]:
    """What the dashboard page draws: totals with the previous period, a time series, agents, channels."""
    granularity = series_granularity((end - start).days + 1)
    main = await report(session, shop, KpiQuery(start, end, flt, granularity))
    by_agent = await report(session, shop, KpiQuery(start, end, flt, "agent"), previous=False, orders=False)
    by_channel = await report(
        session, shop, KpiQuery(start, end, flt, "channel"), previous=False, orders=False
    )
    return {
        **main,
        "granularity": granularity,
        "series": main["groups"],
        "agents": by_agent["groups"],
        "channels": by_channel["groups"],
    }


# --- CSV -------------------------------------------------------------------------------------------------

CSV_SCALARS = list(
    (
        "conversations",
        "messages_received",
        "backlog",
        "first_responses",
        "first_response_time",
        "first_response_time_business",
        "resolved",
        "resolution_time",
        "resolution_time_business",
        "handled",
        "average_handling_time",
        "first_contact_resolution_rate",
        "reopened",
        "reopen_rate",
        "sla_achieved",
        "sla_breached",
        "sla_compliance_rate",
        "csat_responses",
        "csat",
        "csat_average",
        "ces_responses",
        "ces_average",
        "ces_easy_rate",
        "nps_responses",
        "nps_promoters",
        "nps_passives",
        "nps_detractors",
        "nps",
        "automated",
        "automation_rate",
        "buyers",
        "repeat_buyers",
        "customer_retention_rate",
        "repeat_purchase_rate",
    )
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def to_csv(data: dict[str, Any]) -> str:
    """The report as CSV: one row per group, then the total and the previous period's total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = CSV_SCALARS + [name for name, _ in FRT_BUCKETS]
    writer.writerow(["group", "key", "label", "from", "to", *columns])

    def row(kind: str, key: str, label: str, first: str, last: str, kpis: dict[str, Any]) -> None:
        dist = kpis.get("frt_distribution", {})
        values = [kpis.get(c) for c in CSV_SCALARS] + [dist.get(name) for name, _ in FRT_BUCKETS]
        # a leading = + - @ would be a formula in a spreadsheet
        safe_label = f"'{label}" if label[:1] in ("=", "+", "-", "@") else label
        writer.writerow([kind, key, safe_label, first, last, *(_cell(v) for v in values)])

    for group in data["groups"]:
        row(
            data["group_by"],
            group["key"],
            group["label"],
            group.get("from", data["from"]),
            group.get("to", data["to"]),
            group["kpis"],
        )
    row("total", "", "Total", data["from"], data["to"], data["totals"])
    if "previous_totals" in data:
        row(
            "previous",
            "",
            "Previous period",
            data["previous"]["from"],
            data["previous"]["to"],
            data["previous_totals"],
        )
    return buffer.getvalue()


__all__ = ["GROUP_BY", "Grain", "KpiFilter", "KpiQuery", "dashboard", "report", "to_csv"]
