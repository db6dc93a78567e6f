"""The order tracking page: ``/track/{shop}`` (order number + email) and ``/track/{shop}/o/{token}``
(a signed link from any message). ``?embed=1`` renders it without the site frame for the chat widget.

A wrong number/email combination always gets the same neutral answer (status 200, same page, same
work on the server), and lookups are rate limited per client address and per order number.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

import storedesk.helpcenter.i18n
import storedesk.tracking.i18n  # noqa: F401
from storedesk.api.deps import Session
from storedesk.helpcenter.public import country_zone, negotiate, render_public, t, zone
from storedesk.helpcenter.web import PublicRoute, frame, shop_for
from storedesk.shops.models import Shop
from storedesk.tracking import limits, service
from storedesk.tracking.i18n import STRINGS
from storedesk.tracking.links import LinkSigner

router = APIRouter(include_in_schema=False, route_class=PublicRoute)
KNOWN_STATUSES = frozenset(k for k in STRINGS["en"] if k.startswith("status."))


def signer(request: Request) -> LinkSigner:
    return LinkSigner(request.app.state.settings.secret_keys)


def _query(lang: str, embed: bool, tz: str | None = None) -> str:
    params: dict[str, str] = {"lang": lang}
    if embed:
        params["embed"] = "1"
    if tz:
        params["tz"] = tz
    return "?" + urlencode(params)


def _form(
    request: Request,
    shop: Shop,
    lang: str,
    embed: bool,
    *,
    error: str | None = None,
    number: str = "",
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        **frame(shop, lang, "track", lambda code: f"/track/{shop.slug}{_query(code, embed)}"),
        "error": error,
        "number": number,
        "action": f"/track/{shop.slug}{_query(lang, embed)}",
    }
    return render_public(request, "tracking/form.html", context, lang=lang, embed=embed, status_code=status)


@router.get("/track/{shop_slug}")
async def form(
    request: Request,
    session: Session,
    shop_slug: str,
    embed: Annotated[str | None, Query(max_length=2)] = None,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    return _form(request, shop, negotiate(request, shop.default_language, lang), embed == "1")


@router.post("/track/{shop_slug}")
async def lookup(
    request: Request,
    session: Session,
    shop_slug: str,
    number: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    tz: Annotated[str, Form(max_length=64)] = "",
    embed: Annotated[str | None, Query(max_length=2)] = None,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    shop = await shop_for(session, shop_slug)
    reader = negotiate(request, shop.default_language, lang)
    embedded = embed == "1"
    wanted = service.normalise_number(number)
    if not limits.lookup_allowed(request, shop.id, wanted):
        response = _form(
            request, shop, reader, embedded, error=t(reader, "track.rate_limited"), number=number, status=429
        )
        response.headers["Retry-After"] = "60"
        return response
    order = await service.find_order(session, shop_id=shop.id, number=number, email=email)
    if order is None:
        return _form(request, shop, reader, embedded, error=t(reader, "track.not_found"), number=number)
    path = service.tracking_path(signer(request), shop.slug, shop.id, order.id)
    return RedirectResponse(path + _query(reader, embedded, tz or None), status_code=303)


@router.get("/track/{shop_slug}/o/{token}")
async def order_page(
    request: Request,
    session: Session,
    shop_slug: str,
    token: str,
    embed: Annotated[str | None, Query(max_length=2)] = None,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    shop = await shop_for(session, shop_slug)
    embedded = embed == "1"
    target = signer(request).verify(token, "order")
    view = None
    if target is not None and target.shop_id == shop.id:
        view = await service.tracking_view(
            session, shop_id=shop.id, order_id=target.object_id, zone=zone(None, shop.timezone)
        )
    if view is None:
        reader = negotiate(request, shop.default_language, lang)
        return _form(request, shop, reader, embedded, error=t(reader, "track.link_invalid"), status=404)
    customer_lang = None
    if view.order.customer_id is not None:
        from storedesk.customers.repository import CustomerRepository

        customer = await CustomerRepository(session, shop.id).get(view.order.customer_id)
        customer_lang = customer.language if customer else None
    reader = negotiate(request, customer_lang or shop.default_language, lang)
    address = view.order.shipping_address or {}
    country = str(address.get("country_code") or address.get("country") or "")[:2] or None
    where = zone(tz, country_zone(country) or shop.timezone)
    if where.key != shop.timezone:  # recompute lateness in the reader's zone
        view = (
            await service.tracking_view(session, shop_id=shop.id, order_id=view.order.id, zone=where) or view
        )
    base = f"/track/{shop.slug}/o/{token}"
    return render_public(
        request,
        "tracking/order.html",
        {
            **frame(shop, reader, "track", lambda code: base + _query(code, embedded, tz)),
            "view": view,
            "known_statuses": KNOWN_STATUSES,
            "zone_name": where.key,
            "returns_url": f"/returns/{shop.slug}/o/{token}{_query(reader, embedded)}",
        },
        lang=reader,
        tz=where,
        embed=embedded,
    )
