"""The on-time figure counts open cases already past their closing limit (ISO 10002: how far limits are met)."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from feedback import workflow
from feedback.models import CaseStatus
from reports.complaints import complaint_summary
from tests.factories import make_survey, staff_user

pytestmark = pytest.mark.django_db
S = CaseStatus


def _case():
    return workflow.case_create(channel="phone", description="x", contact_phone="090", severity="critical")


def _close(case, actor):
    for status, extra in [(S.ACKNOWLEDGED, {}), (S.INVESTIGATING, {}), (S.RESPONDED, {"message": "OK"})]:
        workflow.case_transition(case=case, to_status=status, actor=actor, **extra)
    workflow.case_transition(case=case, to_status=S.CLOSED, actor=actor, customer_accepted=True)


@pytest.fixture
def june():
    """One case closed on time, three left open past their 120 working-hour closing limit."""
    actor = staff_user()
    with time_machine.travel("2026-06-01 09:00 +0700", tick=False):
        on_time = _case()
        late = [_case() for _ in range(3)]
        _close(on_time, actor)
    return on_time, late


def test_open_overdue_cases_count_against_the_on_time_share(june):
    with time_machine.travel("2026-07-15 09:00 +0700", tick=False):
        summary = complaint_summary(date(2026, 6, 1), date(2026, 6, 30))
    assert (summary.closed, summary.on_time, summary.overdue_open, summary.due) == (1, 1, 3, 4)


def test_a_case_not_yet_past_its_limit_is_not_counted(june):
    # 2 June: the open cases are due on 16 June, so only the closed one counts.
    with time_machine.travel("2026-06-02 09:00 +0700", tick=False):
        summary = complaint_summary(date(2026, 6, 1), date(2026, 6, 30))
    assert (summary.closed, summary.overdue_open) == (1, 0)


@pytest.mark.parametrize(
    ("language", "share", "late"),
    [
        ("en", "Closed within the time limit: 25%", "3 open cases past their limit are counted as late"),
        ("vi", "Đóng đúng thời hạn: 25%", "3 hồ sơ còn mở đã quá hạn được tính là trễ"),
    ],
)
def test_the_dashboard_shows_the_share_with_open_overdue_cases(qm_client, june, language, share, late):
    make_survey()
    with time_machine.travel("2026-07-15 09:00 +0700", tick=False):
        page = qm_client.get(
            reverse("dashboard"), {"start": "2026-06-01", "end": "2026-06-30"}, HTTP_ACCEPT_LANGUAGE=language
        )
    html = page.content.decode()
    assert share in html and late in html
