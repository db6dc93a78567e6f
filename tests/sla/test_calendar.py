"""Business-hours calendar math: exact examples, and hypothesis against a minute-by-minute brute force
around real DST transitions (including Lord Howe's 30-minute shift and Chatham's +12:45)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storedesk.shops.models import DEFAULT_BUSINESS_HOURS
from storedesk.sla.calendar import WEEKDAYS, BusinessCalendar, validate_business_hours

BERLIN = ZoneInfo("Europe/Berlin")
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Europe/Oslo",
)
ALL_DAY = {d: [["00:00", "24:00"]] for d in WEEKDAYS}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def office() -> BusinessCalendar:
    return BusinessCalendar.from_config("Europe/Berlin", DEFAULT_BUSINESS_HOURS)


# --- exact examples ---------------------------------------------------------------------------------------


def test_friday_afternoon_to_monday_morning_is_one_business_hour() -> None:
    cal = office()
    assert cal.business_seconds(berlin(2025, 3, 28, 16, 30), berlin(2025, 3, 31, 9, 30)) == 3600
    assert cal.add(berlin(2025, 3, 28, 16, 30), 3600) == berlin(2025, 3, 31, 9, 30)


def test_start_outside_hours_counts_from_the_next_opening() -> None:
    cal = office()
    assert cal.add(berlin(2025, 3, 29, 12, 0), 2 * 3600) == berlin(2025, 3, 31, 11, 0)  # Saturday
    assert cal.add(berlin(2025, 3, 31, 7, 0), 30 * 60) == berlin(2025, 3, 31, 9, 30)
    assert cal.add(berlin(2025, 3, 31, 17, 0), 60) == berlin(2025, 4, 1, 9, 1)
    # exactly at the end of the day: the due time is that end, not the next morning
    assert cal.add(berlin(2025, 3, 31, 16, 0), 3600) == berlin(2025, 3, 31, 17, 0)
    assert cal.add(berlin(2025, 3, 31, 10, 0), 0) == berlin(2025, 3, 31, 10, 0)


def test_multi_day_target_spans_nights_and_weekend() -> None:
    cal = office()
    # 24 business hours from Thursday 09:00 = three 8-hour days → Monday 17:00
    assert cal.add(berlin(2025, 3, 27, 9, 0), 24 * 3600) == berlin(2025, 3, 31, 17, 0)
    assert cal.business_seconds(berlin(2025, 3, 27, 9, 0), berlin(2025, 3, 31, 17, 0)) == 24 * 3600


def test_holidays_one_off_and_yearly() -> None:
    hours = dict(DEFAULT_BUSINESS_HOURS, holidays=["2025-12-24", "12-25", "12-26"])
    cal = BusinessCalendar.from_config("Europe/Berlin", hours)
    # Tuesday 23 Dec 16:00 + 2h → Wed 24 (holiday), Thu 25, Fri 26 (yearly) → Monday 29 Dec 10:00
    assert cal.add(berlin(2025, 12, 23, 16, 0), 2 * 3600) == berlin(2025, 12, 29, 10, 0)
    assert cal.business_seconds(berlin(2025, 12, 23, 0, 0), berlin(2025, 12, 30, 0, 0)) == 16 * 3600
    assert cal.is_holiday(date(2031, 12, 25))
    assert not cal.is_holiday(date(2031, 12, 24))


def test_dst_days_are_as_long_as_the_clock_says() -> None:
    cal = BusinessCalendar.from_config("Europe/Berlin", ALL_DAY | {"holidays": ["01-01"]})
    assert not cal.is_always_open
    spring, autumn = date(2025, 3, 30), date(2025, 10, 26)
    assert sum((b - a for a, b in cal.windows(spring)), timedelta()) == timedelta(hours=23)
    assert sum((b - a for a, b in cal.windows(autumn)), timedelta()) == timedelta(hours=25)
    # office hours straddling the spring-forward gap: 01:00–04:00 local is 2 real hours
    night = BusinessCalendar.from_config("Europe/Berlin", {"sun": [["01:00", "04:00"]]})
    assert night.business_seconds(berlin(2025, 3, 30, 0, 0), berlin(2025, 3, 30, 12, 0)) == 2 * 3600
    # …and the autumn fold: 01:00–04:00 local is 4 real hours (02:00–03:00 happens twice)
    assert night.business_seconds(berlin(2025, 10, 26, 0, 0), berlin(2025, 10, 26, 12, 0)) == 4 * 3600
    # a window starting inside the repeated hour counts only local times inside it
    late = BusinessCalendar.from_config("Europe/Berlin", {"sun": [["02:30", "17:00"]]})
    assert late.business_seconds(berlin(2025, 10, 26, 0, 0), berlin(2025, 10, 27, 0, 0)) == 15 * 3600


def test_wall_clock_over_dst_in_an_always_open_calendar() -> None:
    cal = BusinessCalendar.always_open("Europe/Berlin")
    a, b = berlin(2025, 3, 29, 12, 0), berlin(2025, 3, 30, 12, 0)
    assert cal.business_seconds(a, b) == 23 * 3600  # the local clock shows 24h, 23h really passed
    assert cal.add(a, 23 * 3600) == b


def test_no_hours_means_always_open_and_validation() -> None:
    empty = BusinessCalendar.from_config("Europe/Berlin", {d: [] for d in WEEKDAYS})
    assert empty.is_always_open
    assert empty.add(berlin(2025, 1, 4, 10, 0), 3600) == berlin(2025, 1, 4, 11, 0)
    assert validate_business_hours(DEFAULT_BUSINESS_HOURS) == []
    assert validate_business_hours(
        {"mon": [["17:00", "09:00"]], "tue": [["9am", "5pm"]], "holidays": ["2025-13-01", "12-25"]}
    ) == [
        "mon: 17:00–09:00 ends before it starts",
        "tue: '9am' is not a time like 09:00",
        "holiday '2025-13-01' is not YYYY-MM-DD or MM-DD",
    ]
    bad_zone = BusinessCalendar.from_config("Mars/Olympus", DEFAULT_BUSINESS_HOURS)
    assert bad_zone.timezone == "UTC"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        office().business_seconds(datetime(2025, 1, 1), datetime(2025, 1, 2))


# --- hypothesis against a brute force -------------------------------------------------------------------


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """UTC instants in 2024–2026 at which the zone's offset changes (hourly scan, then to the minute)."""
    zone = ZoneInfo(zone_name)
    out: list[datetime] = []
    t = datetime(2024, 1, 1, tzinfo=UTC)
    prev = t.astimezone(zone).utcoffset()
    while t < datetime(2027, 1, 1, tzinfo=UTC):
        nxt = t + timedelta(hours=1)
        off = nxt.astimezone(zone).utcoffset()
        if off != prev:
            m = t
            while m.astimezone(zone).utcoffset() == prev:
                m += timedelta(minutes=1)
            out.append(m)
            prev = off
        t = nxt
    return tuple(out) or (datetime(2025, 6, 1, tzinfo=UTC),)


