"""Business-hours calendar math: how much business time lies between two instants, and which instant
lies N business seconds after another — in the shop's time zone, DST-correct, with holidays.

Semantics (docs/sla.md): an instant counts as business time when its *local wall-clock time* in the
shop's time zone falls inside one of that weekday's opening intervals ``[start, end)`` and its local
date is not a holiday. Everything is computed on real (UTC) instants, so a day on which the clocks go
forward is an hour shorter and a day on which they go back is an hour longer — exactly as long as the
agents were at work. The local times 02:00–03:00 that happen twice when clocks go back are counted twice
when they are inside opening hours; the hour that does not exist when clocks go forward is not counted.

A calendar without any opening hours (every weekday empty) is treated as always open: a shop that has
not set up business hours gets wall-clock SLAs rather than targets that never come due.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
# how far ``add`` looks ahead before it gives up on a calendar whose every day is a holiday
_MAX_DAYS_AHEAD = 366 * 3

Interval = tuple[int, int]  # minutes after local midnight, [start, end), end ≤ 1440


def parse_hhmm(value: str, *, allow_24: bool = False) -> int:
    """``"09:30"`` → 570 minutes. ``"24:00"`` only as an interval end."""
    match = _HHMM.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time like 09:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ValueError(f"{value!r} is not a time between 00:00 and {'24:00' if allow_24 else '23:59'}")
    return hours * 60 + minutes


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    out: list[list[int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((s, e) for s, e in out)


def validate_business_hours(value: Mapping[str, Any]) -> list[str]:
    """Problems with a shop's ``business_hours`` document (empty list when it is valid)."""
    problems: list[str] = []
    for day in WEEKDAYS:
        for item in value.get(day) or []:
            try:
                start, end = item
                s, e = parse_hhmm(str(start)), parse_hhmm(str(end), allow_24=True)
            except (TypeError, ValueError) as exc:
                problems.append(f"{day}: {exc}")
                continue
            if e <= s:
                problems.append(f"{day}: {start}–{end} ends before it starts")
    for holiday in value.get("holidays") or []:
        text = str(holiday)
        try:
            if _FULL_DATE.match(text):
                date.fromisoformat(text)
            elif match := _MONTH_DAY.match(text):
                date(2000, int(match.group(1)), int(match.group(2)))  # 2000 is a leap year: 02-29 is fine
            else:
                raise ValueError
        except ValueError:
            problems.append(f"holiday {text!r} is not YYYY-MM-DD or MM-DD")
    return problems


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly opening hours in a time zone, with holidays (one-off dates and yearly ``MM-DD``)."""

    timezone: str
    weekly: tuple[tuple[Interval, ...], ...]  # seven entries, Monday first
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()

    # --- construction ---------------------------------------------------------------------------------

    @classmethod
    def from_config(cls, timezone: str, business_hours: Mapping[str, Any] | None) -> BusinessCalendar:
        """The calendar of a shop (``Shop.timezone``, ``Shop.business_hours``). Entries that do not parse
        are skipped (writers validate with :func:`validate_business_hours`)."""
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            timezone = "UTC"
        hours = business_hours or {}
        weekly: list[tuple[Interval, ...]] = []
        for day in WEEKDAYS:
            parsed: list[Interval] = []
            for item in hours.get(day) or []:
                try:
                    start, end = item
                    parsed.append((parse_hhmm(str(start)), parse_hhmm(str(end), allow_24=True)))
                except (TypeError, ValueError):
                    continue
            weekly.append(_merge(parsed))
        one_off: set[date] = set()
        yearly: set[tuple[int, int]] = set()
        for holiday in hours.get("holidays") or []:
            text = str(holiday).strip()
            try:
                if _FULL_DATE.match(text):
                    one_off.add(date.fromisoformat(text))
                elif match := _MONTH_DAY.match(text):
                    month, day_ = int(match.group(1)), int(match.group(2))
                    date(2000, month, day_)
                    yearly.add((month, day_))
            except ValueError:
                continue
        return cls(timezone, tuple(weekly), frozenset(one_off), frozenset(yearly))

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        return cls(timezone, tuple(((0, 1440),) for _ in WEEKDAYS))

    # --- properties -------------------------------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def has_hours(self) -> bool:
        return any(self.weekly)

    @property
    def is_always_open(self) -> bool:
        """Open around the clock every day of the year: business time equals elapsed time."""
        if not self.has_hours:
            return True
        return not self.holidays and not self.yearly_holidays and all(d == ((0, 1440),) for d in self.weekly)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    # --- the two operations -----------------------------------------------------------------------------

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The business time of one local date as UTC ``[start, end)`` ranges, in order."""
        return _windows(self, day)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds in ``[start, end)`` (0 when ``end`` is not after ``start``)."""
        return self.business_time(start, end).total_seconds()

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        start, end = _utc(start), _utc(end)
        if end <= start:
            return timedelta(0)
        if self.is_always_open:
            return end - start
        total = timedelta(0)
        day = self.local_date(start)
        last = self.local_date(end)
        while day <= last:
            for w_start, w_end in self.windows(day):
                lo, hi = max(w_start, start), min(w_end, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, amount: timedelta | float) -> datetime:
        """The instant ``amount`` of business time after ``start`` (``start`` itself for 0).

        Starting outside opening hours counts from the next opening: Friday 16:30 plus two business
        hours with 09:00–17:00 opening hours is Monday 10:30.
        """
        remaining = amount if isinstance(amount, timedelta) else timedelta(seconds=amount)
        start = _utc(start)
        if remaining <= timedelta(0):
            return start
        if self.is_always_open:
            return start + remaining
        day = self.local_date(start)
        for _ in range(_MAX_DAYS_AHEAD):
            for w_start, w_end in self.windows(day):
                if w_end <= start:
                    continue
                lo = max(w_start, start)
                available = w_end - lo
                if remaining <= available:
                    return lo + remaining
                remaining -= available
            day += timedelta(days=1)
        # every day for years is a holiday: fall back to elapsed time rather than never coming due
        return start + remaining


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use UTC-aware datetimes")
    return value.astimezone(UTC)


def _local_midnight(zone: ZoneInfo, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _segments(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """``[lo, hi)`` cut where the zone's UTC offset changes: ``(start, end, offset)`` pieces."""
    first = _offset(zone, lo)
    last = _offset(zone, hi - timedelta(seconds=1))
    if first == last:
        return [(lo, hi, first)]
    # one transition inside the day: find its first second by bisection
    a, b = lo, hi - timedelta(seconds=1)  # offset(a) == first, offset(b) != first
    while b - a > timedelta(seconds=1):
        mid = a + (b - a) / 2
        mid = mid.replace(microsecond=0)
        if mid <= a:
            mid = a + timedelta(seconds=1)
        if _offset(zone, mid) == first:
            a = mid
        else:
            b = mid
    return [(lo, b, first), *_segments(zone, b, hi)]


@lru_cache(maxsize=8192)
def _windows(calendar: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    intervals = calendar.weekly[day.weekday()]
    if not intervals or calendar.is_holiday(day):
        return ()
    zone = calendar.zone
    lo = _local_midnight(zone, day)
    hi = _local_midnight(zone, day + timedelta(days=1))
    if hi <= lo:
        return ()
    local_midnight = datetime.combine(day, time(0))  # naive local wall clock
    out: list[tuple[datetime, datetime]] = []
    for seg_start, seg_end, offset in _segments(zone, lo, hi):
        for start_min, end_min in intervals:
            # the instants of this segment whose local wall time is in [start, end)
            w_start = (local_midnight + timedelta(minutes=start_min) - offset).replace(tzinfo=UTC)
            w_end = (local_midnight + timedelta(minutes=end_min) - offset).replace(tzinfo=UTC)
            a, b = max(w_start, seg_start), min(w_end, seg_end)
            if b > a:
                if out and out[-1][1] == a:
                    out[-1] = (out[-1][0], b)
                else:
                    out.append((a, b))
    out.sort()
    return tuple(out)
