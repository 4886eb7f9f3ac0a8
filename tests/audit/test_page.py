"""The quality manager's audit page: list, filter by record and period, export as CSV in the reader's language."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from feedback import workflow
from surveys import building
from tests.factories import make_survey

pytestmark = pytest.mark.django_db


def _csv(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_trail_is_listed_filtered_and_exported(qm_client, qm):
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        old = workflow.case_create(channel="phone", description="Cũ", contact_name="A", actor=qm)
    survey = make_survey(owner=qm)
    building.survey_update(survey=survey, title_vi="=HYPERLINK(1)", reason="Đổi tên")
    page = qm_client.get(reverse("audit_trail"))
    html = page.content.decode()
    assert page.status_code == 200 and old.reference in html and "Đổi tên" in html
    # One record.
    one = qm_client.get(reverse("audit_trail"), {"type": "surveys.survey", "record": survey.pk}).content.decode()
    assert "Đổi tên" in one and old.reference not in one
    # A period: the last three days.
    start = (timezone.localdate() - timedelta(days=3)).isoformat()
    recent = qm_client.get(reverse("audit_trail"), {"start": start}).content.decode()
    assert old.reference not in recent and "Đổi tên" in recent
    # Bad filters are ignored, never a 500.
    assert qm_client.get(reverse("audit_trail"), {"start": "2026-13-45", "type": "x"}).status_code == 200
    rows = _csv(qm_client.get(reverse("audit_export"), {"type": "surveys.survey"}, HTTP_ACCEPT_LANGUAGE="vi"))
    header, data = rows[0], rows[1:]
    assert header[:3] == ["Số mục", "Khi nào", "Ai"]
    change = next(r for r in data if r[10] == "Đổi tên")
    assert change[7] == "tiêu đề (tiếng Việt)" and change[9] == "'=HYPERLINK(1)"  # a formula stays text
    assert all(r[4] == "khảo sát" for r in data)
    english = _csv(qm_client.get(reverse("audit_export"), {"record": old.reference}, HTTP_ACCEPT_LANGUAGE="en"))
    assert english[0][:3] == ["Entry no.", "When", "Who"] and {r[5] for r in english[1:]} == {old.reference}


def test_staff_cannot_read_the_trail(staff_client):
    assert staff_client.get(reverse("audit_trail")).status_code == 403
    assert staff_client.get(reverse("audit_export")).status_code == 403


def test_an_empty_trail_says_so(qm_client):
    from audit.models import AuditEntry

    assert not AuditEntry.objects.filter(record_type="feedback.complaintcase").exists()
    page = qm_client.get(reverse("audit_trail"), {"type": "feedback.complaintcase"})
    assert 'data-testid="audit-entries"' not in page.content.decode()


def test_the_page_costs_the_same_queries_at_any_length(qm_client, qm, django_assert_max_num_queries):
    survey = make_survey(owner=qm)
    for n in range(48):  # with the survey's own entries, more than a page
        building.survey_update(survey=survey, intro_en=f"v{n}")
    # Session, user, groups, the count and one page of entries: nothing per entry.
    with django_assert_max_num_queries(6):
        page = qm_client.get(reverse("audit_trail"))
    assert page.status_code == 200 and page.content.decode().count("<tr>") == 1 + 50  # the header, one page


def test_the_trail_reads_in_the_readers_language_not_in_stored_codes(qm_client, qm):
    # The same change the case page shows as "Đã tiếp nhận → Đã xác nhận" read "received → acknowledged" here, with
    # times as "2026-12-04 16:39", English action names ("assess") and field names ("created by" → "người dùng").
    from django.utils import formats, translation

    case = workflow.case_create(channel="phone", description="Giao trễ", contact_name="A", actor=qm)
    workflow.case_transition(case=case, to_status="acknowledged", actor=qm)
    workflow.case_assess(
        case=case, actor=qm, severity="high", impact="many", complexity="", immediate_action_needed=False
    )
    html = qm_client.get(reverse("audit_trail"), {"record": case.reference}, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "received" not in html and "acknowledged" not in html and "assess" not in html
    assert "Điện thoại" in html and "Rất nhiều khách hàng" in html and "Đánh giá ban đầu" in html
    assert "người tạo" in html and "người dùng" not in html
    received = timezone.localtime(case.received_at)
    with translation.override("vi"):
        assert formats.date_format(received, "SHORT_DATETIME_FORMAT") in html
    assert received.strftime("%Y-%m-%d %H:%M") not in html
    # The CSV says the same in the reader's language.
    rows = _csv(qm_client.get(reverse("audit_export"), {"record": case.reference}, HTTP_ACCEPT_LANGUAGE="vi"))
    status = next(r for r in rows[1:] if r[7] == "trạng thái" and r[8] != "—")
    assert (status[8], status[9]) == ("Đã tiếp nhận", "Đã xác nhận")


@pytest.mark.parametrize(
    ("query", "language", "said"),
    [
        ({"start": "2026-13-45"}, "vi", "“Từ ngày” không phải là ngày hợp lệ"),
        ({"end": "hôm qua"}, "en", "“To” is not a valid date: the trail is shown without it."),
        ({"start": "x", "end": "2026-02-30"}, "en", "“From” and “To” are not valid dates"),
    ],
)
def test_a_date_that_cannot_be_read_is_said_not_silently_dropped(qm_client, qm, query, language, said):
    # An edited or bookmarked address with a date the page cannot read used to show the whole trail as if filtered.
    make_survey(owner=qm)
    page = qm_client.get(reverse("audit_trail"), query, HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert page.status_code == 200 and said in html and 'data-testid="audit-unread-date"' in html
    fine = qm_client.get(reverse("audit_trail"), {"start": "2026-01-01"}, HTTP_ACCEPT_LANGUAGE=language)
    assert 'data-testid="audit-unread-date"' not in fine.content.decode()
