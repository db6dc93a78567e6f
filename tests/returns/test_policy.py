"""The return policy engine: pure functions, exact expectations, hypothesis over window edges, time
zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import storedesk.returns.i18n  # noqa: F401  (registers the explanations)
from storedesk.kit.errors import ValidationFailed
from storedesk.returns.i18n import explain
from storedesk.returns.policy import (
    LineFacts,
    OrderFacts,
    Reason,
    deadline,
    evaluate,
    parse_policy,
    quote,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Europe/Oslo",
]
BASE = {"return_window_days": 30, "return_window_starts": "delivery", "free_return_countries": ["DE", "AT"]}


def policy(tz: str = "Europe/Berlin", **extra: object) -> object:
    return parse_policy({**BASE, **extra}, timezone=tz, home_country="DE")


def facts(
    delivered: datetime | None, *, lines: tuple[LineFacts, ...] | None = None, **kw: object
) -> OrderFacts:
    placed = (delivered or datetime(2025, 1, 1, tzinfo=UTC)) - timedelta(days=3)
    return OrderFacts(
        placed_at=placed,
        currency="EUR",
        lines=lines or (LineFacts(1, "Linen shirt", 2, 9980, category="clothing"),),
        fulfilled_at=placed + timedelta(days=1),
        delivered_at=delivered,
        refundable_minor=kw.pop("refundable_minor", 20000),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


# --- the window ---------------------------------------------------------------------------------------------


def test_last_day_is_delivery_day_plus_window_in_local_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    delivered = datetime(2025, 3, 1, 22, 30, tzinfo=berlin)  # 21:30 UTC
    p = policy()
    on_last_day = datetime(2025, 3, 31, 23, 59, 59, tzinfo=berlin)
    first_day_after = datetime(2025, 4, 1, 0, 0, tzinfo=berlin)
    inside = evaluate(p, facts(delivered), on_last_day).lines[0]  # type: ignore[arg-type]
    outside = evaluate(p, facts(delivered), first_day_after).lines[0]  # type: ignore[arg-type]
    assert inside.eligible is True
    assert inside.window is not None and inside.window.last_day == date(2025, 3, 31)
    assert inside.reasons == (Reason.of("within_window", last_day="2025-03-31", left=0),)
    assert outside.eligible is False
    assert outside.reasons == (Reason.of("outside_window", starts="delivery", days=31, window=30),)
    assert deadline(inside.window, berlin) == first_day_after


def test_explanations_in_three_languages() -> None:
    reason = Reason.of("outside_window", starts="delivery", days=41, window=30)
    assert explain(reason, "en") == "Outside the 30-day return window: delivered 41 days ago."
    assert explain(reason, "de") == "Außerhalb der 30-tägigen Rückgabefrist: vor 41 Tagen zugestellt."
    assert explain(reason, "hu") == "A 30 napos visszaküldési határidőn kívül: 41 napja kézbesítették."
    within = Reason.of("within_window", last_day="2025-03-31", left=4)
    assert explain(within, "en") == "Returnable until March 31, 2025 (4 days left)."
    assert explain(within, "de") == "Rücksendung bis 31. März 2025 möglich (noch 4 Tage)."


@settings(max_examples=300, deadline=None)
@given(
    delivered=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    minutes_later=st.integers(min_value=0, max_value=60 * 24 * 70),
    tz=st.sampled_from(ZONES),
    window=st.integers(min_value=0, max_value=60),
)
def test_window_is_whole_local_days(delivered: datetime, minutes_later: int, tz: str, window: int) -> None:
    now = delivered + timedelta(minutes=minutes_later)
    zone = ZoneInfo(tz)
    decision = evaluate(policy(tz, return_window_days=window), facts(delivered), now).lines[0]  # type: ignore[arg-type]
    elapsed = (now.astimezone(zone).date() - delivered.astimezone(zone).date()).days
    assert decision.window is not None
    assert decision.window.days_elapsed == elapsed
    assert decision.eligible is (elapsed <= window)
    # the same answer as comparing with the DST-safe deadline (local midnight after the last day)
    assert decision.eligible is (now < deadline(decision.window, zone))
    if not decision.eligible:
        assert decision.reasons == (
            Reason.of("outside_window", starts="delivery", days=elapsed, window=window),
        )


@settings(max_examples=150, deadline=None)
@given(
    delivered=st.datetimes(
        min_value=datetime(2022, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
    ),
    a=st.integers(min_value=0, max_value=60 * 24 * 45),
    b=st.integers(min_value=0, max_value=60 * 24 * 45),
    tz=st.sampled_from(ZONES),
)
def test_eligibility_never_comes_back(delivered: datetime, a: int, b: int, tz: str) -> None:
    early, late = sorted((a, b))
    p = policy(tz)
    first = evaluate(p, facts(delivered), delivered + timedelta(minutes=early)).lines[0]  # type: ignore[arg-type]
    second = evaluate(p, facts(delivered), delivered + timedelta(minutes=late)).lines[0]  # type: ignore[arg-type]
    assert not (second.eligible and not first.eligible)


@pytest.mark.parametrize(
    ("delivered_local", "now_local", "eligible"),
    [
        # spring forward in Berlin (2025-03-30 02:00 → 03:00): the window is still 30 whole days
        (datetime(2025, 3, 29, 23, 30), datetime(2025, 4, 28, 23, 59), True),
        (datetime(2025, 3, 29, 23, 30), datetime(2025, 4, 29, 0, 0), False),
        # fall back (2025-10-26 03:00 → 02:00)
        (datetime(2025, 10, 25, 0, 15), datetime(2025, 11, 24, 23, 59), True),
        (datetime(2025, 10, 25, 0, 15), datetime(2025, 11, 25, 0, 0), False),
        # delivered in the repeated hour of the night the clocks go back
        (datetime(2025, 10, 26, 2, 30, fold=1), datetime(2025, 11, 25, 23, 59), True),
    ],
)
def test_daylight_saving_changes(delivered_local: datetime, now_local: datetime, eligible: bool) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    delivered = delivered_local.replace(tzinfo=berlin)
    now = now_local.replace(tzinfo=berlin)
    assert evaluate(policy(), facts(delivered), now).lines[0].eligible is eligible  # type: ignore[arg-type]


def test_same_instant_different_shop_time_zones() -> None:
    delivered = datetime(2025, 6, 1, 13, 30, tzinfo=UTC)  # June 1, 23:30 in Sydney
    now = datetime(2025, 7, 1, 14, 30, tzinfo=UTC)  # July 1 in UTC, already July 2 (00:30) in Sydney
    assert evaluate(policy("UTC"), facts(delivered), now).lines[0].eligible is True  # type: ignore[arg-type]
    sydney = evaluate(policy("Australia/Sydney"), facts(delivered), now).lines[0]  # type: ignore[arg-type]
    assert sydney.reasons == (Reason.of("outside_window", starts="delivery", days=31, window=30),)


def test_window_from_order_or_fulfilment() -> None:
    delivered = datetime(2025, 5, 20, 12, tzinfo=UTC)
    f = facts(delivered)
    now = datetime(2025, 6, 17, 12, tzinfo=UTC)  # 31 days after ordering (May 17), 28 after delivery
    by_order = evaluate(policy(return_window_starts="order"), f, now).lines[0]  # type: ignore[arg-type]
    assert by_order.reasons == (Reason.of("outside_window", starts="order", days=31, window=30),)
    by_fulfilment = evaluate(policy(return_window_starts="fulfilment"), f, now).lines[0]  # type: ignore[arg-type]
    assert by_fulfilment.eligible is True
    assert by_fulfilment.window is not None and by_fulfilment.window.start_day == date(2025, 5, 18)


def test_not_delivered_yet() -> None:
    decision = evaluate(policy(), facts(None), datetime(2025, 1, 2, tzinfo=UTC)).lines[0]  # type: ignore[arg-type]
    assert (decision.eligible, decision.reasons) == (False, (Reason.of("not_delivered"),))
    assert (
        explain(decision.reasons[0], "fr") == "Pas encore livré. Vous pourrez le retourner dès sa réception."
    )


# --- items and countries ------------------------------------------------------------------------------------


def test_final_sale_hygiene_and_category_rules() -> None:
    p = policy(
        returns={
            "hygiene_categories": ["underwear"],
            "categories": {
                "lamps": {"window_days": 14, "restocking_fee_percent": 10},
                "gift-cards": {"returnable": False},
            },
        }
    )
    delivered = datetime(2025, 5, 1, 12, tzinfo=UTC)
    lines = (
        LineFacts(1, "Vase", 1, 3900, category="home", final_sale=True),
        LineFacts(2, "Boxer briefs", 3, 2700, category="Underwear"),
        LineFacts(3, "Floor lamp", 1, 12900, category="lamps"),
        LineFacts(4, "Gift card", 1, 5000, category="gift-cards"),
        LineFacts(5, "Shirt", 2, 9980, category="clothing", already_returned=1),
    )
    d = evaluate(p, facts(delivered, lines=lines), datetime(2025, 5, 20, 12, tzinfo=UTC))  # type: ignore[arg-type]
    vase, briefs, lamp, card, shirt = d.lines
    assert (vase.eligible, vase.reasons) == (False, (Reason.of("final_sale"),))
    assert briefs.eligible is True and briefs.conditions == ("unused", "original_packaging", "sealed")
    assert Reason.of("hygiene_sealed") in briefs.reasons
    assert lamp.reasons == (Reason.of("outside_window", starts="delivery", days=19, window=14),)
    assert card.reasons == (Reason.of("category_not_returnable", category="gift-cards"),)
    assert (shirt.eligible, shirt.returnable_quantity) == (True, 1)
    assert Reason.of("partly_returned", returned=1, total=2) in shirt.reasons
    strict = policy(returns={"hygiene_categories": ["underwear"], "hygiene_returnable_sealed": False})
    briefs_strict = evaluate(
        strict, facts(delivered, lines=lines[1:2]), datetime(2025, 5, 2, tzinfo=UTC)
    ).lines[0]  # type: ignore[arg-type]
    assert briefs_strict.reasons == (Reason.of("hygiene"),)


def test_who_pays_return_shipping_and_customs() -> None:
    p = policy(
        return_label_fee_minor=595,
        returns={
            "countries": {
                "NO": {"label_fee_minor": 1495, "window_days": 45},
                "US": {"returns_allowed": False},
            }
        },
    )
    delivered = datetime(2025, 5, 1, 12, tzinfo=UTC)
    now = datetime(2025, 6, 10, 12, tzinfo=UTC)  # 40 days
    germany = evaluate(p, facts(delivered, country="DE"), now)  # type: ignore[arg-type]
    assert (germany.customer_pays_shipping, germany.label_fee_minor, germany.international) == (
        False,
        0,
        False,
    )
    france = evaluate(p, facts(delivered, country="FR"), datetime(2025, 5, 2, tzinfo=UTC))  # type: ignore[arg-type]
    assert (france.customer_pays_shipping, france.label_fee_minor, france.international) == (True, 595, False)
    norway = evaluate(p, facts(delivered, country="NO"), now)  # type: ignore[arg-type]
    assert (norway.customer_pays_shipping, norway.label_fee_minor, norway.international) == (True, 1495, True)
    assert norway.lines[0].eligible is True  # Norway's 45-day window
    usa = evaluate(p, facts(delivered, country="US"), datetime(2025, 5, 2, tzinfo=UTC))  # type: ignore[arg-type]
    assert usa.lines[0].reasons == (Reason.of("country_not_supported", country="US"),)
    assert explain(usa.lines[0].reasons[0], "de") == (
        "Rücksendungen aus Vereinigte Staaten können nicht online angemeldet werden. Bitte schreiben Sie uns."
    )


def test_cancelled_order() -> None:
    d = evaluate(
        policy(), facts(datetime(2025, 5, 1, tzinfo=UTC), cancelled=True), datetime(2025, 5, 2, tzinfo=UTC)
    )  # type: ignore[arg-type]
    assert d.lines[0].reasons == (Reason.of("order_cancelled"),)


# --- money --------------------------------------------------------------------------------------------------


def test_quote_refund_fees_credit_and_exchange() -> None:
    p = policy(return_label_fee_minor=595, restocking_fee_percent=10, store_credit_bonus_percent=10)
    f = facts(datetime(2025, 5, 1, tzinfo=UTC), country="FR")
    d = evaluate(p, f, datetime(2025, 5, 2, tzinfo=UTC))  # type: ignore[arg-type]
    refund = quote(p, d, f, {1: 1}, "refund")  # type: ignore[arg-type]
    assert (refund.items_minor, refund.restocking_fee_minor, refund.label_fee_minor, refund.payout_minor) == (
        4990,
        499,
        595,
        3896,
    )
    credit = quote(p, d, f, {1: 2}, "store_credit")  # type: ignore[arg-type]
    assert (credit.items_minor, credit.restocking_fee_minor, credit.bonus_minor, credit.payout_minor) == (
        9980,
        998,
        839,
        9226,
    )
    exchange = quote(p, d, f, {1: 1}, "exchange")  # type: ignore[arg-type]
    assert (exchange.restocking_fee_minor, exchange.label_fee_minor, exchange.payout_minor) == (0, 0, 0)
    with pytest.raises(ValidationFailed) as too_many:
        quote(p, d, f, {1: 3}, "refund")  # type: ignore[arg-type]
    assert too_many.value.details == {"field": "lines", "line_id": 1, "max": 2}


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=50_000)),
        min_size=1,
        max_size=4,
    ),
    refunded=st.integers(min_value=0, max_value=100_000),
    fee=st.integers(min_value=0, max_value=3000),
    restock=st.sampled_from([0, 5, 10, 15.5]),
    data=st.data(),
)
def test_refunds_never_exceed_what_was_paid(
    lines: list[tuple[int, int]], refunded: int, fee: int, restock: float, data: st.DataObject
) -> None:
    p = policy(return_label_fee_minor=fee, restocking_fee_percent=restock)
    facts_lines = tuple(LineFacts(i + 1, f"item {i}", q, total) for i, (q, total) in enumerate(lines))
    paid = sum(total for _, total in lines)
    f = facts(
        datetime(2025, 5, 1, tzinfo=UTC),
        lines=facts_lines,
        country="FR",
        refundable_minor=max(0, paid - refunded),
    )
    d = evaluate(p, f, datetime(2025, 5, 2, tzinfo=UTC))  # type: ignore[arg-type]
    selection = {
        line.line_id: data.draw(st.integers(min_value=0, max_value=line.quantity)) for line in facts_lines
    }
    if not any(selection.values()):
        selection[1] = 1
    q = quote(p, d, f, selection, "refund")  # type: ignore[arg-type]
    assert 0 <= q.payout_minor <= max(0, paid - refunded)
    assert q.payout_minor <= q.items_minor <= paid
    for lq in q.lines:
        line = facts_lines[lq.line_id - 1]
        assert lq.amount_minor <= line.total_paid_minor
        assert lq.amount_minor == (
            line.total_paid_minor
            if lq.quantity == line.quantity
            else line.total_paid_minor * lq.quantity // line.quantity
        )


# --- reading the policy -------------------------------------------------------------------------------------


def test_parse_policy_reads_flat_keys_and_refuses_unknown_settings() -> None:
    p = parse_policy(
        {"return_window_days": 14, "free_return_countries": ["de", "at"], "returns": {"auto_approve": False}},
        timezone="Europe/Oslo",
        home_country="no",
    )
    assert (p.window_days, p.free_return_countries, p.auto_approve, p.home_country) == (
        14,
        frozenset({"DE", "AT"}),
        False,
        "NO",
    )
    with pytest.raises(ValidationFailed) as bad:
        parse_policy({"returns": {"windwo_days": 3}}, timezone="UTC", home_country=None)
    assert bad.value.details == {"field": "windwo_days"}
    with pytest.raises(ValidationFailed) as bad_country:
        parse_policy({"returns": {"countries": {"Norway": {}}}}, timezone="UTC", home_country=None)
    assert bad_country.value.details == {"field": "countries.Norway"}


def test_eligibility_decision_is_fast() -> None:
    import time

    p = policy(returns={"hygiene_categories": ["underwear"], "categories": {"lamps": {"window_days": 14}}})
    lines = tuple(
        LineFacts(i, f"item {i}", 2, 5000, category="lamps" if i % 3 else "clothing") for i in range(1, 21)
    )
    f = facts(datetime(2025, 5, 1, tzinfo=UTC), lines=lines)
    started = time.perf_counter()
    for _ in range(200):
        evaluate(p, f, datetime(2025, 5, 10, tzinfo=UTC))  # type: ignore[arg-type]
    per_decision_ms = (time.perf_counter() - started) * 1000 / 200
    assert per_decision_ms < 10
