"""``GET /api/v1/kpis`` (every KPI, filtered and broken down, with the previous period) and its CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from storedesk.analytics import service
from storedesk.analytics.repository import KpiFilter
from storedesk.analytics.schemas import KpiReport
from storedesk.api.deps import Auth, Session
from storedesk.kit.errors import ValidationFailed
from storedesk.kit.schemas import MAX_ID
from storedesk.shops.service import get_shop

router = APIRouter(tags=["kpis"])

NONE_OR_ID = r"^(none|[1-9][0-9]{0,18})$"


def _id(value: str | None) -> int | None:
    if value is None:
        return None
    if value == "none":
        return 0
    number = int(value)
    return number if number <= MAX_ID else None


class KpiParams:
    def __init__(
        self,
        from_: Annotated[
            date | None,
            Query(alias="from", description="first day, shop-local (default: 29 days before 'to')"),
        ] = None,
        to: Annotated[
            date | None, Query(description="last day, shop-local, inclusive (default: today)")
        ] = None,
        channel: Annotated[str | None, Query(pattern=NONE_OR_ID, description="channel id")] = None,
        agent: Annotated[
            str | None, Query(pattern=NONE_OR_ID, description="agent id, or none (unassigned)")
        ] = None,
        team: Annotated[str | None, Query(pattern=NONE_OR_ID, description="team id, or none")] = None,
        language: Annotated[str | None, Query(pattern=r"^(none|[a-z]{2,3})$")] = None,
        intent: Annotated[
            str | None, Query(pattern=r"^[a-z0-9_.-]{1,48}$", description="intent, or none")
        ] = None,
        group_by: Annotated[
            str, Query(pattern=r"^(none|day|week|month|channel|agent|team|language|intent)$")
        ] = "none",
    ) -> None:
        self.start, self.end = from_, to
        self.filters = KpiFilter(
            channel_id=_id(channel),
            agent_id=_id(agent),
            team_id=_id(team),
            language="" if language == "none" else language,
            intent="" if intent == "none" else intent,
        )
        self.group_by = group_by


Params = Annotated[KpiParams, Depends()]


async def _report(params: KpiParams, ctx: Any, session: Session) -> dict[str, Any]:
    shop = await get_shop(session, ctx.shop_id)
    end = params.end or service.default_period(shop)[1]
    if not service.MIN_DAY <= end <= service.MAX_DAY:  # before computing a default start from it
        raise ValidationFailed(
            f"dates are between {service.MIN_DAY.isoformat()} and {service.MAX_DAY.isoformat()}",
            details={"field": "to"},
            reason="report_dates_range",
            params={"min": service.MIN_DAY.isoformat(), "max": service.MAX_DAY.isoformat()},
        )
    start = params.start or end - timedelta(days=service.DEFAULT_DAYS - 1)
    query = service.KpiQuery(start, end, params.filters, params.group_by)
    return await service.report(session, shop, query)


@router.get(
    "/kpis",
    response_model=KpiReport,
    response_model_by_alias=True,
    summary="Support KPIs for a period, filtered and broken down, with the previous period",
)
async def kpis(params: Params, ctx: Auth, session: Session) -> dict[str, Any]:
    return await _report(params, ctx, session)


@router.get(
    "/kpis.csv",
    summary="The same report as CSV (one row per group, the total, the previous period)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def kpis_csv(params: Params, ctx: Auth, session: Session) -> Response:
    data = await _report(params, ctx, session)
    name = f"kpis-{data['from']}-{data['to']}-{data['group_by']}.csv"
    return Response(
        service.to_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
