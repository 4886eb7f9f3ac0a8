"""The complaint-handling survey after closing: linked to its case, its results per category and per handler
(ISO 10002 9.3), with n and intervals, and "not enough responses" below the minimum n."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from feedback import workflow
from feedback.models import CaseStatus, Category, ComplaintCase
from surveys.models import Response
from tests.factories import staff_user

pytestmark = pytest.mark.django_db
S = CaseStatus


def closed_case(*, category, handler, email, capture, mailoutbox):
    """A case taken through to closing as its handler works it; returns it and the survey link emailed."""
    with capture(execute=True):
        case = workflow.case_create(
            channel="phone", description="Giao trễ", contact_email=email, category=category, assignee=handler
        )
    with capture(execute=True):
        for status, extra in [(S.INVESTIGATING, {}), (S.RESPONDED, {"message": "Hoàn tiền"})]:
            workflow.case_transition(case=case, to_status=status, actor=handler, **extra)
    mailoutbox.clear()
    with capture(execute=True):
        workflow.case_transition(case=case, to_status=S.CLOSED, actor=handler, customer_accepted=True)
    (mail,) = [m for m in mailoutbox if m.to == [email]]
    token = re.search(r"/s/([^/\s]+)/", mail.body).group(1)
    return case, token


def answer(token, score, capture):
    client = Client()
    page = client.get(reverse("respond", args=[token]))
    field = re.search(r'name="(q\d+)"', page.content.decode()).group(1)
    with capture(execute=True):
        client.post(reverse("respond", args=[token]), {field: str(score)})


@pytest.fixture
def answered(django_capture_on_commit_callbacks, mailoutbox):
    capture = django_capture_on_commit_callbacks
    delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    billing = Category.objects.create(name_vi="Hoá đơn", name_en="Billing")
    minh = staff_user(username="minh", first_name="Minh", last_name="Trần")
    hoa = staff_user(username="hoa", first_name="Hoa", last_name="Lê")
    plan = [(delivery, minh, 5), (delivery, minh, 4), (delivery, hoa, 2), (billing, hoa, 5)]
    cases = []
    for i, (category, handler, score) in enumerate(plan):
        case, token = closed_case(
            category=category, handler=handler, email=f"k{i}@example.com", capture=capture, mailoutbox=mailoutbox
        )
        answer(token, score, capture)
        cases.append(case)
    return cases


def test_the_survey_sent_after_closing_is_linked_to_its_case(answered, staff_client):
    case = ComplaintCase.objects.get(pk=answered[0].pk)
    assert case.handling_invitation is not None
    response = Response.objects.get(invitation=case.handling_invitation)
    assert response.answers.get().number == 5
    entry = AuditEntry.objects.get(
        record_type="feedback.complaintcase", record_id=str(case.pk), action="handling_survey"
    )
    assert entry.changes["handling_invitation"][1] == case.handling_invitation_id
    for language, word in (("vi", "CSAT"), ("en", "CSAT")):
        html = staff_client.get(reverse("case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language)
        row = html.content.decode().split('data-testid="handling-survey">')[1].split("</dd>")[0]
        assert word in row and "5" in row


@pytest.mark.parametrize(
    ("language", "delivery", "billing", "not_enough", "wilson"),
    [
        ("vi", "Giao hàng", "Hoá đơn", "Chưa đủ câu trả lời", "Wilson"),
        ("en", "Delivery", "Billing", "Not enough responses", "Wilson"),
    ],
)
def test_results_per_category_and_handler(
    answered, qm_client, settings, language, delivery, billing, not_enough, wilson
):
    settings.REPORTS_MIN_N = 2
    page = qm_client.get(reverse("complaint_handling"), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    by_category = html.split('data-testid="handling-by-category"')[1].split("</table>")[0]
    rows = [r for r in by_category.split("<tr>")[2:]]
    # Delivery: 3 answers, 2 satisfied (66.7 %); Billing: 1 answer, below the minimum.
    assert delivery in rows[0] and "<td>3</td>" in rows[0] and ("66,7" if language == "vi" else "66.7") in rows[0]
    assert wilson in rows[0]
    assert billing in rows[1] and "<td>1</td>" in rows[1] and not_enough in rows[1]
    by_handler = html.split('data-testid="handling-by-handler"')[1].split("</table>")[0]
    rows = by_handler.split("<tr>")[2:]
    # Minh: 5 and 4, both satisfied; Hoa: 2 and 5, one of two.
    minh = next(r for r in rows if "Minh Trần" in r)
    hoa = next(r for r in rows if "Hoa Lê" in r)
    assert "<td>2</td>" in minh and ("100,0" if language == "vi" else "100.0") in minh
    assert "<td>2</td>" in hoa and ("50,0" if language == "vi" else "50.0") in hoa
    overall = html.split('data-testid="handling-overall"')[1][:40]
    assert ("75,0" if language == "vi" else "75.0") in overall


def test_the_page_is_for_quality_managers_and_has_an_empty_state(staff_client, qm_client):
    assert staff_client.get(reverse("complaint_handling")).status_code == 403
    assert Client().get(reverse("complaint_handling")).status_code == 302
    html = qm_client.get(reverse("complaint_handling"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No answers to the complaint-handling survey in this period." in html
    page = qm_client.get(reverse("complaint_handling"), {"start": "2026-05-01", "end": "2026-01-01"})
    assert page.status_code == 200 and "Ngày kết thúc không được trước ngày bắt đầu" in page.content.decode()
    assert qm_client.get(reverse("complaint_handling"), {"start": "not a date"}).status_code == 200
