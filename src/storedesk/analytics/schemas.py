from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class KpiSet(BaseModel):
    """Every KPI of one period or group (rates 0–1, durations in seconds, NPS −100…100; null = no data)."""

    model_config = ConfigDict(extra="allow")

    conversations: int
    messages_received: int
    backlog: int | None
    first_responses: int
    first_response_time: float | None
    first_response_time_business: float | None
    frt_distribution: dict[str, int]
    resolved: int
    resolution_time: float | None
    resolution_time_business: float | None
    handled: int
    average_handling_time: float | None
    first_contact_resolution_rate: float | None
    reopened: int
    reopen_rate: float | None
    sla_achieved: int
    sla_breached: int
    sla_compliance_rate: float | None
    csat_responses: int
    csat: float | None
    csat_average: float | None
    ces_responses: int
    ces_average: float | None
    ces_easy_rate: float | None
    nps_responses: int
    nps_promoters: int
    nps_passives: int
    nps_detractors: int
    nps: float | None
    automated: int
    automation_rate: float | None
    buyers: int | None = None
    repeat_buyers: int | None = None
    retained_buyers: int | None = None
    previous_period_buyers: int | None = None
    customer_retention_rate: float | None = None
    repeat_purchase_rate: float | None = None


class KpiGroup(BaseModel):
    key: str
    label: str
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    kpis: KpiSet

    model_config = ConfigDict(populate_by_name=True)


class Period(BaseModel):
    from_: str = Field(alias="from")
    to: str

    model_config = ConfigDict(populate_by_name=True)


class PurchasesScope(BaseModel):
    """What the purchase KPIs (from the orders mirror) are computed over: only the period filters apply."""

    kpis: list[str]
    filters_applied: list[str]
    filters_not_applied: list[str]
    in_groups: bool
    shop_wide: bool


class KpiReport(BaseModel):
    from_: str = Field(alias="from")
    to: str
    timezone: str
    group_by: str
    filters: dict[str, Any]
    totals: KpiSet
    previous: Period | None = None
    previous_totals: KpiSet | None = None
    change: dict[str, float | None] | None = None
    groups: list[KpiGroup]
    rollups_updated_at: str | None
    purchases_scope: PurchasesScope | None = None

    model_config = ConfigDict(populate_by_name=True)
