"""The additive counters the rollups store, and the KPIs (ratios and averages) derived from their sums.

Every KPI is a function of sums of these counters over a set of rollup rows, so any filter, grouping
or period is answered by adding rows up. The formulas are documented in docs/kpis.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# counters stored per rollup row (kpi_daily) — all integers; durations in whole seconds
METRICS: tuple[str, ...] = (
    "conversations",
    "messages_received",
    "first_responses",
    "frt_seconds",
    "frt_business_seconds",
    "frt_le_15m",
    "frt_le_1h",
    "frt_le_4h",
    "frt_le_24h",
    "frt_gt_24h",
    "resolved",
    "resolution_seconds",
    "resolution_business_seconds",
    "reopened",
    "fcr_eligible",
    "fcr",
    "automated",
    "handled",
    "handle_seconds",
    "sla_achieved",
    "sla_breached",
    "backlog_delta",
    "csat_responses",
    "csat_score_sum",
    "csat_satisfied",
    "ces_responses",
    "ces_score_sum",
    "ces_easy",
    "nps_responses",
    "nps_promoters",
    "nps_passives",
    "nps_detractors",
)

FRT_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("frt_le_15m", 15 * 60),
    ("frt_le_1h", 60 * 60),
    ("frt_le_4h", 4 * 60 * 60),
    ("frt_le_24h", 24 * 60 * 60),
    ("frt_gt_24h", None),
)

# KPI names returned by the API, in display order
KPIS: tuple[str, ...] = (
    "conversations",
    "messages_received",
    "backlog",
    "first_response_time",
    "first_response_time_business",
    "resolution_time",
    "resolution_time_business",
    "average_handling_time",
    "first_contact_resolution_rate",
    "reopen_rate",
    "sla_compliance_rate",
    "csat",
    "csat_average",
    "ces_average",
    "ces_easy_rate",
    "nps",
    "automation_rate",
    "customer_retention_rate",
    "repeat_purchase_rate",
)


def frt_bucket(seconds: int) -> str:
    for name, limit in FRT_BUCKETS:
        if limit is None or seconds <= limit:
            return name
    raise AssertionError("unreachable")


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def derive(sums: Mapping[str, int], *, backlog: int | None = None) -> dict[str, Any]:
    """KPIs from summed counters. ``None`` where the denominator is 0 (no data, not zero)."""
    s = {m: int(sums.get(m, 0)) for m in METRICS}
    nps = (
        (s["nps_promoters"] - s["nps_detractors"]) * 100 / s["nps_responses"] if s["nps_responses"] else None
    )
    return {
        "conversations": s["conversations"],
        "messages_received": s["messages_received"],
        "backlog": backlog,
        "first_responses": s["first_responses"],
        "first_response_time": ratio(s["frt_seconds"], s["first_responses"]),
        "first_response_time_business": ratio(s["frt_business_seconds"], s["first_responses"]),
        "frt_distribution": {name: s[name] for name, _ in FRT_BUCKETS},
        "resolved": s["resolved"],
        "resolution_time": ratio(s["resolution_seconds"], s["resolved"]),
        "resolution_time_business": ratio(s["resolution_business_seconds"], s["resolved"]),
        "handled": s["handled"],
        "average_handling_time": ratio(s["handle_seconds"], s["handled"]),
        "first_contact_resolution_rate": ratio(s["fcr"], s["fcr_eligible"]),
        "reopened": s["reopened"],
        "reopen_rate": ratio(s["reopened"], s["resolved"]),
        "sla_achieved": s["sla_achieved"],
        "sla_breached": s["sla_breached"],
        "sla_compliance_rate": ratio(s["sla_achieved"], s["sla_achieved"] + s["sla_breached"]),
        "csat_responses": s["csat_responses"],
        "csat": ratio(s["csat_satisfied"], s["csat_responses"]),
        "csat_average": ratio(s["csat_score_sum"], s["csat_responses"]),
        "ces_responses": s["ces_responses"],
        "ces_average": ratio(s["ces_score_sum"], s["ces_responses"]),
        "ces_easy_rate": ratio(s["ces_easy"], s["ces_responses"]),
        "nps_responses": s["nps_responses"],
        "nps_promoters": s["nps_promoters"],
        "nps_passives": s["nps_passives"],
        "nps_detractors": s["nps_detractors"],
        "nps": nps,
        "automated": s["automated"],
        "automation_rate": ratio(s["automated"], s["resolved"]),
    }