def brute_force_seconds(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Count the minutes whose local wall-clock time is inside the opening hours (independent of the
    implementation: no UTC windows, no segments)."""
    zone = ZoneInfo(cal.timezone)
    total = 0
    t = start
    while t < end:
        local = t.astimezone(zone)
        minute = local.hour * 60 + local.minute
        day = local.date()
        if not cal.is_holiday(day) and any(s <= minute < e for s, e in cal.weekly[day.weekday()]):
            total += 60
        t += timedelta(minutes=1)
    return total


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, object]:
    hours: dict[str, object] = {}
    for day in WEEKDAYS:
        spans = []
        for _ in range(draw(st.integers(0, 2))):
            a = draw(st.integers(0, 47)) * 30
            b = draw(st.integers(a // 30 + 1, 48)) * 30
            spans.append([f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"])
        hours[day] = spans
    hours["holidays"] = draw(
        st.lists(st.sampled_from(["2025-03-30", "10-26", "2024-11-03", "04-06"]), max_size=2)
    )
    return hours


@st.composite
def around_transitions(draw: st.DrawFn) -> tuple[str, datetime, datetime]:
    zone = draw(st.sampled_from(ZONES))
    pivot = draw(st.sampled_from(transitions(zone)))
    start = pivot + timedelta(minutes=draw(st.integers(-36 * 60, 24 * 60)))
    end = start + timedelta(minutes=draw(st.integers(0, 48 * 60)))
    return zone, start, end


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hours=schedules(), span=around_transitions())
def test_business_seconds_match_brute_force(
    hours: dict[str, object], span: tuple[str, datetime, datetime]
) -> None:
    zone, start, end = span
    cal = BusinessCalendar.from_config(zone, hours)  # type: ignore[arg-type]
    if cal.is_always_open:
        assert cal.business_seconds(start, end) == (end - start).total_seconds()
    else:
        assert cal.business_seconds(start, end) == brute_force_seconds(cal, start, end)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hours=schedules(), span=around_transitions(), minutes=st.integers(0, 20 * 60))
def test_add_is_the_first_instant_with_that_much_business_time(
    hours: dict[str, object], span: tuple[str, datetime, datetime], minutes: int
) -> None:
    zone, start, _ = span
    cal = BusinessCalendar.from_config(zone, hours)  # type: ignore[arg-type]
    due = cal.add(start, minutes * 60)
    assert due >= start
    assert cal.business_seconds(start, due) == minutes * 60
    if minutes and not cal.is_always_open:
        # the minute before the due time was business time: no earlier instant would do
        assert brute_force_seconds(cal, due - timedelta(minutes=1), due) == 60


@settings(max_examples=80, deadline=None)
@given(hours=schedules(), span=around_transitions(), cut=st.integers(0, 48 * 60))
def test_business_time_is_additive(
    hours: dict[str, object], span: tuple[str, datetime, datetime], cut: int
) -> None:
    zone, start, end = span
    cal = BusinessCalendar.from_config(zone, hours)  # type: ignore[arg-type]
    middle = min(start + timedelta(minutes=cut), end)
    assert cal.business_seconds(start, end) == cal.business_seconds(start, middle) + cal.business_seconds(
        middle, end
    )
    assert cal.business_seconds(start, end) <= (end - start).total_seconds()
