from datetime import date, time

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from feedback import workflow
from feedback.models import ComplaintSettings, PublicHoliday

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "heading", "holiday"),
    [("vi", "Lịch làm việc", "Ngày Giải phóng miền Nam"), ("en", "Business calendar", "Reunification Day")],
)
def test_the_calendar_page_lists_vietnams_holidays_in_the_readers_language(qm_client, language, heading, holiday):
    with time_machine.travel("2026-03-01 10:00 +0700", tick=False):
        page = qm_client.get(reverse("business_calendar"), HTTP_ACCEPT_LANGUAGE=language)
    text = page.content.decode()
    assert page.status_code == 200
    assert heading in text and holiday in text


def test_staff_and_anonymous_users_cannot_change_the_calendar(client, staff_client):
    holiday = PublicHoliday.objects.get(date=date(2026, 4, 30))
    assert staff_client.get(reverse("business_calendar")).status_code == 403
    assert staff_client.post(reverse("holiday_remove", args=[holiday.pk])).status_code == 403
    assert (
        client.post(reverse("holiday_add"), {"holiday-date": "2026-06-01", "holiday-name_vi": "x"}).status_code == 302
    )
    assert PublicHoliday.objects.filter(pk=holiday.pk).exists()
    assert not PublicHoliday.objects.filter(date=date(2026, 6, 1)).exists()


def test_a_quality_manager_adds_and_removes_a_holiday_and_due_dates_follow(qm_client, qm):
    page = qm_client.post(
        reverse("holiday_add"),
        {"holiday-date": "2026-05-04", "holiday-name_vi": "Nghỉ công ty", "holiday-name_en": "Company day"},
    )
    assert page.status_code == 302
    added = PublicHoliday.objects.get(date=date(2026, 5, 4))
    assert AuditEntry.objects.filter(record_type="feedback.publicholiday", action="create", actor_id=qm.pk).exists()
    with time_machine.travel("2026-04-29 17:55 +0700", tick=False):
        case = workflow.case_create(channel="phone", description="x", contact_phone="090", severity="high")
    assert timezone.localtime(case.acknowledge_due).isoformat() == "2026-05-05T16:00:00+07:00"
    # The same day twice is refused with a message, and nothing changes.
    again = qm_client.post(reverse("holiday_add"), {"holiday-date": "2026-05-04", "holiday-name_vi": "Lặp"})
    assert again.status_code == 200 and "đã là ngày nghỉ lễ" in again.content.decode()
    assert PublicHoliday.objects.filter(date=date(2026, 5, 4)).count() == 1
    qm_client.post(reverse("holiday_remove", args=[added.pk]))
    assert not PublicHoliday.objects.filter(date=date(2026, 5, 4)).exists()
    assert AuditEntry.objects.filter(record_type="feedback.publicholiday", action="delete").exists()


def test_working_hours_are_saved_and_used(qm_client):
    page = qm_client.post(
        reverse("business_calendar"),
        {
            "hours-work_start": "07:30",
            "hours-work_end": "16:30",
            "hours-working_days": ["1", "2", "3", "4", "5", "6"],
            "hours-escalate_managers_after": "2",
            "hours-escalate_top_after": "10",
        },
    )
    assert page.status_code == 302
    config = ComplaintSettings.load()
    assert (config.work_start, config.work_end, config.working_days) == (time(7, 30), time(16, 30), "123456")
    assert (config.escalate_managers_after, config.escalate_top_after) == (2, 10)
    # Saturday 9 May 2026 15:00: 1.5 h left that day, then Monday from 07:30.
    with time_machine.travel("2026-05-09 15:00 +0700", tick=False):
        case = workflow.case_create(channel="phone", description="x", contact_phone="090", severity="critical")
    assert timezone.localtime(case.acknowledge_due).isoformat() == "2026-05-11T08:00:00+07:00"


def test_a_working_day_that_ends_before_it_starts_is_refused(qm_client):
    page = qm_client.post(
        reverse("business_calendar"),
        {
            "hours-work_start": "17:00",
            "hours-work_end": "08:00",
            "hours-working_days": ["1"],
            "hours-escalate_managers_after": "8",
            "hours-escalate_top_after": "4",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200 and "must end after it starts" in page.content.decode()
    assert "Top management comes after the quality managers" in page.content.decode()
    assert ComplaintSettings.load().work_start == time(8, 0)
