"""Settings (admins): channels, agents and roles, teams, macros, tags, business hours."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from storedesk.agents import service as agents_service
from storedesk.agents.models import Role
from storedesk.api.deps import Session
from storedesk.channels import service as channels_service
from storedesk.channels.models import Channel, ChannelKind
from storedesk.config import Settings
from storedesk.kit.crypto import SecretBox
from storedesk.kit.errors import StoredeskError
from storedesk.knowledge import macros as macro_service
from storedesk.shops import service as shops_service
from storedesk.web import views
from storedesk.web.deps import AdminWeb, WebContext, WebRoute, page, redirect, undo
from storedesk.web.errors import error_text
from storedesk.web.i18n import N_, _

router = APIRouter(prefix="/app/settings", route_class=WebRoute)

SECTIONS = (
    ("channels", N_("Channels")),
    ("agents", N_("Agents & roles")),
    ("teams", N_("Teams")),
    ("macros", N_("Macros")),
    ("tags", N_("Tags")),
    ("hours", N_("Business hours")),
)
DAYS = (
    ("mon", N_("Monday")),
    ("tue", N_("Tuesday")),
    ("wed", N_("Wednesday")),
    ("thu", N_("Thursday")),
    ("fri", N_("Friday")),
    ("sat", N_("Saturday")),
    ("sun", N_("Sunday")),
)
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def webhook_url(base_url: str, channel: Channel) -> str:
    """Where the provider sends this channel's traffic (see docs/agent-ui.md)."""
    base = base_url.rstrip("/")
    kind = str(channel.kind)
    if kind == "email":
        return _("Forward mail for %(address)s to the SMTP intake", address=channel.external_id or "—")
    if kind == "chat":
        return f'<script src="{base}/widget/{channel.id}.js" async></script>'
    if kind == "api":
        return f"{base}/api/v1/conversations"
    return f"{base}/webhooks/{kind}/{channel.id}"


