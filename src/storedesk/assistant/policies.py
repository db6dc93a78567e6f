"""The shop's assistant policy: ``Shop.policies["assistant"]`` over sensible defaults.

Keys (all optional):

* ``enabled`` (false) — the assistant answers and acts on new customer messages by itself;
* ``suggestions`` (true) — when ``enabled`` is false, the assistant still reads every new customer message
  and stores a suggested reply for the agents ("suggest only": nothing is sent or changed); false turns the
  assistant off completely;
* ``languages`` — the languages it may answer in (default: the shop's languages);
* ``automated_intents`` — intents it may answer or act on without an agent (default below); any other
  intent is suggested to an agent, never sent;
* ``allow_cancel`` / ``allow_address_change`` (true) — the two order actions it may take after the
  customer confirmed;
* ``handover_team`` — team name (or id) that receives hand-overs when no agent speaks the language;
* ``handover_on_angry_tone`` (true) — an angry message always goes to a person;
* ``resolve_after_answer`` (true) — a conversation the assistant fully answered is resolved (it reopens
  when the customer writes again);
* ``delivery_options`` / ``payment_methods`` / ``invoice`` — text per language (``{"en": "…"}``) the
  assistant quotes; without it the help center is searched;
* ``pending_hours`` (24) — how long a question ("shall I cancel?") waits for the customer's answer.

The business rules themselves (cancellation window, return window, refund processing days) are the
shop's flat policies (``cancellation_window_hours``, ``return_window_days``, ``refund_processing_days``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AUTOMATED_INTENTS: tuple[str, ...] = (
    "track_order",
    "cancel_order",
    "change_shipping_address",
    "return_request",
    "return_policy",
    "refund_status",
    "delivery_options",
    "payment_methods",
    "invoice_request",
    "product_question",
    "stock_availability",
    "feedback_praise",
)
# always a person: the customer has a problem the assistant cannot fix from data
HANDOVER_INTENTS: frozenset[str] = frozenset(
    {
        "damaged_or_wrong_item",
        "delivery_problem",
        "payment_problem",
        "complaint",
        "talk_to_human",
        "refund_request",
        "change_order",
        "discount_problem",
        "account_help",
        "unsubscribe",
        "other",
    }
)
# hand-overs that deserve a higher priority than normal
RAISE_PRIORITY: dict[str, str] = {
    "damaged_or_wrong_item": "high",
    "payment_problem": "high",
    "delivery_problem": "high",
    "complaint": "high",
}


@dataclass(frozen=True)
class AssistantPolicy:
    enabled: bool = False
    suggestions: bool = True
    languages: tuple[str, ...] = ()
    automated_intents: frozenset[str] = frozenset(AUTOMATED_INTENTS)
    allow_cancel: bool = True
    allow_address_change: bool = True
    handover_team: str | int | None = None
    handover_on_angry_tone: bool = True
    resolve_after_answer: bool = True
    pending_hours: int = 24
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # the shop's business rules
    cancellation_window_hours: int = 24
    refund_processing_days: int = 5

    @property
    def mode(self) -> str:
        """``auto`` (answers and acts), ``suggest`` (suggested replies for agents only) or ``off``."""
        if self.enabled:
            return "auto"
        return "suggest" if self.suggestions else "off"

    def text(self, key: str, language: str, default_language: str) -> str | None:
        by_lang = self.texts.get(key) or {}
        return by_lang.get(language) or None

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "suggestions": self.suggestions,
            "mode": self.mode,
            "languages": list(self.languages),
            "automated_intents": sorted(self.automated_intents),
            "allow_cancel": self.allow_cancel,
            "allow_address_change": self.allow_address_change,
            "handover_team": self.handover_team,
            "handover_on_angry_tone": self.handover_on_angry_tone,
            "resolve_after_answer": self.resolve_after_answer,
            "pending_hours": self.pending_hours,
            "cancellation_window_hours": self.cancellation_window_hours,
            "refund_processing_days": self.refund_processing_days,
        }


TEXT_KEYS = ("delivery_options", "payment_methods", "invoice")


def _texts(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v).strip() for k, v in raw.items() if isinstance(v, str) and v.strip()}


def _int(raw: Any, default: int) -> int:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 else default


def parse(policies: Mapping[str, Any] | None, shop_languages: list[str] | None = None) -> AssistantPolicy:
    """The policy of a shop; unknown or malformed values fall back to the defaults (never raises)."""
    policies = policies or {}
    raw = policies.get("assistant")
    conf: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    langs = conf.get("languages")
    languages = tuple(
        str(x) for x in (langs if isinstance(langs, list) and langs else (shop_languages or ["en"]))
    )
    intents = conf.get("automated_intents")
    team = conf.get("handover_team")
    return AssistantPolicy(
        enabled=conf.get("enabled") is True,
        suggestions=conf.get("suggestions", True) is not False,
        languages=languages,
        automated_intents=frozenset(str(i) for i in intents)
        if isinstance(intents, list)
        else frozenset(AUTOMATED_INTENTS),
        allow_cancel=conf.get("allow_cancel", True) is not False,
        allow_address_change=conf.get("allow_address_change", True) is not False,
        handover_team=team if isinstance(team, str | int) and not isinstance(team, bool) else None,
        handover_on_angry_tone=conf.get("handover_on_angry_tone", True) is not False,
        resolve_after_answer=conf.get("resolve_after_answer", True) is not False,
        pending_hours=_int(conf.get("pending_hours"), 24) or 24,
        texts={key: _texts(conf.get(key)) for key in TEXT_KEYS},
        cancellation_window_hours=_int(policies.get("cancellation_window_hours"), 24),
        refund_processing_days=_int(policies.get("refund_processing_days"), 5),
    )
