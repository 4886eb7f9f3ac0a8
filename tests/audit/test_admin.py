"""The admin reads quality records and cannot go around their rules: no change form saves, nothing is deleted,
and simple-history's Revert is off."""

import pytest
from django.test import Client
from django.urls import reverse

from customers import services as customers
from customers.models import Customer
from feedback import corrective, workflow
from feedback.models import CaseStatus, ComplaintCase
from surveys.models import Question, Response
from tests.factories import CustomerFactory, make_invitation, make_response, make_survey, quality_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    user = quality_manager(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def _closed_case(actor):
    case = workflow.case_create(channel="phone", description="Trễ", contact_name="Lan")
    for status, extra in [
        (CaseStatus.ACKNOWLEDGED, {}),
        (CaseStatus.INVESTIGATING, {}),
        (CaseStatus.RESPONDED, {"message": "Xin lỗi"}),
        (CaseStatus.CLOSED, {"customer_accepted": True}),
    ]:
        workflow.case_transition(case=case, to_status=status, actor=actor, **extra)
    return ComplaintCase.objects.get(pk=case.pk)


def test_every_quality_record_is_read_only_and_undeletable_in_the_admin(admin_client):
    qm = admin_client.user
    survey = make_survey(owner=qm)
    invitation, _token = make_invitation(survey=survey)
    response = make_response(survey, 3, customer=invitation.customer)
    case = _closed_case(qm)
    action = corrective.action_create(title="Trễ", nonconformity="x", owner=qm)
    records = {
        "surveys_survey": survey,
        "surveys_surveyversion": survey.current_version,
        "surveys_question": survey.current_version.questions.first(),
        "customers_customer": invitation.customer,
        "surveys_invitation": invitation,
        "surveys_response": response,
        "surveys_answer": response.answers.first(),
        "feedback_complaintcase": case,
        "feedback_correctiveaction": action,
        "audit_auditentry": __import__("audit.models").models.AuditEntry.objects.first(),
    }
    for name, obj in records.items():
        change = reverse(f"admin:{name}_change", args=[obj.pk])
        assert admin_client.get(change).status_code == 200, name  # readable
        assert admin_client.post(change, {}).status_code == 403, name  # not savable
        assert admin_client.get(reverse(f"admin:{name}_delete", args=[obj.pk])).status_code == 403, name
        changelist = admin_client.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert "delete_selected" not in changelist, name
    # Nothing was deleted: the dashboard's count and the table agree.
    assert Response.objects.count() == 1 and Customer.objects.count() == 1


def test_reverting_a_closed_case_from_its_history_is_refused(admin_client):
    case = _closed_case(admin_client.user)
    record = case.history.order_by("history_date").first()
    url = reverse("admin:feedback_complaintcase_simple_history", args=[case.pk, record.history_id])
    page = admin_client.post(url, {"status": "received"})
    assert page.status_code == 403
    assert admin_client.get(url).status_code == 200  # the past version stays readable
    case.refresh_from_db()
    assert case.status == "closed" and not case.events.filter(to_status="received", kind="status").exists()


def test_an_erased_customer_stays_erased_in_the_admin(admin_client):
    customer = customers.customer_create(name="Lan", email="lan@example.com")
    customers.customer_erase(customer=customer, actor=admin_client.user, reason="Thư yêu cầu")
    change = reverse("admin:customers_customer_change", args=[customer.pk])
    page = admin_client.post(change, {"name": "Lan", "email": "lan@example.com", "language": "vi"})
    assert page.status_code == 403
    customer.refresh_from_db()
    assert customer.name == "—" and customer.email == ""


def test_question_edits_go_through_the_builder_which_refreshes_the_respondent_page(admin_client):
    from surveys import building

    survey = make_survey(owner=admin_client.user)
    _invitation, token = make_invitation(survey=survey)
    question = survey.current_version.questions.get(position=1)
    respondent = Client()
    assert question.text_vi in respondent.get(reverse("respond", args=[token])).content.decode()
    change = reverse("admin:surveys_question_change", args=[question.pk])
    assert admin_client.post(change, {"text_vi": "Sửa trong admin"}).status_code == 403
    building.question_update(
        question=question, kind=question.kind, text_en="Would you recommend us?", text_vi="Câu hỏi mới", required=True
    )
    assert "Câu hỏi mới" in respondent.get(reverse("respond", args=[token])).content.decode()


def test_the_admin_adds_invitations_only_through_the_service(admin_client):
    survey = make_survey(owner=admin_client.user, active=False)
    customer = CustomerFactory()
    admin_client.post(reverse("admin:surveys_invitation_add"), {"survey": survey.pk, "customer": customer.pk})
    assert not survey.invitations.exists()  # the service's rule: activate first
    assert Question.objects.filter(version__survey=survey).exists()


def test_the_business_calendar_changes_only_on_its_page_which_keeps_the_trail(admin_client):
    from audit.models import AuditEntry
    from feedback.models import ComplaintSettings

    config = ComplaintSettings.load()
    change = reverse("admin:feedback_complaintsettings_change", args=[config.pk])
    assert admin_client.get(change).status_code == 200
    entries = AuditEntry.objects.count()
    # A working day that ends before it starts, and the closed loop's watermark past every response: the page's
    # service refuses the first, and nobody should move the second by hand (detractors would get no case).
    admin_client.post(
        change,
        {
            "work_start": "17:00:00",
            "work_end": "08:00:00",
            "working_days": "1",
            "escalate_managers_after": "0",
            "escalate_top_after": "0",
            "loop_watermark": "999999",
            "loop_examined": "999999",
        },
    )
    config.refresh_from_db()
    assert (config.work_start.hour, config.work_end.hour, config.working_days) == (8, 17, "12345")
    assert (config.loop_watermark, config.escalate_top_after) == (0, 16)
    assert AuditEntry.objects.count() == entries
