"""The return policy engine: pure functions from (policy, order facts, now) to a decision with reasons.

Nothing here touches the database or the clock; the RMA service gathers the facts and passes ``now``.

The return window is counted in whole calendar days in the shop's time zone: an item delivered on local
day D with a 30-day window can be returned until the end of local day D + 30 (so daylight-saving changes
and the hour of delivery never shorten or lengthen it). Rules apply in this order: shop default →
country rule (``countries``) → product-category rule (``categories``, the most specific).

Money: a line's value is what was paid for it (its total, discounts included), pro rata per unit and
rounded down; a refund never exceeds what is still refundable on the order. Store credit may add a bonus
on top (it is credit, not money paid back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storedesk.kit.errors import ValidationFailed

WINDOW_STARTS = ("delivery", "order", "fulfilment")
METHODS = ("refund", "store_credit", "exchange")
CONDITIONS = ("unused", "original_packaging", "tags_attached", "sealed")
EU = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
MAX_WINDOW_DAYS = 3650


@dataclass(frozen=True)
class CountryRule:
    returns_allowed: bool = True
    window_days: int | None = None
    customer_pays_shipping: bool | None = None
    label_fee_minor: int | None = None
    customs_note: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CategoryRule:
    returnable: bool = True
    hygiene: bool = False
    window_days: int | None = None
    restocking_fee_percent: float | None = None
    conditions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ReturnPolicy:
    timezone: str = "UTC"
    home_country: str | None = None
    window_days: int = 30
    window_starts: str = "delivery"
    free_return_countries: frozenset[str] = frozenset()
    label_fee_minor: int = 0
    restocking_fee_percent: float = 0.0
    final_sale_returnable: bool = False
    hygiene_returnable_sealed: bool = True
    conditions: tuple[str, ...] = ("unused", "original_packaging")
    methods: tuple[str, ...] = METHODS
    store_credit_bonus_percent: float = 0.0
    auto_approve: bool = True
    countries: Mapping[str, CountryRule] = field(default_factory=dict)
    categories: Mapping[str, CategoryRule] = field(default_factory=dict)
    return_address: Mapping[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --- reading a shop's policies dict ------------------------------------------------------------------------


def _int(value: Any, name: str, lo: int = 0, hi: int = 10**9) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationFailed(f"{name} must be a whole number from {lo} to {hi}", details={"field": name})
    return value


def _pct(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValidationFailed(f"{name} must be a percentage from 0 to 100", details={"field": name})
    return float(value)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{name} must be true or false", details={"field": name})
    return value


def _country(code: Any, name: str) -> str:
    if not isinstance(code, str) or len(code) != 2 or not code.isalpha():
        raise ValidationFailed(f"{name}: {code!r} is not a two-letter country code", details={"field": name})
    return code.upper()


def _conditions(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or any(c not in CONDITIONS for c in value):
        raise ValidationFailed(f"{name} must be a list of {', '.join(CONDITIONS)}", details={"field": name})
    return tuple(dict.fromkeys(value))


def _texts(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or any(
        not isinstance(k, str) or not isinstance(v, str) or len(v) > 1000 for k, v in value.items()
    ):
        raise ValidationFailed(f"{name} must map languages to texts", details={"field": name})
    return {k: v.strip() for k, v in value.items() if v.strip()}


def parse_policy(policies: Mapping[str, Any], *, timezone: str, home_country: str | None) -> ReturnPolicy:
    """The shop's return policy from ``Shop.policies``: the flat keys every shop has
    (``return_window_days``, ``return_window_starts``, ``free_return_countries``,
    ``restocking_fee_percent``, ``return_label_fee_minor``, ``final_sale_returnable``,
    ``store_credit_bonus_percent``) and the optional ``returns`` object for everything else. Raises
    :class:`ValidationFailed` naming the first bad field."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {timezone!r}", details={"field": "timezone"}) from exc
    extra = policies.get("returns") or {}
    if not isinstance(extra, dict):
        raise ValidationFailed("returns must be an object", details={"field": "returns"})
    merged: dict[str, Any] = {
        "window_days": policies.get("return_window_days", 30),
        "window_starts": policies.get("return_window_starts", "delivery"),
        "free_return_countries": policies.get("free_return_countries", []),
        "restocking_fee_percent": policies.get("restocking_fee_percent", 0),
        "label_fee_minor": policies.get("return_label_fee_minor", 0),
        "final_sale_returnable": policies.get("final_sale_returnable", False),
        "store_credit_bonus_percent": policies.get("store_credit_bonus_percent", 0),
    }
    merged.update(extra)
    known = {
        "window_days", "window_starts", "free_return_countries", "restocking_fee_percent", "label_fee_minor",
        "final_sale_returnable", "store_credit_bonus_percent", "hygiene_returnable_sealed", "conditions",
        "methods", "auto_approve", "countries", "categories", "hygiene_categories", "return_address",
    }  # fmt: skip
    unknown = sorted(set(extra) - known)
    if unknown:
        raise ValidationFailed(f"unknown return policy setting {unknown[0]!r}", details={"field": unknown[0]})
    window_starts = merged["window_starts"]
    if window_starts not in WINDOW_STARTS:
        raise ValidationFailed(
            "window_starts is delivery, order or fulfilment", details={"field": "window_starts"}
        )
    methods = merged.get("methods", list(METHODS))
    if not isinstance(methods, list | tuple) or not methods or any(m not in METHODS for m in methods):
        raise ValidationFailed(
            "methods is a list of refund, store_credit, exchange", details={"field": "methods"}
        )
    free = merged["free_return_countries"]
    if not isinstance(free, list | tuple):
        raise ValidationFailed("free_return_countries is a list", details={"field": "free_return_countries"})
    countries: dict[str, CountryRule] = {}
    raw_countries = merged.get("countries") or {}
    if not isinstance(raw_countries, dict):
        raise ValidationFailed("countries must be an object", details={"field": "countries"})
    for code, rule in raw_countries.items():
        where = f"countries.{code}"
        if not isinstance(rule, dict):
            raise ValidationFailed(f"{where} must be an object", details={"field": where})
        countries[_country(code, where)] = CountryRule(
            returns_allowed=_bool(rule.get("returns_allowed", True), f"{where}.returns_allowed"),
            window_days=_int(rule["window_days"], f"{where}.window_days", 0, MAX_WINDOW_DAYS)
            if "window_days" in rule
            else None,
            customer_pays_shipping=_bool(rule["customer_pays_shipping"], f"{where}.customer_pays_shipping")
            if "customer_pays_shipping" in rule
            else None,
            label_fee_minor=_int(rule["label_fee_minor"], f"{where}.label_fee_minor")
            if "label_fee_minor" in rule
            else None,
            customs_note=_texts(rule.get("customs_note", {}), f"{where}.customs_note"),
        )
    categories: dict[str, CategoryRule] = {}
    raw_categories = merged.get("categories") or {}
    if not isinstance(raw_categories, dict):
        raise ValidationFailed("categories must be an object", details={"field": "categories"})
    hygiene_list = merged.get("hygiene_categories") or []
    if not isinstance(hygiene_list, list):
        raise ValidationFailed("hygiene_categories is a list", details={"field": "hygiene_categories"})
    for name in hygiene_list:
        categories[str(name).lower()] = CategoryRule(hygiene=True)
    for name, rule in raw_categories.items():
        where = f"categories.{name}"
        if not isinstance(rule, dict):
            raise ValidationFailed(f"{where} must be an object", details={"field": where})
        categories[str(name).lower()] = CategoryRule(
            returnable=_bool(rule.get("returnable", True), f"{where}.returnable"),
            hygiene=_bool(rule.get("hygiene", False), f"{where}.hygiene"),
            window_days=_int(rule["window_days"], f"{where}.window_days", 0, MAX_WINDOW_DAYS)
            if "window_days" in rule
            else None,
            restocking_fee_percent=_pct(rule["restocking_fee_percent"], f"{where}.restocking_fee_percent")
            if "restocking_fee_percent" in rule
            else None,
            conditions=_conditions(rule["conditions"], f"{where}.conditions")
            if "conditions" in rule
            else None,
        )
    address = merged.get("return_address") or {}
    if not isinstance(address, dict) or any(not isinstance(v, str) for v in address.values()):
        raise ValidationFailed("return_address maps fields to texts", details={"field": "return_address"})
    return ReturnPolicy(
        timezone=timezone,
        home_country=home_country.upper() if home_country else None,
        window_days=_int(merged["window_days"], "window_days", 0, MAX_WINDOW_DAYS),
        window_starts=window_starts,
        free_return_countries=frozenset(_country(c, "free_return_countries") for c in free),
        label_fee_minor=_int(merged["label_fee_minor"], "label_fee_minor"),
        restocking_fee_percent=_pct(merged["restocking_fee_percent"], "restocking_fee_percent"),
        final_sale_returnable=_bool(merged["final_sale_returnable"], "final_sale_returnable"),
        hygiene_returnable_sealed=_bool(
            merged.get("hygiene_returnable_sealed", True), "hygiene_returnable_sealed"
        ),
        conditions=_conditions(merged.get("conditions", ["unused", "original_packaging"]), "conditions"),
        methods=tuple(dict.fromkeys(methods)),
        store_credit_bonus_percent=_pct(merged["store_credit_bonus_percent"], "store_credit_bonus_percent"),
        auto_approve=_bool(merged.get("auto_approve", True), "auto_approve"),
        countries=countries,
        categories=categories,
        return_address={str(k): str(v) for k, v in address.items()},
    )


