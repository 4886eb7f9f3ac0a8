"""Worked examples of the business calendar (working hours 08:00–17:00, Monday–Friday, Vietnam's holidays)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from feedback.calendar import WorkCalendar, add_working_time, vietnam_holidays, working_time_between

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
HOLIDAYS_2026 = frozenset(h.day for h in vietnam_holidays(2026))
CAL = WorkCalendar(tz=HCM, holidays=HOLIDAYS_2026)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)


def test_17_55_before_reunification_day_starts_the_clock_on_the_next_working_morning():
    # Wed 29 Apr 17:55: after hours; Thu 30 Apr and Fri 1 May are holidays, then the weekend: Mon 4 May 08:00.
    received = at(2026, 4, 29, 17, 55)
    assert add_working_time(received, timedelta(hours=8), CAL) == at(2026, 5, 4, 16, 0)
    # 48 h = five 9-hour days (45 h, Mon 4–Fri 8 May) + 3 h on Mon 11 May.
    assert add_working_time(received, timedelta(hours=48), CAL) == at(2026, 5, 11, 11, 0)
    # 240 h = 26 full days (234 h) + 6 h on the 27th working day from 4 May, Tue 9 June.
    assert add_working_time(received, timedelta(hours=240), CAL) == at(2026, 6, 9, 14, 0)


def test_time_left_in_the_day_carries_over_to_the_next_working_day():
    assert add_working_time(at(2026, 5, 7, 16, 0), timedelta(hours=2), CAL) == at(2026, 5, 8, 9, 0)
    # Friday afternoon runs over the weekend into Monday.
    assert add_working_time(at(2026, 5, 8, 16, 30), timedelta(hours=2), CAL) == at(2026, 5, 11, 9, 30)


def test_a_limit_that_uses_up_the_day_falls_due_at_its_end_not_the_next_morning():
    assert add_working_time(at(2026, 5, 4, 8, 0), timedelta(hours=9), CAL) == at(2026, 5, 4, 17, 0)


def test_a_case_received_before_opening_starts_at_opening():
    assert add_working_time(at(2026, 5, 5, 6, 30), timedelta(hours=1), CAL) == at(2026, 5, 5, 9, 0)


def test_utc_input_is_read_in_the_calendars_zone():
    # 10:55 UTC is 17:55 in Ho Chi Minh City.
    received = datetime(2026, 4, 29, 10, 55, tzinfo=ZoneInfo("UTC"))
    assert add_working_time(received, timedelta(hours=8), CAL) == at(2026, 5, 4, 16, 0)


def test_tet_is_skipped():
    # Fri 13 Feb 2026 16:00, 2 h: 1 h that day; Mon 16–Fri 20 Feb is Tết; Mon 23 Feb 09:00.
    assert add_working_time(at(2026, 2, 13, 16, 0), timedelta(hours=2), CAL) == at(2026, 2, 23, 9, 0)


def test_a_six_day_week_and_other_hours():
    saturday = WorkCalendar(tz=HCM, start=time(7, 30), end=time(11, 30), weekdays=frozenset({1, 2, 3, 4, 5, 6}))
    assert add_working_time(at(2026, 5, 9, 11, 0), timedelta(hours=1), saturday) == at(2026, 5, 11, 8, 0)


def test_working_time_between_counts_only_working_hours():
    # Wed 29 Apr 16:00 → Mon 4 May 10:00: 1 h on Wednesday, nothing on the holidays or the weekend, 2 h on Monday.
    assert working_time_between(at(2026, 4, 29, 16, 0), at(2026, 5, 4, 10, 0), CAL) == timedelta(hours=3)
    assert working_time_between(at(2026, 5, 4, 10, 0), at(2026, 5, 4, 9, 0), CAL) == timedelta(0)


def test_vietnam_holidays_include_days_in_lieu():
    days = {h.day: h.name_en for h in vietnam_holidays(2026)}
    assert date(2026, 2, 17) in days  # Tết, first day
    assert date(2026, 4, 30) in days and date(2026, 5, 1) in days and date(2026, 9, 2) in days
    # Hùng Kings' day falls on Sunday 26 April 2026: Monday 27 April is the day off in lieu.
    assert days[date(2026, 4, 27)].startswith("Day in lieu")
    assert len(vietnam_holidays(2026)) == 12


def test_a_calendar_without_working_time_is_refused():
    with pytest.raises(ValueError):
        WorkCalendar(tz=HCM, weekdays=frozenset())
    with pytest.raises(ValueError):
        WorkCalendar(tz=HCM, start=time(17, 0), end=time(8, 0))
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 5, 4, 8, 0), timedelta(hours=1), CAL)  # noqa: DTZ001
