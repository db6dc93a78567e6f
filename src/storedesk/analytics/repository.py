"""Tenant-scoped reads of the rollup tables (nothing here touches messages or events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.analytics.metrics import METRICS
from storedesk.analytics.models import (
    DIMENSIONS,
    GRAIN_DIMS,
    NO_DAY,
    Grain,
    KpiBuyerTransition,
    KpiDaily,
    KpiRollupState,
)

DIM_COLUMNS: dict[str, Any] = {
    "channel": KpiDaily.channel_id,
    "agent": KpiDaily.agent_id,
    "team": KpiDaily.team_id,
    "language": KpiDaily.language,
    "intent": KpiDaily.intent,
}
DIM_GRAIN = {
    "channel": Grain.channel,
    "agent": Grain.agent,
    "team": Grain.team,
    "language": Grain.language,
    "intent": Grain.intent,
}


@dataclass(frozen=True)
class KpiFilter:
    """Breakdown filters. ``agent_id=0`` / ``team_id=0`` mean none (unassigned); ``language=""`` unknown."""

    channel_id: int | None = None
    agent_id: int | None = None
    team_id: int | None = None
    language: str | None = None
    intent: str | None = None

    def values(self) -> dict[str, Any]:
        out = {
            "channel": self.channel_id,
            "agent": self.agent_id,
            "team": self.team_id,
            "language": self.language,
            "intent": self.intent,
        }
        return {k: v for k, v in out.items() if v is not None}


def choose_grain(flt: KpiFilter, group_dim: str | None) -> Grain:
    """The coarsest rollup rows that can answer: total, one dimension, a pair, or the full breakdown."""
    dims = set(flt.values()) | ({group_dim} if group_dim else set())
    if len(dims) > 2:
        return Grain.full
    kept = tuple(d for d in DIMENSIONS if d in dims)
    return next(g for g, k in GRAIN_DIMS.items() if k == kept)


@dataclass(frozen=True)
class BuyerCounts:
    buyers: int
    first_time: int
    reached_second: int
    retained: int
    previous_buyers: int

    @property
    def repeat_buyers(self) -> int:
        return self.buyers - (self.first_time - self.reached_second)


class KpiRepository:
    def __init__(self, session: AsyncSession, shop_id: int) -> None:
        self.session = session
        self.shop_id = shop_id

    def _where(self, grain: Grain, flt: KpiFilter) -> list[ColumnElement[bool]]:
        conditions = [KpiDaily.shop_id == self.shop_id, KpiDaily.grain == int(grain)]
        for dim, value in flt.values().items():
            conditions.append(DIM_COLUMNS[dim] == value)
        return conditions

    async def sums(
        self, grain: Grain, flt: KpiFilter, start: date, end: date, group: str | None
    ) -> list[tuple[Any, dict[str, int]]]:
        """Summed counters in ``[start, end]``, grouped by ``"day"``, a dimension, or not at all."""
        columns = [func.coalesce(func.sum(getattr(KpiDaily, m)), 0).label(m) for m in METRICS]
        key = KpiDaily.day if group == "day" else DIM_COLUMNS.get(group or "")
        stmt = select(*([key] if key is not None else []), *columns).where(
            *self._where(grain, flt), KpiDaily.day >= start, KpiDaily.day <= end
        )
        if key is not None:
            stmt = stmt.group_by(key).order_by(key)
        out = []
        for row in (await self.session.execute(stmt)).all():
            mapping = row._mapping
            out.append(
                (mapping[key] if key is not None else None, {m: int(mapping[m] or 0) for m in METRICS})
            )
        return out

    async def backlog(self, grain: Grain, flt: KpiFilter, through: date, group: str | None) -> dict[Any, int]:
        """Open conversations at the end of ``through`` (the running sum of backlog changes)."""
        key = DIM_COLUMNS.get(group or "")
        total = func.coalesce(func.sum(KpiDaily.backlog_delta), 0)
        stmt = select(*([key] if key is not None else []), total).where(
            *self._where(grain, flt), KpiDaily.day <= through
        )
        if key is not None:
            stmt = stmt.group_by(key)
            return {row[0]: int(row[1] or 0) for row in (await self.session.execute(stmt)).all()}
        return {None: int((await self.session.execute(stmt)).scalar_one() or 0)}

    async def buyers(self, start: date, end: date) -> BuyerCounts:
        """Distinct-customer counts for ``[start, end]`` and the period of equal length before it, as sums
        of ``kpi_buyer_transitions`` (see analytics.models.KpiBuyerTransition)."""
        length = (end - start).days + 1
        prev_start = start - timedelta(days=length)
        t = KpiBuyerTransition
        visit, second = t.kind == "v", t.kind == "s"
        in_p = and_(visit, t.day >= start, t.day <= end)

        def total(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, t.customers), else_=0)), 0)

        stmt = select(
            total(and_(in_p, t.ref_day < start)),
            total(and_(in_p, t.ref_day == NO_DAY)),
            total(and_(second, t.ref_day >= start, t.ref_day <= end, t.day <= end)),
            total(and_(in_p, t.ref_day >= prev_start, t.ref_day < start)),
            total(and_(visit, t.day >= prev_start, t.day < start, t.ref_day < prev_start)),
        ).where(
            t.shop_id == self.shop_id,
            (
                (visit & (t.day >= prev_start) & (t.day <= end))
                | (second & (t.ref_day >= start) & (t.ref_day <= end))
            ),
        )
        row = (await self.session.execute(stmt)).one()
        return BuyerCounts(*(int(v or 0) for v in row))

    async def last_run(self) -> datetime | None:
        stmt = select(KpiRollupState.last_run_at).where(KpiRollupState.shop_id == self.shop_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()