# --- facts in, decision out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFacts:
    line_id: int
    title: str
    quantity: int
    total_paid_minor: int
    already_returned: int = 0
    category: str | None = None
    final_sale: bool = False

    def value_of(self, quantity: int) -> int:
        """What ``quantity`` units of the line were paid, rounded down (all units: the whole total)."""
        if quantity >= self.quantity:
            return self.total_paid_minor
        return self.total_paid_minor * quantity // self.quantity


@dataclass(frozen=True)
class OrderFacts:
    placed_at: datetime
    currency: str
    lines: tuple[LineFacts, ...]
    fulfilled_at: datetime | None = None
    delivered_at: datetime | None = None
    country: str | None = None
    cancelled: bool = False
    refundable_minor: int = 0  # total paid minus what was refunded


@dataclass(frozen=True)
class Reason:
    """Why (or on what terms) something can or cannot be returned; ``returns.i18n`` explains it."""

    code: str
    params: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def of(code: str, **params: Any) -> Reason:
        return Reason(code, tuple(sorted(params.items())))

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class Window:
    starts: str  # delivery | order | fulfilment
    start_day: date  # local
    last_day: date  # local, inclusive
    days_elapsed: int
    window_days: int

    @property
    def open(self) -> bool:
        return self.days_elapsed <= self.window_days

    @property
    def days_left(self) -> int:
        return max(0, self.window_days - self.days_elapsed)