async def _render(
    request: Request,
    ctx: WebContext,
    session: Session,
    section: str,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    data = await views.settings_page(session, ctx.shop_id)
    settings: Settings = request.app.state.settings
    context: dict[str, Any] = {
        "section": section,
        "sections": SECTIONS,
        "s": data,
        "days": DAYS,
        "kinds": [k.value for k in ChannelKind],
        "roles": [r.value for r in Role],
        "webhook_url": lambda ch: webhook_url(settings.base_url, ch),
        "variables": macro_service.VARIABLES,
        "errors": {},
        "values": {},
    }
    context.update(extra or {})
    return page(request, "settings/page.html", context, status_code=status_code)


async def _failed(
    request: Request,
    ctx: WebContext,
    session: Session,
    section: str,
    errors: dict[str, str],
    values: dict[str, Any],
) -> Response:
    await undo(session, ctx)
    return await _render(
        request, ctx, session, section, {"errors": errors, "values": values}, status_code=422
    )


def _field_error(exc: StoredeskError, default: str) -> dict[str, str]:
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    return {str(field or default): error_text(exc)}


@router.get("")
async def settings_home() -> Response:
    return redirect("/app/settings/channels")


@router.get("/{section}")
async def section_page(request: Request, ctx: AdminWeb, session: Session, section: str) -> Response:
    if section not in dict(SECTIONS):
        from storedesk.kit.errors import NotFound

        raise NotFound("settings section", section)
    return await _render(request, ctx, session, section)


# --- channels --------------------------------------------------------------------------------------------


@router.post("/channels")
async def create_channel(
    request: Request,
    ctx: AdminWeb,
    session: Session,
    kind: Annotated[str, Form(max_length=16)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
    external_id: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    values = {"kind": kind, "name": name, "external_id": external_id}
    errors: dict[str, str] = {}
    if kind not in ChannelKind.__members__:
        errors["kind"] = _("Choose what kind of channel this is.")
    if not name.strip() or len(name.strip()) > 200:
        errors["name"] = _("Give the channel a name (up to 200 characters).")
    if kind == "email" and external_id and not EMAIL.match(external_id.strip()):
        errors["external_id"] = _("Enter the mailbox address, e.g. support@example.com.")
    if len(external_id) > 320:
        errors["external_id"] = _("At most 320 characters.")
    if errors:
        return await _failed(request, ctx, session, "channels", errors, values)
    box: SecretBox = request.app.state.box
    try:
        await channels_service.create_channel(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            box=box,
            kind=ChannelKind(kind),
            name=name.strip(),
            external_id=external_id.strip() or None,
        )
    except StoredeskError as exc:
        return await _failed(request, ctx, session, "channels", _field_error(exc, "external_id"), values)
    return redirect("/app/settings/channels", flash=_("Channel created."), request=request)


# --- agents and roles --------------------------------------------------------------------------------------


@router.post("/agents")
async def create_agent(
    request: Request,
    ctx: AdminWeb,
    session: Session,
    email: Annotated[str, Form(max_length=400)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
    role: Annotated[str, Form(max_length=16)] = "agent",
    password: Annotated[str, Form(max_length=300)] = "",
    languages: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {"email": email, "name": name, "role": role, "languages": languages}
    errors: dict[str, str] = {}
    if not EMAIL.match(email.strip()) or len(email.strip()) > 320:
        errors["email"] = _("Enter a valid email address.")
    if not name.strip() or len(name.strip()) > 200:
        errors["name"] = _("Enter the agent's name (up to 200 characters).")
    if role not in Role.__members__:
        errors["role"] = _("Choose a role.")
    if len(password) < 10:
        errors["password"] = _("Use at least 10 characters.")
    langs = [p.strip().lower() for p in languages.split(",") if p.strip()]
    if any(not (l.isalpha() and 2 <= len(l) <= 3) for l in langs):  # noqa: E741
        errors["languages"] = _("List language codes separated by commas, e.g. en, de.")
    if errors:
        return await _failed(request, ctx, session, "agents", errors, values)
    try:
        await agents_service.create_agent(
            session,
            shop_id=ctx.shop_id,
            email=email.strip(),
            name=name.strip(),
            role=Role(role),
            password=password,
            languages=langs,
            actor=ctx.auth.actor,
        )
    except StoredeskError as exc:
        return await _failed(request, ctx, session, "agents", _field_error(exc, "email"), values)
    return redirect("/app/settings/agents", flash=_("Agent added."), request=request)


@router.post("/agents/{agent_id}")
async def update_agent(
    request: Request,
    ctx: AdminWeb,
    session: Session,
    agent_id: int,
    role: Annotated[str, Form(max_length=16)] = "",
    active: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if role not in Role.__members__:
        return await _failed(request, ctx, session, "agents", {f"agent-{agent_id}": _("Choose a role.")}, {})
    try:
        await agents_service.update_agent(
            session, ctx.auth, agent_id, role=Role(role), is_active=active == "on"
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        return await _failed(request, ctx, session, "agents", {f"agent-{agent_id}": error_text(exc)}, {})
    return redirect("/app/settings/agents", flash=_("Agent saved."), request=request)


# --- teams -------------------------------------------------------------------------------------------------


@router.post("/teams")
async def create_team(
    request: Request,
    ctx: AdminWeb,
    session: Session,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    values = {"name": name, "description": description}
    if not name.strip() or len(name.strip()) > 100:
        return await _failed(
            request,
            ctx,
            session,
            "teams",
            {"name": _("Give the team a name (up to 100 characters).")},
            values,
        )
    if len(description) > 500:
        return await _failed(
            request, ctx, session, "teams", {"description": _("At most 500 characters.")}, values
        )
    try:
        await agents_service.create_team(
            session, ctx.auth, name=name.strip(), description=description.strip() or None
        )
    except StoredeskError as exc:
        return await _failed(request, ctx, session, "teams", _field_error(exc, "name"), values)
    return redirect("/app/settings/teams", flash=_("Team created."), request=request)


@router.post("/teams/{team_id}/members")
async def team_members(
    request: Request,
    ctx: AdminWeb,
    session: Session,
    team_id: int,
    members: Annotated[list[int] | None, Form(max_length=500)] = None,
) -> Response:
    try:
        await agents_service.set_team_members(session, ctx.auth, team_id, members or [])
    except StoredeskError as exc:
        if exc.status_code == 404 and isinstance(exc.details, dict) and exc.details.get("resource") == "team":
            raise
        return await _failed(request, ctx, session, "teams", {f"team-{team_id}": error_text(exc)}, {})
    return redirect("/app/settings/teams", flash=_("Team members saved."), request=request)


# --- macros ------------------------------------------------------------------------------------------------


async def _macro_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k[5:]: str(v) for k, v in form.items() if k.startswith("body_") and isinstance(v, str)}


@router.post("/macros")
async def save_macro(
    request: Request,
    ctx: AdminWeb,
    session: Session,
    name: Annotated[str, Form(max_length=300)] = "",
    macro_id: Annotated[str, Form(max_length=20)] = "",
    intent: Annotated[str, Form(max_length=48)] = "",
) -> Response:
    bodies = await _macro_form(request)
    values = {
        "name": name,
        "macro_id": macro_id,
        "intent": intent,
        **{f"body_{k}": v for k, v in bodies.items()},
    }
    try:
        await macro_service.save_macro(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            languages=ctx.shop.languages,
            name=name,
            bodies=bodies,
            macro_id=int(macro_id) if macro_id.isdigit() else None,
            intent=intent,
        )
    except StoredeskError as exc:
        if exc.status_code == 404:
            raise
        return await _failed(request, ctx, session, "macros", _field_error(exc, "name"), values)
    return redirect("/app/settings/macros", flash=_("Macro saved."), request=request)


@router.post("/macros/{macro_id}/delete")
async def delete_macro(request: Request, ctx: AdminWeb, session: Session, macro_id: int) -> Response:
    await macro_service.delete_macro(session, shop_id=ctx.shop_id, actor=ctx.auth.actor, macro_id=macro_id)
    return redirect("/app/settings/macros", flash=_("Macro deleted."), request=request)


# --- business hours ------------------------------------------------------------------------------------------


@router.post("/hours")
async def business_hours(request: Request, ctx: AdminWeb, session: Session) -> Response:
    form = await request.form()
    hours: dict[str, Any] = {}
    errors: dict[str, str] = {}
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    for day, _label in DAYS:
        if form.get(f"{day}_open") != "on":
            hours[day] = []
            continue
        start, end = str(form.get(f"{day}_from", "")), str(form.get(f"{day}_to", ""))
        if not (HHMM.match(start) and HHMM.match(end)):
            errors[day] = _("Use hours like 09:00.")
        elif start >= end:
            errors[day] = _("The day must end after it starts.")
        else:
            hours[day] = [[start, end]]
    holidays = [h.strip() for h in str(form.get("holidays", "")).replace(",", "\n").splitlines() if h.strip()]
    if any(not DATE.match(h) for h in holidays):
        errors["holidays"] = _("One date per line, like 2026-12-24.")
    hours["holidays"] = holidays
    if errors:
        return await _failed(request, ctx, session, "hours", errors, values)
    await shops_service.update_shop(session, ctx.shop_id, ctx.auth.actor, {"business_hours": hours})
    return redirect("/app/settings/hours", flash=_("Business hours saved."), request=request)
