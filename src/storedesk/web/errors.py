"""Service errors in the agent's language.

Services raise :class:`~storedesk.kit.errors.StoredeskError` with a stable ``reason`` and its ``params``
(the JSON API sends the English ``message`` and the error's ``code``). Here each reason has its text as a
catalogue msgid, filled with the params — statuses and roles among them shown by their translated
labels. ``tests/web/test_errors_i18n.py`` checks that every reason raised anywhere in ``src/storedesk``
is listed here with the same placeholders; ``tests/web/test_catalogue.py`` that each has its German.
"""

from __future__ import annotations

from typing import Any

from storedesk.kit.errors import Forbidden, NotFound, StoredeskError, TooManyRequests
from storedesk.web import labels
from storedesk.web.i18n import N_, _

REASONS: dict[str, str] = {
    "not_found": N_("This page does not exist, or it belongs to another shop."),
    "role_required": N_("Your role does not allow this."),
    "csrf_expired": N_("The form has expired. Reload the page and try again."),
    "cross_origin": N_("Cross-origin request refused."),
    "cursor_invalid": N_("This page link is not valid: it was changed or is out of date."),
    # conversations
    "text_too_long": N_("The text is longer than %(max)s characters."),
    "message_empty": N_("Write a message or attach a file."),
    "conversation_closed": N_("The conversation is closed: replies are not possible."),
    "status_transition": N_("A conversation that is %(from)s cannot become %(to)s."),
    "status_unchanged": N_("The conversation is already %(status)s."),
    "status_missing": N_("Choose a status."),
    "snooze_in_past": N_("Pick a time in the future."),
    "snooze_without_status": N_("A snooze time is only for the status Snoozed."),
    "assignee_deactivated": N_("%(name)s is deactivated and cannot be assigned."),
    "tag_invalid": N_("A tag has 1–%(max)s characters and no commas."),
    "tag_missing": N_("Type a tag to add."),
    "bulk_action_unknown": N_("Choose an action."),
    "bulk_snooze": N_("Snooze conversations one at a time."),
    # KPI reports
    "report_dates_reversed": N_("The end date is before the start date."),
    "report_dates_range": N_("Dates are between %(min)s and %(max)s."),
    "report_too_long": N_("A report covers at most %(max)s days."),
    "report_group_by": N_("Group by one of: %(options)s."),
    # reviews
    "review_reply_length": N_("A reply has 1–%(max)s characters."),
    "customer_unreachable": N_("There is no channel to reach this customer on."),
    # agents, teams, macros
    "agent_name_blank": N_("Enter a name of 1–%(max)s characters, not only spaces."),
    "password_too_short": N_("The password needs at least %(min)s characters."),
    "agent_email_taken": N_("An agent with the email %(email)s already exists."),
    "self_demotion": N_("You cannot demote or deactivate yourself."),
    "email_in_several_shops": N_("This email belongs to agents of several shops: say which shop."),
    "team_name_taken": N_("A team named “%(name)s” already exists."),
    "macro_name_invalid": N_("A macro needs a name of 1–%(max)s characters."),
    "macro_empty": N_("Write the macro in at least one language."),
    "macro_language": N_("%(language)s is not one of the shop's languages."),
    "macro_variable_unknown": N_("Unknown variable: %(variables)s"),
    "macro_name_taken": N_("A macro named “%(name)s” already exists."),
    "macro_intent_unknown": N_("%(intent)s is not a known customer question."),
    "ui_language_unknown": N_("Choose one of the offered languages."),
}

_NOT_FOUND, _ROLE_REQUIRED = "not_found", "role_required"

# params shown by their label (translated) rather than their value
_LABELLED: dict[str, dict[str, str]] = {
    "from": labels.STATUS,
    "to": labels.STATUS,
    "status": labels.STATUS,
}


def _param(name: str, value: Any) -> Any:
    table = _LABELLED.get(name)
    if table is not None and isinstance(value, str) and value in table:
        return _(table[value])
    return value


def error_text(exc: StoredeskError) -> str:
    """What the agent reads for a service error, in the current UI language."""
    template = REASONS.get(exc.reason or "")
    if template is not None:
        return _(template, **{k: _param(k, v) for k, v in exc.params.items()})
    if isinstance(exc, NotFound):
        return _(REASONS[_NOT_FOUND])
    if isinstance(exc, Forbidden):
        return _(REASONS[_ROLE_REQUIRED])
    if isinstance(exc, TooManyRequests):
        return _("Too many attempts. Try again later.")
    # an error whose service gives no reason yet: its English text, translated where the catalogue has it
    return _(exc.message)
