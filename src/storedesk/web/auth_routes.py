"""Sign-in, sign-out, password reset by email, the agent's profile and UI language."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Form, Request, Response
from fastapi.responses import RedirectResponse

from storedesk.agents import service as agents_service
from storedesk.api.deps import SESSION_COOKIE, Session
from storedesk.config import Settings
from storedesk.kit.errors import StoredeskError, TooManyRequests, ValidationFailed
from storedesk.web import i18n
from storedesk.web.deps import (
    FORM_CSRF_COOKIE,
    LANG_COOKIE,
    Web,
    WebRoute,
    check_form_csrf,
    form_csrf_token,
    page,
    redirect,
    safe_next,
)
from storedesk.web.errors import error_text
from storedesk.web.i18n import _
from storedesk.web.mail import send_mail

router = APIRouter(prefix="/app", route_class=WebRoute)

Text = Annotated[str, Form(max_length=500)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _anonymous_page(
    request: Request, template: str, context: dict[str, object], status_code: int = 200
) -> Response:
    token = form_csrf_token(request)
    response = page(request, template, {"form_csrf": token, **context}, status_code=status_code)
    response.set_cookie(FORM_CSRF_COOKIE, token, path="/app", httponly=True, samesite="strict")
    if request.query_params.get("ui") in i18n.SUPPORTED_LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, request.query_params["ui"], max_age=365 * 86400, path="/", samesite="lax"
        )
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "", expired: str = "") -> Response:
    notice = _("Your session has ended. Sign in again.") if expired else None
    return _anonymous_page(
        request, "auth/login.html", {"next": safe_next(next), "notice": notice, "errors": {}}
    )


@router.post("/login")
async def login(
    request: Request,
    session: Session,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    shop: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    await check_form_csrf(request)
    errors: dict[str, str] = {}
    if "@" not in email:
        errors["email"] = _("Enter the email address you sign in with.")
    if not password:
        errors["password"] = _("Enter your password.")
    status = 422
    if not errors:
        settings = _settings(request)
        try:
            _agent, _token, secret = await agents_service.login(
                session,
                email=email.strip(),
                password=password,
                shop_slug=shop.strip() or None,
                session_ttl=timedelta(hours=settings.session_ttl_hours),
                max_failures=settings.login_max_failures,
                lockout=timedelta(minutes=settings.login_lockout_minutes),
            )
        except TooManyRequests:
            errors["form"] = _("Too many failed sign-ins. Try again in a few minutes.")
            status = 429
        except StoredeskError as exc:
            field = exc.details.get("field") if isinstance(exc.details, dict) else None
            if field == "shop":
                errors["shop"] = _("This email belongs to several shops. Enter the shop's short name.")
            else:
                errors["form"] = _("Email or password is wrong.")
                status = 401
        else:
            response = RedirectResponse(safe_next(next), status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                secret,
                max_age=settings.session_ttl_hours * 3600,
                httponly=True,
                samesite="lax",
                secure=settings.base_url.startswith("https://"),
                path="/",
            )
            response.delete_cookie(FORM_CSRF_COOKIE, path="/app")
            return response
    return _anonymous_page(
        request,
        "auth/login.html",
        {"next": safe_next(next), "errors": errors, "email": email, "shop_slug": shop, "notice": None},
        status_code=status,
    )


@router.post("/logout")
async def logout(ctx: Web, session: Session) -> Response:
    await agents_service.end_session(session, ctx.auth)
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password/forgot")
async def forgot_form(request: Request) -> Response:
    return _anonymous_page(request, "auth/forgot.html", {"errors": {}, "sent": False})


@router.post("/password/forgot")
async def forgot(
    request: Request,
    session: Session,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    await check_form_csrf(request)
    if "@" not in email:
        return _anonymous_page(
            request,
            "auth/forgot.html",
            {
                "errors": {"email": _("Enter the email address you sign in with.")},
                "sent": False,
                "email": email,
            },
            status_code=422,
        )
    settings = _settings(request)
    base = settings.base_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    for agent in await agents_service.agents_for_password_reset(session, email=email):
        token = agents_service.password_reset_token(agent, settings.secret_keys[0])
        link = f"{base}/app/password/reset?token={token}"
        body = _(
            "Hello %(name)s,\n\nsomeone asked to reset your storedesk password. Open this link within one "
            "hour to choose a new one:\n\n%(link)s\n\nIf it was not you, ignore this email: your password "
            "stays as it is.",
            name=agent.name,
            link=link,
        )
        background.add_task(
            send_mail,
            to=agent.email,
            subject=_("Reset your storedesk password"),
            body=body,
            default_sender=f"no-reply@{host}",
        )
    # the same answer whether or not the address belongs to an agent
    return _anonymous_page(request, "auth/forgot.html", {"errors": {}, "sent": True, "email": email})


@router.get("/password/reset")
async def reset_form(request: Request, token: str = "") -> Response:
    return _anonymous_page(request, "auth/reset.html", {"token": token[:300], "errors": {}})


@router.post("/password/reset")
async def reset(
    request: Request,
    session: Session,
    token: Annotated[str, Form(max_length=300)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    password2: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    await check_form_csrf(request)
    errors: dict[str, str] = {}
    if len(password) < 10:
        errors["password"] = _("Use at least 10 characters.")
    elif password != password2:
        errors["password2"] = _("The two passwords are not the same.")
    if not errors:
        try:
            await agents_service.reset_password(
                session, token=token, password=password, secrets_=_settings(request).secret_keys
            )
        except StoredeskError:
            errors["form"] = _("The reset link is invalid or has expired. Ask for a new one.")
        else:
            return redirect("/app/login", flash=_("Your password has been changed. Sign in with it."))
    return _anonymous_page(request, "auth/reset.html", {"token": token, "errors": errors}, status_code=422)


@router.post("/language")
async def set_language(
    request: Request,
    ctx: Web,
    session: Session,
    language: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The account menu's language switch: saved in the profile (every browser, after every sign-in) and
    as the cookie (this browser's sign-in page)."""
    response = redirect(safe_next(next))
    if language in i18n.SUPPORTED_LANGUAGES:
        await agents_service.update_profile(session, ctx.auth, ui_language=language)
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, path="/", samesite="lax")
    return response


@router.get("/profile")
async def profile(request: Request, ctx: Web) -> Response:
    return page(request, "profile.html", {"errors": {}, "values": {}})


@router.post("/profile")
async def save_profile(
    request: Request,
    ctx: Web,
    session: Session,
    name: Annotated[str, Form(max_length=300)] = "",
    ui_language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    errors: dict[str, str] = {}
    try:
        agents_service.clean_name(name)
    except ValidationFailed:
        errors["name"] = _("Enter your name (at most 200 characters).")
    if ui_language and ui_language not in i18n.SUPPORTED_LANGUAGES:
        errors["ui_language"] = error_text(ValidationFailed("unknown language", reason="ui_language_unknown"))
    if errors:
        values = {"name": name, "ui_language": ui_language}
        return page(request, "profile.html", {"errors": errors, "values": values}, status_code=422)
    await agents_service.update_profile(session, ctx.auth, name=name, ui_language=ui_language or None)
    browser = i18n.negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
    i18n.activate(ui_language or browser)  # the notice in the language just chosen
    response = redirect("/app/profile", flash=_("Your profile has been saved."))
    if ui_language:
        response.set_cookie(LANG_COOKIE, ui_language, max_age=365 * 86400, path="/", samesite="lax")
    return response
