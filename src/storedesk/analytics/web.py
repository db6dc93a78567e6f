"""The KPI dashboard in the agent workspace: ``/app/kpis`` (any signed-in agent, viewers included).

It reads the rollups through ``analytics.service.dashboard`` (never messages), renders cards, a per-agent
table and filters on the server, and hands the chart data to ``kpis.js`` as JSON; Chart.js comes from
the workspace's vendor route (npm package ``chart.js``)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from storedesk.agents.repository import AgentRepository, TeamRepository
from storedesk.analytics import service
from storedesk.analytics.repository import KpiFilter
from storedesk.api.deps import Session
from storedesk.channels.repository import ChannelRepository
from storedesk.kit.errors import ValidationFailed
from storedesk.web import templating
from storedesk.web.deps import FLASH_COOKIE, Web, WebRoute, base_context
from storedesk.web.errors import error_text
from storedesk.web.i18n import N_

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"kpis.js": "text/javascript", "kpis.css": "text/css"}
PRESETS = (7, 30, 90, 365)

env: Environment = templating.env.overlay(
    loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), templating.env.loader])  # type: ignore[list-item]
)

# KPIs where a smaller number is better (the change is shown green when it goes down)
LOWER_IS_BETTER = {
    "first_response_time",
    "first_response_time_business",
    "resolution_time",
    "resolution_time_business",
    "average_handling_time",
    "reopen_rate",
    "backlog",
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 48 * 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s / 86400:.1f} d"


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f} %"


def number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) and not value.is_integer() else f"{int(value)}"


env.filters.update(kpi_duration=duration, kpi_percent=percent, kpi_number=number)

router = APIRouter(prefix="/app/kpis", route_class=WebRoute, include_in_schema=False)


def _render(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    ctx = base_context(request)
    ctx.update(context)
    response = HTMLResponse(env.get_template(template).render(ctx))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    if ctx.get("flash"):
        response.delete_cookie(FLASH_COOKIE, path="/app")
    return response


def _int(value: str | None) -> int | None:
    if value == "none":
        return 0
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _card(key: str, label: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    current = data["totals"].get(key)
    previous = data.get("previous_totals", {}).get(key)
    change = None if current is None or previous is None else current - previous
    better = None
    if change:
        better = (change < 0) if key in LOWER_IS_BETTER else (change > 0)
    return {
        "key": key,
        "label": label,
        "kind": kind,
        "value": current,
        "previous": previous,
        "change": change,
        "better": better,
    }


CARDS = (
    ("conversations", N_("Conversations"), "count"),
    ("backlog", N_("Backlog (open now)"), "count"),
    ("first_response_time_business", N_("First response (business hours)"), "duration"),
    ("first_response_time", N_("First response (wall clock)"), "duration"),
    ("resolution_time_business", N_("Resolution time (business hours)"), "duration"),
    ("average_handling_time", N_("Average handling time"), "duration"),
    ("first_contact_resolution_rate", N_("First-contact resolution"), "percent"),
    ("reopen_rate", N_("Reopen rate"), "percent"),
    ("sla_compliance_rate", N_("SLA compliance"), "percent"),
    ("automation_rate", N_("Automation rate"), "percent"),
    ("csat", N_("CSAT (satisfied)"), "percent"),
    ("ces_average", N_("CES (1–7)"), "number"),
    ("nps", N_("NPS"), "number"),
    ("customer_retention_rate", N_("Customer retention"), "percent"),
    ("repeat_purchase_rate", N_("Repeat purchase rate"), "percent"),
)


@router.get("")
async def dashboard(request: Request, ctx: Web, session: Session) -> Response:
    q = request.query_params
    today = service.default_period(ctx.shop)[1]
    preset = _int(q.get("days"))
    end = _date(q.get("to")) or today
    if not service.MIN_DAY <= end <= service.MAX_DAY:
        end = today  # (the form's dates are checked again by the report; this only keeps "from" computable)
    start = _date(q.get("from")) or end - timedelta(days=(preset if preset in PRESETS else 30) - 1)
    flt = KpiFilter(
        channel_id=_int(q.get("channel")),
        agent_id=_int(q.get("agent")),
        team_id=_int(q.get("team")),
        language=(
            None if not q.get("language") else "" if q.get("language") == "none" else q["language"][:8]
        ),
    )
    error = None
    try:
        data = await service.dashboard(session, ctx.shop, start, end, flt)
    except ValidationFailed as exc:
        error = error_text(exc)
        start, end, flt = today - timedelta(days=29), today, KpiFilter()
        data = await service.dashboard(session, ctx.shop, start, end, flt)
    params = {
        k: v
        for k, v in {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "channel": q.get("channel", ""),
            "agent": q.get("agent", ""),
            "team": q.get("team", ""),
            "language": q.get("language", ""),
        }.items()
        if v
    }
    chart = {
        "granularity": data["granularity"],
        "labels": [g["label"] for g in data["series"]],
        "conversations": [g["kpis"]["conversations"] for g in data["series"]],
        "resolved": [g["kpis"]["resolved"] for g in data["series"]],
        "backlog": [g["kpis"]["backlog"] for g in data["series"]],
        "frt_business_hours": [
            None if (v := g["kpis"]["first_response_time_business"]) is None else round(v / 3600, 2)
            for g in data["series"]
        ],
        "frt_hours": [
            None if (v := g["kpis"]["first_response_time"]) is None else round(v / 3600, 2)
            for g in data["series"]
        ],
        "csat": [None if (v := g["kpis"]["csat"]) is None else round(v * 100, 1) for g in data["series"]],
        "nps": [None if (v := g["kpis"]["nps"]) is None else round(v, 1) for g in data["series"]],
        "ces": [None if (v := g["kpis"]["ces_average"]) is None else round(v, 2) for g in data["series"]],
        "survey_answers": [
            g["kpis"]["csat_responses"] + g["kpis"]["ces_responses"] + g["kpis"]["nps_responses"]
            for g in data["series"]
        ],
        "frt_distribution": data["totals"]["frt_distribution"],
        "channels": {
            "labels": [c["label"] for c in data["channels"]],
            "values": [c["kpis"]["conversations"] for c in data["channels"]],
        },
    }
    return _render(
        request,
        "kpis.html",
        {
            "nav": "kpis",
            "data": data,
            "cards": [
                _card(key, label, kind, data)
                | (
                    {"note": N_("shop-wide: the filters do not apply")}
                    if key in data["purchases_scope"]["kpis"]
                    and data["purchases_scope"]["filters_not_applied"]
                    else {}
                )
                for key, label, kind in CARDS
            ],
            "chart": chart,
            "params": params,
            "presets": PRESETS,
            "csv": {g: "/api/v1/kpis.csv?" + urlencode({**params, "group_by": g}) for g in service.GROUP_BY},
            "channels": await ChannelRepository(session, ctx.shop_id).list(),
            "agents": await AgentRepository(session, ctx.shop_id).list(),
            "teams": await TeamRepository(session, ctx.shop_id).list(),
            "shop_languages": list(ctx.shop.languages or []),
            "selected": {k: q.get(k, "") for k in ("channel", "agent", "team", "language")},
            "error": error,
        },
    )


@router.get("/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS:
        return Response(status_code=404)
    return FileResponse(
        STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=300"}
    )
