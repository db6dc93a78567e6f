"""KPI rollup tables. Dashboards and the KPI API read only these; the rollup job builds them from the
event log (and the orders mirror, for the purchase KPIs).

``kpi_daily`` holds one row per shop × grain × local day × dimension values, with additive counters
(``analytics.metrics.METRICS``). A *grain* says which dimensions the row is broken down by; the others
hold the sentinel ``ALL`` (-1 / ``"*"``). A missing value (no agent, no language) is ``NONE`` (0 / ``""``).
Keeping rows per single dimension and per pair of dimensions besides the full breakdown makes dashboard
queries with up to two dimensions (filters and breakdown together) read a few hundred to a few hundred
thousand rows per year instead of the full cross product.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, shop_fk
from storedesk.kit.time import utcnow

ALL_ID = -1
NONE_ID = 0
ALL_TEXT = "*"
NONE_TEXT = ""
NO_DAY = date(1, 1, 1)  # "no previous purchase" in kpi_buyer_transitions


class Grain(IntEnum):
    total = 0
    channel = 1
    agent = 2
    team = 3
    language = 4
    intent = 5
    full = 9
    # two dimensions: a filter on one and a breakdown by the other (or two filters) read these
    channel_agent = 10
    channel_team = 11
    channel_language = 12
    channel_intent = 13
    agent_team = 14
    agent_language = 15
    agent_intent = 16
    team_language = 17
    team_intent = 18
    language_intent = 19


DIMENSIONS = ("channel", "agent", "team", "language", "intent")
# which dimensions each grain keeps (the others hold the ALL sentinel)
GRAIN_DIMS: dict[Grain, tuple[str, ...]] = {
    Grain.total: (),
    **{Grain[d]: (d,) for d in DIMENSIONS},
    **{Grain[f"{a}_{b}"]: (a, b) for i, a in enumerate(DIMENSIONS) for b in DIMENSIONS[i + 1 :]},
    Grain.full: DIMENSIONS,
}


def _counter() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, nullable=False)


class KpiDaily(Base):
    __tablename__ = "kpi_daily"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    team_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    intent: Mapped[str] = mapped_column(String(48), primary_key=True)

    conversations: Mapped[int] = _counter()
    messages_received: Mapped[int] = _counter()
    first_responses: Mapped[int] = _counter()
    frt_seconds: Mapped[int] = _counter()
    frt_business_seconds: Mapped[int] = _counter()
    frt_le_15m: Mapped[int] = _counter()
    frt_le_1h: Mapped[int] = _counter()
    frt_le_4h: Mapped[int] = _counter()
    frt_le_24h: Mapped[int] = _counter()
    frt_gt_24h: Mapped[int] = _counter()
    resolved: Mapped[int] = _counter()
    resolution_seconds: Mapped[int] = _counter()
    resolution_business_seconds: Mapped[int] = _counter()
    reopened: Mapped[int] = _counter()
    fcr_eligible: Mapped[int] = _counter()
    fcr: Mapped[int] = _counter()
    automated: Mapped[int] = _counter()
    handled: Mapped[int] = _counter()
    handle_seconds: Mapped[int] = _counter()
    sla_achieved: Mapped[int] = _counter()
    sla_breached: Mapped[int] = _counter()
    backlog_delta: Mapped[int] = _counter()
    csat_responses: Mapped[int] = _counter()
    csat_score_sum: Mapped[int] = _counter()
    csat_satisfied: Mapped[int] = _counter()
    ces_responses: Mapped[int] = _counter()
    ces_score_sum: Mapped[int] = _counter()
    ces_easy: Mapped[int] = _counter()
    nps_responses: Mapped[int] = _counter()
    nps_promoters: Mapped[int] = _counter()
    nps_passives: Mapped[int] = _counter()
    nps_detractors: Mapped[int] = _counter()


class KpiConversationFact(Base):
    """What one conversation currently contributes to ``kpi_daily``: recomputed from its events when
    one arrives, and the difference (new − old) applied to the rollup rows."""

    __tablename__ = "kpi_conversation_facts"

    conversation_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    channel_id: Mapped[int] = mapped_column(BigInteger, default=NONE_ID)
    agent_id: Mapped[int] = mapped_column(BigInteger, default=NONE_ID)
    team_id: Mapped[int] = mapped_column(BigInteger, default=NONE_ID)
    language: Mapped[str] = mapped_column(String(8), default=NONE_TEXT)
    intent: Mapped[str] = mapped_column(String(48), default=NONE_TEXT)
    contributions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"2025-03-01": {"resolved": 1}}
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class KpiRollupState(Base):
    """Where the rollup job is in a shop's event log.

    ``event_watermark``: every event with a lower or equal id has been rolled up *after* its transaction
    committed. ``checkpoints``: ``{"recent": [[observed_at, max event id, max order id], …], "orders": the
    order-id watermark}``; an observation becomes a watermark once it is older than the longest
    transaction we allow (a transaction that took an id below it but commits late is still picked up).
    ``orders_watermark``: when buyers were last refreshed."""

    __tablename__ = "kpi_rollup_state"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    event_watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoints: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    orders_watermark: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    last_run_seconds: Mapped[float | None]


class KpiBuyer(Base):
    """One customer's buying days (shop-local dates with order counts; cancelled orders excluded)."""

    __tablename__ = "kpi_buyers"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    days: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [["2025-03-01", 2], ...]


class KpiBuyerTransition(Base):
    """Counts of customers by purchase step, so retention and repeat purchase for any period are sums.

    kind ``v`` (visit): customers buying on ``day`` whose previous buying day was ``ref_day``
    (``NO_DAY`` for a first purchase). kind ``s`` (second order): customers whose lifetime order count
    reached 2 on ``day`` and whose first buying day was ``ref_day``.
    """

    __tablename__ = "kpi_buyer_transitions"
    __table_args__ = (Index("ix_kpi_buyer_transitions_ref", "shop_id", "kind", "ref_day", "day"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ref_day: Mapped[date] = mapped_column(Date, primary_key=True)
    customers: Mapped[int] = mapped_column(BigInteger, default=0)