@dataclass(frozen=True)
class LineDecision:
    line_id: int
    eligible: bool
    returnable_quantity: int
    reasons: tuple[Reason, ...]
    window: Window | None
    restocking_fee_percent: float
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    lines: tuple[LineDecision, ...]
    order_reasons: tuple[Reason, ...]
    customer_pays_shipping: bool
    label_fee_minor: int
    international: bool
    customs_note: Mapping[str, str]
    methods: tuple[str, ...]

    @property
    def any_eligible(self) -> bool:
        return any(line.eligible for line in self.lines)

    def line(self, line_id: int) -> LineDecision | None:
        return next((d for d in self.lines if d.line_id == line_id), None)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(zone).date()


def window_for(policy: ReturnPolicy, facts: OrderFacts, now: datetime, window_days: int) -> Window | Reason:
    start = {
        "delivery": facts.delivered_at,
        "order": facts.placed_at,
        "fulfilment": facts.fulfilled_at,
    }[policy.window_starts]
    if start is None:
        return Reason.of("not_delivered" if policy.window_starts == "delivery" else "not_shipped")
    zone = policy.zone
    start_day = local_day(start, zone)
    today = local_day(now, zone)
    return Window(
        starts=policy.window_starts,
        start_day=start_day,
        last_day=start_day + timedelta(days=window_days),
        days_elapsed=max(0, (today - start_day).days),
        window_days=window_days,
    )


def deadline(window: Window, zone: ZoneInfo) -> datetime:
    """The first moment the window is closed: local midnight after the last day (DST-safe)."""
    after = window.last_day + timedelta(days=1)
    return datetime(after.year, after.month, after.day, tzinfo=zone)


