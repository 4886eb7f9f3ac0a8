"""Working-time arithmetic for complaint time limits (ISO 10002 asks for defined, realistic response times).

A limit of "8 hours" means 8 working hours: the clock runs only on working days, between the start and the end of
the working day, and never on a public holiday. Plain module: no models, no database; `feedback/schedule.py` builds
a `WorkCalendar` from the quality manager's settings and calls these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A calendar with no working time at all would make every due date infinite: refuse to look further than this.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    start: time = time(8, 0)
    end: time = time(17, 0)
    # ISO weekdays: Monday is 1, Sunday is 7.
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("the working day must end after it starts")
        if not self.weekdays:
            raise ValueError("at least one working day a week is needed")

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def _span(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.start, self.tz), datetime.combine(day, self.end, self.tz))


def add_working_time(start: datetime, amount: timedelta, calendar: WorkCalendar) -> datetime:
    """The moment `amount` of working time after `start` (an aware datetime); returned in the calendar's zone.

    A case received out of hours starts its clock when the next working day begins; a limit that uses up a day
    exactly falls due at that day's end, not at the next morning.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    remaining = amount
    cursor = start.astimezone(calendar.tz)
    day = cursor.date()
    for _ in range(MAX_DAYS):
        if calendar.is_working_day(day):
            opens, closes = calendar._span(day)
            cursor = max(cursor, opens)
            if cursor < closes:
                available = closes - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0, 0), calendar.tz)
    raise ValueError("no working time found within three years")


def working_time_between(start: datetime, end: datetime, calendar: WorkCalendar) -> timedelta:
    """Working time from `start` to `end` (zero when end is not after start): how far a case has overrun."""
    if end <= start:
        return timedelta(0)
    start, end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if calendar.is_working_day(day):
            opens, closes = calendar._span(day)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


# Vietnam's public holidays (Labour Code 2019, art. 112): New Year 1 day, Tết 5 days, Hùng Kings' day (10th day of
# the 3rd lunar month), 30 April, 1 May, National Day 2 days. The lunar dates cannot be computed by a simple rule,
# so they are listed for the years the product ships with; quality managers add or move days each year as the
# government announces them (it often shifts Tết or the second National Day to make a longer break).
LUNAR_NEW_YEAR = {
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
HUNG_KINGS = {
    2025: date(2025, 4, 7),
    2026: date(2026, 4, 26),
    2027: date(2027, 4, 16),
    2028: date(2028, 4, 4),
    2029: date(2029, 4, 23),
    2030: date(2030, 4, 12),
}


@dataclass(frozen=True)
class Holiday:
    day: date
    name_vi: str
    name_en: str


def vietnam_holidays(year: int) -> list[Holiday]:
    """The default public holidays of a year, with the day off in lieu when a holiday falls on a weekend."""
    days = [
        Holiday(date(year, 1, 1), "Tết Dương lịch", "New Year's Day"),
        Holiday(date(year, 4, 30), "Ngày Giải phóng miền Nam", "Reunification Day"),
        Holiday(date(year, 5, 1), "Ngày Quốc tế Lao động", "International Workers' Day"),
        Holiday(date(year, 9, 1), "Quốc khánh (ngày liền kề)", "National Day (adjacent day)"),
        Holiday(date(year, 9, 2), "Quốc khánh", "National Day"),
    ]
    if year in LUNAR_NEW_YEAR:
        first = LUNAR_NEW_YEAR[year]
        # The customary five days: the last day of the old year and the first four of the new one.
        days.append(Holiday(first - timedelta(days=1), "Tết Nguyên đán (30 Tết)", "Lunar New Year's Eve"))
        for n in range(4):
            days.append(
                Holiday(first + timedelta(days=n), f"Tết Nguyên đán (mùng {n + 1})", f"Lunar New Year day {n + 1}")
            )
    if year in HUNG_KINGS:
        days.append(Holiday(HUNG_KINGS[year], "Giỗ Tổ Hùng Vương", "Hung Kings' Commemoration Day"))
    return _with_days_in_lieu(sorted(days, key=lambda h: h.day))


def _with_days_in_lieu(days: Iterable[Holiday]) -> list[Holiday]:
    # Art. 112(3): a holiday on a weekly rest day (Saturday, Sunday) is taken on the next working day.
    result = list(days)
    taken = {h.day for h in result}
    for holiday in list(result):
        if holiday.day.isoweekday() < 6:
            continue
        lieu = holiday.day + timedelta(days=1)
        while lieu.isoweekday() >= 6 or lieu in taken:
            lieu += timedelta(days=1)
        taken.add(lieu)
        result.append(Holiday(lieu, f"Nghỉ bù {holiday.name_vi}", f"Day in lieu of {holiday.name_en}"))
    return sorted(result, key=lambda h: h.day)
