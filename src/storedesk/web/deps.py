"""Request plumbing of the agent workspace: the signed-in agent (session cookie), CSRF, language, and
a route class that turns domain errors into HTML pages, redirects or htmx-friendly responses."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from storedesk.agents.models import Agent, Role, TokenKind
from storedesk.agents.repository import AgentRepository
from storedesk.agents.security import ROLE_RANK, AuthContext
from storedesk.agents.service import authenticate_token
from storedesk.api.deps import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, Session
from storedesk.kit.crypto import constant_time_equals
from storedesk.kit.errors import Forbidden, StoredeskError, Unauthenticated
from storedesk.shops.models import Shop
from storedesk.shops.service import get_shop
from storedesk.web import i18n
from storedesk.web.errors import error_text
from storedesk.web.i18n import _
from storedesk.web.templating import render

log = logging.getLogger("storedesk.web")

LANG_COOKIE = "storedesk_lang"
FLASH_COOKIE = "storedesk_flash"
FORM_CSRF_COOKIE = "storedesk_form_csrf"  # double-submit token for forms shown before sign-in
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    def __init__(self, *, expired: bool) -> None:
        super().__init__("sign in")
        self.expired = expired


@dataclass
class WebContext:
    """The signed-in agent a page is rendered for."""

    auth: AuthContext
    agent: Agent
    shop: Shop
    language: str

    @property
    def shop_id(self) -> int:
        return self.auth.shop_id

    @property
    def csrf_token(self) -> str:
        return self.auth.csrf_token or ""

    @property
    def role(self) -> Role:
        return self.auth.role

    def can(self, role: str) -> bool:
        return ROLE_RANK[self.auth.role] >= ROLE_RANK[Role(role)]

    def require(self, role: Role) -> None:
        self.auth.require(role)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def activate_language(request: Request) -> str:
    """Before sign-in (and for agents who chose none in their profile): ``?ui=``, the cookie, then
    Accept-Language. :func:`web_context` then applies the profile's language."""
    chosen = request.query_params.get("ui") if request.method == "GET" else None
    language = i18n.negotiate(
        request.headers.get("accept-language"), chosen or request.cookies.get(LANG_COOKIE)
    )
    i18n.activate(language)
    return language


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _sent_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_csrf(request: Request, expected: str | None) -> None:
    """A state-changing request needs the session's CSRF token (header or form field) and must not
    come from another origin."""
    sent = await _sent_csrf(request)
    if not expected or not constant_time_equals(sent, expected):
        raise Forbidden("the form has expired", code="csrf_failed", reason="csrf_expired")
    if not _same_origin(request):
        raise Forbidden("cross-origin request refused", code="csrf_failed", reason="cross_origin")


async def check_form_csrf(request: Request) -> None:
    """Forms shown before sign-in (login, password reset) use a double-submit cookie."""
    await check_csrf(request, request.cookies.get(FORM_CSRF_COOKIE))


def form_csrf_token(request: Request) -> str:
    return request.cookies.get(FORM_CSRF_COOKIE) or secrets.token_urlsafe(24)


async def web_context(request: Request, session: Session) -> WebContext:
    language = activate_language(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginRequired(expired=False)
    try:
        auth = await authenticate_token(session, cookie)
    except Unauthenticated:
        raise LoginRequired(expired=True) from None
    if auth.token_kind != TokenKind.session:
        raise LoginRequired(expired=False)
    if request.method not in SAFE_METHODS:
        await check_csrf(request, auth.csrf_token)
    agent = await AgentRepository(session, auth.shop_id).get_or_404(auth.agent_id)
    if agent.ui_language in i18n.SUPPORTED_LANGUAGES:  # the profile's choice wins once signed in
        language = str(agent.ui_language)
        i18n.activate(language)
    shop = await get_shop(session, auth.shop_id)
    ctx = WebContext(auth=auth, agent=agent, shop=shop, language=language)
    request.state.web = ctx
    return ctx


Web = Annotated[WebContext, Depends(web_context)]


async def agent_context(ctx: Web) -> WebContext:
    ctx.require(Role.agent)
    return ctx


async def admin_context(ctx: Web) -> WebContext:
    ctx.require(Role.admin)
    return ctx


AgentWeb = Annotated[WebContext, Depends(agent_context)]
AdminWeb = Annotated[WebContext, Depends(admin_context)]


async def undo(session: Any, ctx: WebContext) -> None:
    """Roll back a failed change before showing the form again: nothing of it is kept or announced."""
    await session.rollback()
    session.info.pop("realtime", None)
    session.info.pop("post_commit", None)
    await session.refresh(ctx.agent)
    await session.refresh(ctx.shop)


# --- rendering -------------------------------------------------------------------------------------------


def base_context(request: Request) -> dict[str, Any]:
    web: WebContext | None = getattr(request.state, "web", None)
    flash = request.cookies.get(FLASH_COOKIE)
    return {
        "request": request,
        "web": web,
        "agent": web.agent if web else None,
        "shop": web.shop if web else None,
        "csrf_token": web.csrf_token if web else "",
        "lang": i18n.current_language(),
        "languages": i18n.LANGUAGE_NAMES,
        "tz": web.shop.timezone if web else "UTC",
        "flash": _unquote_flash(flash) if flash else None,
        "htmx": is_htmx(request),
    }


def _unquote_flash(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)[:300]


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = base_context(request)
    ctx.update(context or {})
    response = HTMLResponse(render(template, ctx), status_code=status_code, headers=headers)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    if ctx["flash"]:
        response.delete_cookie(FLASH_COOKIE, path="/app")
    return response


def redirect(url: str, *, flash: str | None = None, request: Request | None = None) -> Response:
    """Post/redirect/get; for htmx requests an ``HX-Redirect`` (the browser follows it)."""
    if request is not None and is_htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash[:300]), path="/app", httponly=True, samesite="lax")
    return response


def safe_next(url: str | None) -> str:
    """Only local /app paths are followed after sign-in."""
    if url and url.startswith("/app") and not url.startswith("//") and "\\" not in url:
        return url
    return "/app/inbox"


# --- errors ----------------------------------------------------------------------------------------------


def _login_redirect(request: Request, expired: bool) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in SAFE_METHODS or target.startswith("/app/events"):
        target = request.headers.get("hx-current-url", "") or "/app/inbox"
        target = urlsplit(target).path or "/app/inbox"
    query = {"next": target}
    if expired:
        query["expired"] = "1"
    url = "/app/login?" + urlencode(query)
    if request.url.path.startswith("/app/events"):
        return Response(status_code=401)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def error_response(request: Request, status: int, message: str) -> Response:
    headers = {"X-Storedesk-Error": quote(message[:300])}
    if is_htmx(request):
        return Response(message, status_code=status, headers=headers, media_type="text/plain")
    titles = {403: _("Not allowed"), 404: _("Not found"), 409: _("That did not work"), 429: _("Slow down")}
    return page(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, _("Something is wrong")), "message": message},
        status_code=status,
        headers=headers,
    )


class WebRoute(APIRoute):
    """Errors of the agent workspace leave as HTML (or an htmx error), never as API JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            activate_language(request)
            try:
                return await handler(request)
            except LoginRequired as exc:
                return _login_redirect(request, exc.expired)
            except StoredeskError as exc:
                if isinstance(exc, Unauthenticated):
                    return _login_redirect(request, True)
                return error_response(request, exc.status_code, error_text(exc))
            except RequestValidationError:
                return error_response(request, 400, _("The request is not valid."))

        return wrapped