def evaluate(policy: ReturnPolicy, facts: OrderFacts, now: datetime) -> Decision:
    country = (facts.country or "").upper() or None
    country_rule = policy.countries.get(country or "", CountryRule())
    order_reasons: list[Reason] = []
    if facts.cancelled:
        order_reasons.append(Reason.of("order_cancelled"))
    if not country_rule.returns_allowed:
        order_reasons.append(Reason.of("country_not_supported", country=country or ""))
    pays = (
        country_rule.customer_pays_shipping
        if country_rule.customer_pays_shipping is not None
        else country not in policy.free_return_countries
    )
    fee = country_rule.label_fee_minor if country_rule.label_fee_minor is not None else policy.label_fee_minor
    international = bool(
        country and policy.home_country and country != policy.home_country
        and not (country in EU and policy.home_country in EU)
    )  # fmt: skip
    lines: list[LineDecision] = []
    for line in facts.lines:
        rule = policy.categories.get((line.category or "").lower(), CategoryRule())
        window_days = (
            rule.window_days
            if rule.window_days is not None
            else country_rule.window_days
            if country_rule.window_days is not None
            else policy.window_days
        )
        reasons: list[Reason] = list(order_reasons)
        window_or_reason = window_for(policy, facts, now, window_days)
        window = window_or_reason if isinstance(window_or_reason, Window) else None
        if isinstance(window_or_reason, Reason):
            reasons.append(window_or_reason)
        elif not window_or_reason.open:
            reasons.append(
                Reason.of(
                    "outside_window",
                    starts=window_or_reason.starts,
                    days=window_or_reason.days_elapsed,
                    window=window_days,
                )
            )
        conditions = rule.conditions if rule.conditions is not None else policy.conditions
        if line.final_sale and not policy.final_sale_returnable:
            reasons.append(Reason.of("final_sale"))
        if not rule.returnable:
            reasons.append(Reason.of("category_not_returnable", category=line.category or ""))
        if rule.hygiene:
            if policy.hygiene_returnable_sealed:
                conditions = tuple(dict.fromkeys((*conditions, "sealed")))
            else:
                reasons.append(Reason.of("hygiene"))
        returnable = max(0, line.quantity - line.already_returned)
        if returnable == 0:
            reasons.append(Reason.of("already_returned"))
        eligible = not reasons
        notes: list[Reason] = []
        if eligible and window is not None:
            notes.append(
                Reason.of("within_window", last_day=window.last_day.isoformat(), left=window.days_left)
            )
        if eligible and line.already_returned:
            notes.append(Reason.of("partly_returned", returned=line.already_returned, total=line.quantity))
        if eligible and rule.hygiene:
            notes.append(Reason.of("hygiene_sealed"))
        pct = (
            rule.restocking_fee_percent
            if rule.restocking_fee_percent is not None
            else policy.restocking_fee_percent
        )
        if eligible and pct:
            notes.append(Reason.of("restocking_fee", percent=pct))
        lines.append(
            LineDecision(
                line_id=line.line_id,
                eligible=eligible,
                returnable_quantity=returnable if eligible else 0,
                reasons=tuple(reasons if not eligible else notes),
                window=window,
                restocking_fee_percent=pct,
                conditions=conditions,
            )
        )
    return Decision(
        lines=tuple(lines),
        order_reasons=tuple(order_reasons),
        customer_pays_shipping=pays,
        label_fee_minor=fee if pays else 0,
        international=international,
        customs_note=country_rule.customs_note,
        methods=policy.methods,
    )


# --- money ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineQuote:
    line_id: int
    quantity: int
    amount_minor: int
    restocking_fee_minor: int


@dataclass(frozen=True)
class Quote:
    method: str
    lines: tuple[LineQuote, ...]
    items_minor: int
    restocking_fee_minor: int
    label_fee_minor: int
    bonus_minor: int
    payout_minor: int  # refunded money, store credit (bonus included), or 0 for an exchange


def quote(
    policy: ReturnPolicy,
    decision: Decision,
    facts: OrderFacts,
    selection: Mapping[int, int],
    method: str,
) -> Quote:
    """The money of returning ``selection`` (line id → quantity) by ``method``. Raises
    :class:`ValidationFailed` when the selection is not allowed by ``decision``."""
    if method not in decision.methods:
        raise ValidationFailed(f"{method} is not offered for this return", details={"field": "method"})
    if not selection or all(q == 0 for q in selection.values()):
        raise ValidationFailed("choose at least one item to return", details={"field": "lines"})
    by_id = {line.line_id: line for line in facts.lines}
    out: list[LineQuote] = []
    for line_id, quantity in selection.items():
        if quantity == 0:
            continue
        line = by_id.get(line_id)
        judged = decision.line(line_id)
        if line is None or judged is None:
            raise ValidationFailed("that item is not part of this order", details={"field": "lines"})
        if not judged.eligible:
            raise ValidationFailed(
                "that item cannot be returned", details={"field": "lines", "line_id": line_id}
            )
        if quantity < 0 or quantity > judged.returnable_quantity:
            raise ValidationFailed(
                f"at most {judged.returnable_quantity} can be returned",
                details={"field": "lines", "line_id": line_id, "max": judged.returnable_quantity},
            )
        amount = line.value_of(quantity) if quantity < line.quantity else line.total_paid_minor
        restock = 0 if method == "exchange" else round(amount * judged.restocking_fee_percent / 100)
        out.append(LineQuote(line_id, quantity, amount, min(restock, amount)))
    items = sum(q.amount_minor for q in out)
    restocking = sum(q.restocking_fee_minor for q in out)
    label = 0 if method == "exchange" else min(decision.label_fee_minor, items - restocking)
    base = max(0, items - restocking - label)
    if method == "refund":
        payout = min(base, max(0, facts.refundable_minor))
        bonus = 0
    elif method == "store_credit":
        payout_base = min(base, max(0, facts.refundable_minor))
        bonus = round(payout_base * policy.store_credit_bonus_percent / 100)
        payout = payout_base + bonus
    else:
        payout = bonus = 0
    return Quote(method, tuple(out), items, restocking, label, bonus, payout)


def customs_required(decision: Decision) -> bool:
    return decision.international


def explain_data(reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    return [{"code": r.code, **r.data} for r in reasons]
