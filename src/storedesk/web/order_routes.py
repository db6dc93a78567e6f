"""Order actions in the conversation's customer sidebar: a small form per action, the preview the
commerce service returns, a Confirm button, then the result (or the platform's refusal) in place and a
refreshed sidebar with the order's audit trail.

Thin: the form is parsed into the API's own request schemas and run through
``commerce.action_requests.perform`` — the same write path as ``/api/v1/orders/{id}/actions/*``. The
request's transaction is committed before the service is called (the service opens its own transactions
and calls the platform with none open).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import get_currency_precision
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from storedesk.api.deps import Session
from storedesk.commerce.action_requests import ROUTES, perform
from storedesk.commerce.connectors.common import from_minor, to_minor
from storedesk.commerce.connectors.protocol import ADDRESS_FIELDS
from storedesk.commerce.models import Order
from storedesk.commerce.repository import OrderRepository
from storedesk.commerce.schemas import Confirmable
from storedesk.commerce.service import ConfirmationRequired
from storedesk.conversations.models import ConversationStatus
from storedesk.conversations.repository import InboxRepository
from storedesk.kit.errors import Forbidden, NotFound, StoredeskError, ValidationFailed
from storedesk.web import views
from storedesk.web.deps import AgentWeb, WebContext, WebRoute, is_htmx, page, redirect
from storedesk.web.errors import error_text
from storedesk.web.i18n import _
from storedesk.web.presence import presence

router = APIRouter(prefix="/app/c/{conversation_id}/orders/{order_id}", route_class=WebRoute)

BOOLEAN_FIELDS = {
    "cancel": ("restock", "refund", "notify"),
    "refund": ("restock", "notify"),
    "returns": ("notify",),
}
DEFAULTS: dict[str, dict[str, str]] = {
    "cancel": {"restock": "1", "refund": "1", "reason": "customer"},
    "refund": {"restock": "1"},
}
TEXT_LIMIT = 2000


@dataclass
class Panel:
    """What the order's action panel shows: the form (with values and errors), the preview, or nothing."""

    order_id: int
    slug: str
    state: str = "form"  # "form" | "preview"
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    preview: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return ROUTES[self.slug][0].value


def _checked(form: FormData | dict[str, str], name: str) -> bool:
    return str(form.get(name) or "") in ("1", "on", "true")


def _values(slug: str, form: FormData) -> dict[str, str]:
    """The submitted fields as strings (to show again, or to carry from the preview to the confirmation)."""
    out = {
        k: str(v)[:TEXT_LIMIT]
        for k, v in form.items()
        if isinstance(v, str) and k not in ("csrf_token", "step")
    }
    for name in BOOLEAN_FIELDS.get(slug, ()):
        out[name] = "1" if _checked(form, name) else ""
    return out


def _quantities(values: dict[str, str], errors: dict[str, str]) -> list[tuple[int, int]]:
    """``qty_<line id>`` fields with a quantity above zero."""
    out = []
    for key, raw in values.items():
        if not key.startswith("qty_") or not key[4:].isdigit() or not raw.strip():
            continue
        try:
            qty = int(raw)
        except ValueError:
            errors[key] = _("Enter a whole number.")
            continue
        if qty < 0:
            errors[key] = _("Enter a whole number.")
        elif qty:
            out.append((int(key[4:]), qty))
    return out


AMOUNT = re.compile(r"^[0-9]{1,10}(?:\.([0-9]+))?$")


def _amount(values: dict[str, str], name: str, currency: str, errors: dict[str, str]) -> int | None:
    """A money field in major units (``12.50``, ``12,50``) as minor units; no more decimals than the
    currency has."""
    raw = values.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    found = AMOUNT.match(raw)
    if found is None or len(found.group(1) or "") > get_currency_precision(currency.upper()):
        errors[name] = _("Enter an amount like 12.50.")
        return None
    return to_minor(raw, currency)


