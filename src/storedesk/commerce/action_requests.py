"""One order-action request, parsed once, run through its service function: shared by the REST API
(``actions_endpoints``) and the agent UI's sidebar forms (``storedesk.web.order_routes``), so both
transports validate the same way and reach the same write path."""

from __future__ import annotations

from storedesk.commerce import service
from storedesk.commerce.connectors.protocol import Action
from storedesk.commerce.schemas import (
    CancelIn,
    Confirmable,
    NoteIn,
    RefundIn,
    ResendIn,
    ReturnIn,
    ShippingAddressIn,
    TagsIn,
)
from storedesk.db.session import Database
from storedesk.kit.actor import Actor
from storedesk.kit.crypto import SecretBox

# the action's name in URLs (the API's and the agent UI's) → the action and the body it takes
ROUTES: dict[str, tuple[Action, type[Confirmable]]] = {
    "cancel": (Action.cancel, CancelIn),
    "refund": (Action.refund, RefundIn),
    "shipping-address": (Action.shipping_address, ShippingAddressIn),
    "note": (Action.note, NoteIn),
    "tags": (Action.tags, TagsIn),
    "returns": (Action.create_return, ReturnIn),
    "resend-confirmation": (Action.resend_confirmation, ResendIn),
}
SLUGS: dict[Action, str] = {action: slug for slug, (action, _) in ROUTES.items()}


async def perform(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    body: Confirmable,
    confirm: bool | None = None,
    box: SecretBox | None = None,
) -> service.ActionResult:
    """Run ``body`` (one of the action schemas) on the order. ``confirm`` overrides ``body.confirm``.
    Raises what the service raises: ``ConfirmationRequired`` (with the preview) when not confirmed."""
    sure = body.confirm if confirm is None else confirm
    if isinstance(body, CancelIn):
        return await service.cancel_order(
            db,
            restock=body.restock,
            refund=body.refund,
            reason=body.reason,
            notify=body.notify,
            staff_note=body.staff_note,
            shop_id=shop_id,
            actor=actor,
            order_id=order_id,
            confirm=sure,
            box=box,
        )
    if isinstance(body, RefundIn):
        return await service.refund_order(
            db,
            lines=[(line.line_id, line.quantity) for line in body.lines],
            shipping_minor=body.shipping_minor,
            amount_minor=body.amount_minor,
            reason=body.reason,
            restock=body.restock,
            notify=body.notify,
            shop_id=shop_id,
            actor=actor,
            order_id=order_id,
            confirm=sure,
            box=box,
        )
    if isinstance(body, ShippingAddressIn):
        return await service.update_shipping_address(
            db,
            address=body.address.model_dump(),
            shop_id=shop_id,
            actor=actor,
            order_id=order_id,
            confirm=sure,
            box=box,
        )
    if isinstance(body, NoteIn):
        return await service.add_note(
            db, note=body.note, shop_id=shop_id, actor=actor, order_id=order_id, confirm=sure, box=box
        )
    if isinstance(body, TagsIn):
        return await service.add_tags(
            db, tags=body.tags, shop_id=shop_id, actor=actor, order_id=order_id, confirm=sure, box=box
        )
    if isinstance(body, ReturnIn):
        return await service.create_return(
            db,
            lines=[(line.line_id, line.quantity, line.reason) for line in body.lines],
            note=body.note,
            notify=body.notify,
            shop_id=shop_id,
            actor=actor,
            order_id=order_id,
            confirm=sure,
            box=box,
        )
    if isinstance(body, ResendIn):
        return await service.resend_confirmation(
            db, shop_id=shop_id, actor=actor, order_id=order_id, confirm=sure, box=box
        )
    raise TypeError(f"not an order action: {type(body).__name__}")
