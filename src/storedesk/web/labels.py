"""Display names of our enums, marked for the catalogue (translated where they are shown)."""

from __future__ import annotations

from storedesk.web.i18n import N_

STATUS = {
    "open": N_("Open"),
    "pending": N_("Pending"),
    "snoozed": N_("Snoozed"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    "any": N_("Any status"),
}
PRIORITY = {"urgent": N_("Urgent"), "high": N_("High"), "normal": N_("Normal"), "low": N_("Low")}
VIEW = {
    "mine": N_("Mine"),
    "unassigned": N_("Unassigned"),
    "all": N_("All"),
    "sla": N_("SLA due soon"),
}
SORT = {
    "activity": N_("Last activity"),
    "waiting": N_("Waiting longest"),
    "priority": N_("Priority"),
    "oldest": N_("Oldest activity"),
}
CHANNEL = {
    "chat": N_("Chat"),
    "email": N_("Email"),
    "whatsapp": N_("WhatsApp"),
    "messenger": N_("Messenger"),
    "instagram": N_("Instagram"),
    "sms": N_("SMS"),
    "voice": N_("Voice"),
    "webform": N_("Web form"),
    "api": N_("API"),
}
ROLE = {"admin": N_("Admin"), "agent": N_("Agent"), "viewer": N_("Viewer")}
DELIVERY = {
    "received": N_("Received"),
    "queued": N_("Queued"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "read": N_("Read"),
    "failed": N_("Failed"),
}
FINANCIAL = {
    "pending": N_("Payment pending"),
    "paid": N_("Paid"),
    "partially_refunded": N_("Partially refunded"),
    "refunded": N_("Refunded"),
    "voided": N_("Voided"),
}
FULFILLMENT = {"unfulfilled": N_("Unfulfilled"), "partial": N_("Partly shipped"), "fulfilled": N_("Shipped")}
SHIPMENT = {
    "label_created": N_("Label created"),
    "in_transit": N_("In transit"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Delivered"),
    "exception": N_("Delivery problem"),
    "returned_to_sender": N_("Returned to sender"),
}
RETURN = {
    "requested": N_("Requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "label_issued": N_("Label issued"),
    "in_transit": N_("In transit"),
    "received": N_("Received"),
    "inspected": N_("Inspected"),
    "refunded": N_("Refunded"),
    "exchanged": N_("Exchanged"),
    "store_credit": N_("Store credit"),
}
NOTIFICATION = {"assignment": N_("Assigned to you"), "mention": N_("You were mentioned")}
ROLE_RIGHTS = (
    (N_("Read conversations, customers and orders"), ("admin", "agent", "viewer")),
    (N_("Reply, write notes, use macros"), ("admin", "agent")),
    (N_("Assign, tag, change status and priority"), ("admin", "agent")),
    (N_("Bulk actions in the inbox"), ("admin", "agent")),
    (N_("Settings: channels, agents, teams, macros, hours"), ("admin",)),
)
# order actions in the sidebar: the URL slug (commerce.action_requests.ROUTES) → button label
ORDER_ACTION = {
    "cancel": N_("Cancel order"),
    "refund": N_("Refund"),
    "shipping-address": N_("Change address"),
    "note": N_("Add note"),
    "tags": N_("Add tags"),
    "returns": N_("Start a return"),
    "resend-confirmation": N_("Resend confirmation"),
}
# the audit trail of an order (commerce.service.AUDIT_EVENT_TYPES)
ORDER_EVENT = {
    "order.cancelled": N_("cancelled the order"),
    "order.refunded": N_("refunded"),
    "order.shipping_address_changed": N_("changed the shipping address"),
    "order.note_added": N_("added a note"),
    "order.tagged": N_("added tags"),
    "order.return_created": N_("opened a return"),
    "order.confirmation_resent": N_("resent the confirmation"),
    "order.action_refused": N_("was refused by the store"),
}
CANCEL_REASON = {
    "customer": N_("Customer asked"),
    "inventory": N_("Out of stock"),
    "fraud": N_("Fraud suspected"),
    "declined": N_("Payment declined"),
    "staff": N_("Staff error"),
    "other": N_("Other"),
}
RETURN_REASON = {
    "defective": N_("Defective"),
    "not_as_described": N_("Not as described"),
    "wrong_item": N_("Wrong item"),
    "unwanted": N_("No longer wanted"),
    "size_too_small": N_("Too small"),
    "size_too_large": N_("Too large"),
    "style": N_("Style"),
    "color": N_("Colour"),
    "other": N_("Other"),
}
# an action's name (commerce Action) → its URL slug, in the order the sidebar shows the buttons
ACTION_SLUG = {
    "cancel": "cancel",
    "refund": "refund",
    "shipping_address": "shipping-address",
    "create_return": "returns",
    "resend_confirmation": "resend-confirmation",
    "note": "note",
    "tags": "tags",
}