def _body(slug: str, values: dict[str, str], order: Order) -> tuple[dict[str, Any], dict[str, str]]:
    """The API request body for the form's values, and the errors found while reading them."""
    errors: dict[str, str] = {}
    if slug == "cancel":
        body: dict[str, Any] = {
            "restock": _checked(values, "restock"),
            "refund": _checked(values, "refund"),
            "reason": values.get("reason") or "customer",
            "notify": _checked(values, "notify"),
            "staff_note": values.get("staff_note", "").strip() or None,
        }
    elif slug == "refund":
        lines = _quantities(values, errors)
        shipping = _amount(values, "shipping", order.currency, errors)
        amount = _amount(values, "amount", order.currency, errors)
        if amount == 0:
            errors["amount"] = _("Enter an amount like 12.50.")
        body = {
            "lines": [{"line_id": line_id, "quantity": qty} for line_id, qty in lines],
            "shipping_minor": shipping or 0,
            "amount_minor": amount,
            "reason": values.get("reason", "").strip() or None,
            "restock": _checked(values, "restock"),
            "notify": _checked(values, "notify"),
        }
        if not errors and not lines and not shipping and amount is None:
            errors["lines"] = _("Choose what to refund: a quantity of a line, shipping or an amount.")
    elif slug == "shipping-address":
        address = {k: values.get(k, "").strip() or None for k in ADDRESS_FIELDS}
        body = {"address": address}
    elif slug == "note":
        body = {"note": values.get("note", "")}
    elif slug == "tags":
        body = {"tags": [t.strip() for t in values.get("tags", "").split(",") if t.strip()]}
    elif slug == "returns":
        reason = values.get("reason") or None
        lines = _quantities(values, errors)
        body = {
            "lines": [{"line_id": line_id, "quantity": qty, "reason": reason} for line_id, qty in lines],
            "note": values.get("note", "").strip() or None,
            "notify": _checked(values, "notify"),
        }
        if not errors and not lines:
            errors["lines"] = _("Choose at least one item that comes back.")
    else:
        body = {}
    return body, errors


