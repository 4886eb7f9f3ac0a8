"""A customer who does not accept the decision: recorded, the case stays open, recourse offered in their language."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from feedback import workflow
from feedback.models import CaseEvent, CaseStatus
from feedback.notify import tracking_link
from outbox.dispatch import outbox_dispatch
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
S = CaseStatus


def _answered(customer, actor):
    case = workflow.case_create(channel="phone", description="Giao trễ", customer=customer, assignee=actor)
    for status, extra in [(S.ACKNOWLEDGED, {}), (S.INVESTIGATING, {}), (S.RESPONDED, {"message": "Tặng phiếu"})]:
        workflow.case_transition(case=case, to_status=status, actor=actor, **extra)
    # The acknowledgement and the decision wait in the outbox until a commit; send them now, as a worker would.
    outbox_dispatch()
    return case


@pytest.mark.parametrize(
    ("language", "subject", "internal", "external"),
    [
        ("vi", "lựa chọn", "Xem xét nội bộ", "ISO 10003"),
        ("en", "your options", "Internal review", "ISO 10003"),
    ],
)
def test_non_acceptance_is_recorded_and_recourse_sent_in_the_customers_language(
    staff_client, staff, mailoutbox, django_capture_on_commit_callbacks, language, subject, internal, external
):
    customer = CustomerFactory(language=language, email="c@example.com", name="An")
    case = _answered(customer, staff)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = staff_client.post(reverse("case_not_accepted", args=[case.reference]), {"reason": "Muốn hoàn tiền"})
    assert page.status_code == 302
    case.refresh_from_db()
    assert case.status == S.RESPONDED  # stays open for the internal review
    assert case.customer_accepted is False and case.non_acceptance_reason == "Muốn hoàn tiền"
    assert case.recourse_offered_at is not None
    assert case.events.filter(kind=CaseEvent.Kind.NOT_ACCEPTED, actor=staff, text="Muốn hoàn tiền").exists()
    assert AuditEntry.objects.filter(record_id=str(case.pk), action="not_accepted", actor_id=staff.pk).exists()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["c@example.com"]
    assert subject in mailoutbox[0].subject and internal in mailoutbox[0].body and external in mailoutbox[0].body
    # The customer's tracking page shows the same recourse, in their language.
    track = staff_client.get(tracking_link(case).replace("http://127.0.0.1:8000", "")).content.decode()
    assert 'data-testid="recourse"' in track and internal in track
    # The staff page shows what was recorded.
    html = staff_client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert 'data-testid="not-accepted"' in html and "Muốn hoàn tiền" in html


def test_non_acceptance_needs_a_decision_and_a_reason(staff):
    case = workflow.case_create(channel="phone", description="x", contact_name="k")
    with pytest.raises(ValidationError):
        workflow.case_record_non_acceptance(case=case, actor=staff, reason="Không đồng ý")
    case = _answered(CustomerFactory(email="d@example.com"), staff)
    with pytest.raises(ValidationError):
        workflow.case_record_non_acceptance(case=case, actor=staff, reason="  ")
    case.refresh_from_db()
    assert case.customer_accepted is None and case.recourse_offered_at is None
    assert not case.events.filter(kind=CaseEvent.Kind.NOT_ACCEPTED).exists()
