"""The business calendar as configured: working hours, working days and public holidays, and their write paths.

The arithmetic is in feedback/calendar.py; this module reads the settings into a `WorkCalendar` and is the one
place that changes them (each change audited, since it moves every later due date).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_stored
from feedback.calendar import WorkCalendar, add_working_time, vietnam_holidays, working_time_between
from feedback.models import Category, ComplaintSettings, PublicHoliday, TimeLimit


def business_calendar() -> WorkCalendar:
    config = ComplaintSettings.load()
    return WorkCalendar(
        tz=ZoneInfo(settings.TIME_ZONE),
        start=config.work_start,
        end=config.work_end,
        weekdays=frozenset(int(d) for d in config.working_days),
        holidays=frozenset(PublicHoliday.objects.values_list("date", flat=True)),
    )


def due_after(start: datetime, hours: int, calendar: WorkCalendar | None = None) -> datetime:
    return add_working_time(start, timedelta(hours=hours), calendar or business_calendar())


def overrun(due: datetime, now: datetime | None = None, calendar: WorkCalendar | None = None) -> timedelta:
    """Working time since a due date passed (zero when it has not)."""
    return working_time_between(due, now or timezone.now(), calendar or business_calendar())


@transaction.atomic
def calendar_update(
    *,
    actor: AbstractBaseUser,
    work_start: time,
    work_end: time,
    working_days: str,
    escalate_managers_after: int | None = None,
    escalate_top_after: int | None = None,
) -> None:
    if work_start >= work_end:
        raise ValidationError({"work_end": _("The working day must end after it starts.")})
    if not working_days or any(d not in "1234567" for d in working_days):
        raise ValidationError({"working_days": _("Choose at least one working day.")})
    config = ComplaintSettings.load()
    before = audit_stored(config)
    config.work_start, config.work_end = work_start, work_end
    config.working_days = "".join(sorted(set(working_days)))
    if escalate_managers_after is not None:
        config.escalate_managers_after = escalate_managers_after
    if escalate_top_after is not None:
        config.escalate_top_after = escalate_top_after
    if config.escalate_top_after <= config.escalate_managers_after:
        raise ValidationError(
            {"escalate_top_after": _("Top management comes after the quality managers: give more hours.")}
        )
    config.save()
    audit_record(config, action="update", before=before, actor=actor)


@transaction.atomic
def time_limit_update(
    *, actor: AbstractBaseUser, limit: TimeLimit, acknowledge_hours: int, respond_hours: int, close_hours: int
) -> TimeLimit:
    """Change the hours of one severity's time limits (ISO 10002), on the trail: they set the due dates of every
    case received from now on."""
    if not 0 < acknowledge_hours <= respond_hours <= close_hours:
        raise ValidationError(_("Each limit must be at least one hour and no shorter than the step before it."))
    before = audit_stored(limit)
    limit.acknowledge_hours, limit.respond_hours, limit.close_hours = acknowledge_hours, respond_hours, close_hours
    limit.save(update_fields=["acknowledge_hours", "respond_hours", "close_hours"])
    audit_record(limit, action="update", before=before, actor=actor)
    return limit


@transaction.atomic
def category_save(
    *, actor: AbstractBaseUser, name_vi: str, name_en: str, active: bool = True, category: Category | None = None
) -> Category:
    """Make a complaint category, or rename or retire one, on the trail: the Pareto of complaints, the review pack
    and the effectiveness of corrective actions are read by category, so its name at each moment is evidence."""
    name_vi, name_en = name_vi.strip(), name_en.strip()
    if not name_vi:
        raise ValidationError({"name_vi": _("Give the category a name.")})
    made = category is None
    category = category or Category()
    before = None if made else audit_stored(category)
    category.name_vi, category.name_en, category.active = name_vi, name_en or name_vi, active
    category.full_clean()
    category.save()
    audit_record(category, action="create" if made else "update", before=before, actor=actor)
    return category


@transaction.atomic
def holiday_add(*, actor: AbstractBaseUser | None, day: date, name_vi: str, name_en: str) -> PublicHoliday:
    if PublicHoliday.objects.filter(date=day).exists():
        raise ValidationError({"date": _("This day is already a public holiday.")})
    holiday = PublicHoliday(date=day, name_vi=name_vi.strip(), name_en=name_en.strip() or name_vi.strip())
    holiday.full_clean()
    holiday.save()
    audit_record(holiday, action="create", actor=actor)
    return holiday


@transaction.atomic
def holiday_remove(*, actor: AbstractBaseUser, holiday: PublicHoliday) -> None:
    before = audit_stored(holiday)
    audit_record(holiday, action="delete", before=before, actor=actor)
    holiday.delete()


def holidays_seed(years: range) -> int:
    """Vietnam's default holidays for the given years, leaving any day a quality manager already set alone."""
    taken = set(PublicHoliday.objects.values_list("date", flat=True))
    added = 0
    for year in years:
        for holiday in vietnam_holidays(year):
            if holiday.day not in taken:
                holiday_add(actor=None, day=holiday.day, name_vi=holiday.name_vi, name_en=holiday.name_en)
                taken.add(holiday.day)
                added += 1
    return added