def _pydantic_errors(slug: str, exc: ValidationError, body: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if slug == "shipping-address" and loc[:1] == ["address"] and len(loc) > 1:
            name = loc[1]
        elif loc[:1] == ["lines"] and len(loc) > 1 and loc[1].isdigit() and slug in ("refund", "returns"):
            index = int(loc[1])
            lines = body.get("lines") or []
            name = f"qty_{lines[index]['line_id']}" if index < len(lines) else "lines"
        else:
            name = (
                {"shipping_minor": "shipping", "amount_minor": "amount"}.get(loc[0], loc[0])
                if loc
                else "form"
            )
        kind = str(err.get("type", ""))
        if kind in ("missing", "string_too_short", "too_short") or (
            kind == "string_type" and err.get("input") is None
        ):
            message = _("Required.")
        elif kind in ("string_too_long", "too_long"):
            message = _("Too long.")
        elif kind in ("literal_error", "enum"):
            message = _("Choose one of the options.")
        else:
            message = _("This value is not valid.")
        errors.setdefault(name, message)
    return errors


def _service_errors(slug: str, exc: ValidationFailed, order: Order) -> dict[str, str]:
    """Our wording, next to the field, for what the commerce service refused."""
    details = exc.details if isinstance(exc.details, dict) else {}
    where = str(details.get("field") or "form")
    if where == "address":
        missing = [str(m) for m in details.get("missing") or []]
        return {m: _("Required.") for m in missing} or {"form": error_text(exc)}
    if where == "country_code":
        return {"country_code": _("Use the two-letter country code, e.g. DE.")}
    if where == "lines" and details.get("line_id") is not None:
        left = details.get("refundable_quantity", details.get("returnable_quantity"))
        return {f"qty_{details['line_id']}": _("At most %(n)s.", n=left)}
    if where == "amount_minor" and details.get("refundable_minor") is not None:
        return {
            "amount": _(
                "More than is left to refund (%(amount)s).",
                amount=f"{from_minor(int(details['refundable_minor']), order.currency)} {order.currency}",
            )
        }
    if where == "shipping_minor":
        return {"shipping": error_text(exc)}
    if where == "amount_minor":
        return {"lines": _("Choose what to refund: a quantity of a line, shipping or an amount.")}
    name = {"tags": "tags", "note": "note", "reason": "reason", "lines": "lines"}.get(where, "form")
    return {name: error_text(exc)}


async def _order(session: Session, ctx: WebContext, conversation_id: int, order_id: int) -> Order:
    conversation = await InboxRepository(session, ctx.shop_id).get_or_404(conversation_id)
    order = await OrderRepository(session, ctx.shop_id).get_or_404(order_id)
    if order.customer_id != conversation.customer_id:
        raise NotFound("order", order_id)
    return order


def _slug(slug: str) -> str:
    if slug not in ROUTES:
        raise NotFound("order action", slug)
    return slug


async def _render(
    request: Request,
    ctx: WebContext,
    session: Session,
    conversation_id: int,
    *,
    panel: Panel | None = None,
    notice: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """htmx: the panel alone (form, preview) or the whole sidebar (after a result). Without htmx: the
    conversation page with the panel open."""
    if is_htmx(request) and panel is not None:
        conversation = await InboxRepository(session, ctx.shop_id).get_or_404(conversation_id)
        order = await OrderRepository(session, ctx.shop_id).get_or_404(panel.order_id)
        (ov,) = await views.order_views(session, ctx.shop_id, conversation.customer_id, [order])
        return page(
            request,
            "partials/order_panel.html",
            {"conv": conversation, "ov": ov, "panel": panel},
            status_code=status_code,
        )
    if is_htmx(request):
        data = await views.sidebar_page(session, ctx.shop, conversation_id)
        return page(
            request,
            "partials/sidebar.html",
            {"c": data, "conv": data.conversation, "notice": notice},
            status_code=status_code,
            headers={"HX-Retarget": "#sidebar", "HX-Reswap": "outerHTML"},
        )
    data = await views.conversation_page(session, ctx.shop, conversation_id)
    context: dict[str, Any] = {
        "c": data,
        "conv": data.conversation,
        "panel": panel,
        "notice": notice,
    }
    params = views.InboxParams.parse({})
    found = await views.inbox_rows(session, ctx.shop_id, ctx.agent.id, params, data.directory)
    context.update(
        params=params,
        others=presence.others(ctx.shop_id, conversation_id, ctx.agent.id),
        statuses=[s.value for s in ConversationStatus],
        priorities=views.PRIORITIES,
        rows=found.rows,
        pager=found,
        current=conversation_id,
        compact=True,
        composer={},
    )
    return page(request, "conversation.html", context, status_code=status_code)


@router.get("/{slug}")
async def action_form(
    request: Request, ctx: AgentWeb, session: Session, conversation_id: int, order_id: int, slug: str
) -> Response:
    slug = _slug(slug)
    order = await _order(session, ctx, conversation_id, order_id)
    values = dict(DEFAULTS.get(slug, {}))
    if slug == "shipping-address":
        values.update({k: str(v) for k, v in (order.shipping_address or {}).items() if v is not None})
    if slug == "refund" and order.shipping_minor:
        values.setdefault("shipping", "")
    panel = Panel(order_id=order.id, slug=slug, values=values)
    return await _render(request, ctx, session, conversation_id, panel=panel)


@router.post("/{slug}")
async def action_submit(
    request: Request, ctx: AgentWeb, session: Session, conversation_id: int, order_id: int, slug: str
) -> Response:
    slug = _slug(slug)
    order = await _order(session, ctx, conversation_id, order_id)
    form = await request.form()
    confirm = form.get("step") == "confirm"
    values = _values(slug, form)
    panel = Panel(order_id=order.id, slug=slug, values=values)
    if form.get("step") == "edit":  # back from the preview to the form, values kept
        return await _render(request, ctx, session, conversation_id, panel=panel)
    body, panel.errors = _body(slug, values, order)
    schema: type[Confirmable] = ROUTES[slug][1]
    parsed: Confirmable | None = None
    if not panel.errors:
        try:
            parsed = schema.model_validate(body)
        except ValidationError as exc:
            panel.errors = _pydantic_errors(slug, exc, body)
    if parsed is None:
        return await _render(request, ctx, session, conversation_id, panel=panel, status_code=422)
    await session.commit()  # no transaction stays open while the platform is asked
    session.expunge(order)  # the service changes it: read it afresh for the sidebar
    try:
        result = await perform(
            request.app.state.db,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            order_id=order.id,
            body=parsed,
            confirm=confirm,
            box=request.app.state.box,
        )
    except ConfirmationRequired as exc:
        panel.state = "preview"
        panel.preview = dict((exc.details or {}).get("preview") or {})
        return await _render(request, ctx, session, conversation_id, panel=panel)
    except (NotFound, Forbidden):
        raise
    except ValidationFailed as exc:
        panel.errors = _service_errors(slug, exc, order)
        return await _render(request, ctx, session, conversation_id, panel=panel, status_code=422)
    except StoredeskError as exc:
        if not confirm:  # our own rules said no before anything was sent: keep the form open
            panel.errors = {"form": error_text(exc)}
            return await _render(request, ctx, session, conversation_id, panel=panel, status_code=422)
        notice = {"order_id": order.id, "ok": False, "action": panel.action, "message": exc.message}
        if is_htmx(request):
            return await _render(request, ctx, session, conversation_id, notice=notice, status_code=422)
        return redirect(
            f"/app/c/{conversation_id}",
            flash=_("The store refused: %(why)s", why=exc.message),
            request=request,
        )
    notice = {
        "order_id": order.id,
        "ok": True,
        "pending": result.status == "pending",
        "action": panel.action,
        "message": result.message,
    }
    if is_htmx(request):
        return await _render(request, ctx, session, conversation_id, notice=notice)
    return redirect(f"/app/c/{conversation_id}", flash=result.message, request=request)
