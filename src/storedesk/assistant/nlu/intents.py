"""The intent taxonomy. Names are stable: other code and stored data refer to them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IntentDef:
    name: str
    definition: str


INTENT_DEFS: tuple[IntentDef, ...] = (
    IntentDef("track_order", "asks where an order is or when it arrives"),
    IntentDef(
        "delivery_options",
        "shipping methods, costs, times and countries, before or without a specific order",
    ),
    IntentDef("cancel_order", "wants to cancel an order"),
    IntentDef("change_order", "change items, size, colour or quantity of an existing order"),
    IntentDef("change_shipping_address", "change the delivery address of an order"),
    IntentDef("return_request", "wants to return or exchange an item"),
    IntentDef("return_policy", "asks about the return rules: window, costs, conditions"),
    IntentDef("refund_request", "wants money back, e.g. for a late or cancelled order"),
    IntentDef("refund_status", "asks where a refund is"),
    IntentDef(
        "damaged_or_wrong_item",
        "arrived broken or defective, wrong item, size or colour, or items missing from the parcel",
    ),
    IntentDef(
        "delivery_problem",
        "marked delivered but not received, lost, returned to sender, wrong address",
    ),
    IntentDef("payment_problem", "payment declined, charged twice, charged but no order"),
    IntentDef("payment_methods", "asks which payment methods are accepted"),
    IntentDef("invoice_request", "wants an invoice or receipt, or a corrected one"),
    IntentDef("discount_problem", "discount or voucher code not working, price adjustment"),
    IntentDef(
        "product_question",
        "product specs, sizing, material or compatibility before buying",
    ),
    IntentDef("stock_availability", "back in stock, restock dates, availability of a variant"),
    IntentDef("account_help", "login, password, account data, deleting the account"),
    IntentDef("unsubscribe", "stop marketing messages (newsletter, SMS offers)"),
    IntentDef("talk_to_human", "wants a human agent"),
    IntentDef("complaint", "dissatisfied with the service in general"),
    IntentDef("feedback_praise", "thanks, compliments"),
    IntentDef("other", "anything outside this taxonomy"),
)

INTENTS: tuple[str, ...] = tuple(d.name for d in INTENT_DEFS)
INTENT_INDEX: dict[str, int] = {name: i for i, name in enumerate(INTENTS)}


def definition(name: str) -> str:
    """The one-line definition of ``name``; ``KeyError`` for an unknown intent."""
    for d in INTENT_DEFS:
        if d.name == name:
            return d.definition
    raise KeyError(name)
