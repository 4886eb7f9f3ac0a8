"""Each write path of each quality record (view, admin, command, task, import, public page) leaves an audit entry,
and none deletes or goes around a rule."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from customers import services as customers
from customers.models import Customer
from customers.services import unsubscribe_token
from feedback import corrective, workflow
from feedback.models import CaseStatus, ComplaintCase, CorrectiveAction
from feedback.tasks import escalate_overdue_cases
from reports import review as reviews
from reports.models import QualityObjective
from surveys.models import Invitation, Survey
from tests.factories import CustomerFactory, make_survey, staff_user

pytestmark = pytest.mark.django_db


def entries(instance, **filters):
    return AuditEntry.objects.filter(
        record_type=instance._meta.label_lower, record_id=str(instance.pk), **filters
    ).order_by("seq")


def test_survey_pages_leave_entries_and_changes_after_activation_name_their_version(qm_client, qm):
    qm_client.post(
        reverse("survey_create"), {"kind": "nps", "title_vi": "Khảo sát", "title_en": "Survey", "with_comment": "on"}
    )
    survey = Survey.objects.get()
    created = entries(survey).get()
    assert (created.action, created.actor, created.via) == ("create", qm, "web")
    assert created.changes["title_vi"] == [None, "Khảo sát"]
    # Draft edits are recorded too, but only changes once it is live count as "after activation".
    qm_client.post(reverse("survey_activate", args=[survey.pk]))
    edit = {
        "title_vi": "Khảo sát mới", "title_en": "Survey", "intro_vi": "", "intro_en": "", "closed_loop": "on",
        "nps_detractor_max": 5, "csat_detractor_max": 2, "ces_detractor_min": 6,
        "plan_purpose": "Đo lòng trung thành", "plan_scope": "Khách bán lẻ", "plan_population": "Khách mua 90 ngày",
        "plan_method": "Email", "plan_frequency": "Hằng quý", "plan_sample_target": 400,
        "change_reason": "Ngưỡng theo chuẩn ngành",
    }  # fmt: skip
    page = qm_client.post(reverse("survey_edit", args=[survey.pk]), edit)
    assert page.status_code == 302
    change = entries(survey, action="update").get()
    assert change.changes["title_vi"] == ["Khảo sát", "Khảo sát mới"]
    assert change.changes["nps_detractor_max"] == [6, 5] and change.changes["plan_sample_target"] == [None, 400]
    assert change.context == {"survey": survey.pk, "version": 1, "after_activation": True}
    assert change.reason == "Ngưỡng theo chuẩn ngành"
    detail = qm_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert "Đo lòng trung thành" in detail and "Hằng quý" in detail and "400" in detail
    assert 'data-testid="survey-changes"' in detail and "Ngưỡng theo chuẩn ngành" in detail
    # A question of the live version: its change says which version it applies to.
    question = survey.current_version.questions.get(position=2)
    qm_client.post(
        reverse("question_edit", args=[survey.pk, question.pk]),
        {"kind": "text", "text_vi": "Vì sao?", "text_en": "Why?", "required": ""},
    )
    qchange = entries(question, action="update").get()
    assert qchange.changes["text_vi"][1] == "Vì sao?" and qchange.context["version"] == 1


def test_customer_pages_import_erasure_and_unsubscribe_leave_entries(qm_client, qm):
    qm_client.post(
        reverse("customer_create"),
        {"name": "Lan", "email": "LAN@example.com", "language": "vi", "customer_type": "direct", "segment": "a"},
    )
    customer = Customer.objects.get()
    assert customer.email == "lan@example.com"
    assert entries(customer).get().action == "create"
    qm_client.post(
        reverse("customer_edit", args=[customer.pk]),
        {"name": "Lan", "email": "lan@example.com", "language": "en", "customer_type": "direct", "segment": "b"},
    )
    assert entries(customer, action="update").get().changes == {"language": ["vi", "en"], "segment": ["a", "b"]}
    upload = SimpleUploadedFile("c.csv", b"name,email,language,segment,type\nMai,mai@example.com,vi,b,direct\n")
    key = qm_client.post(reverse("customer_import"), {"file": upload}).context["key"]
    qm_client.post(reverse("customer_import"), {"key": key})
    imported = Customer.objects.get(email="mai@example.com")
    assert (entries(imported).get().via, entries(imported).get().actor) == ("import", qm)
    Client().post(reverse("unsubscribe", args=[unsubscribe_token(imported)]))
    opt_out = entries(imported, action="opt_out").get()
    assert opt_out.actor is None and opt_out.via == "public"
    qm_client.post(reverse("customer_erase", args=[customer.pk]), {"reason": "Thư yêu cầu 3/5", "confirm": "yes"})
    erased = entries(customer, action="erase").get()
    assert erased.reason == "Thư yêu cầu 3/5" and "erased_at" in erased.changes
    page = qm_client.get(reverse("customer_detail", args=[customer.pk])).content.decode()
    assert "Thư yêu cầu 3/5" in page and 'id="trail-title"' in page
    # Erased means erased: no service edits the record afterwards.
    with pytest.raises(ValidationError):
        customers.customer_update(customer=customer, name="Lan again")
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_find_or_create_by_email_is_one_function_used_by_public_page_and_complaint_survey(
    qm, django_capture_on_commit_callbacks
):
    existing = customers.customer_for_email(email="An@Example.com", name="An")
    assert customers.customer_for_email(email="an@example.com") == existing
    survey = make_survey(owner=qm)
    from surveys.public import public_link_enable

    public_link_enable(survey=survey)
    question = survey.current_version.questions.get(position=1)
    Client().post(
        reverse("respond_public", args=[survey.public_key]), {f"q{question.pk}": "9", "email": "moi@example.com"}
    )
    # The address typed is a claim: the customer is found or made when its owner confirms it (surveys/public.py).
    from surveys.models import ContactClaim
    from surveys.public import _token

    assert not Customer.objects.filter(email="moi@example.com").exists()
    claim = ContactClaim.objects.get(email="moi@example.com")
    Client().post(reverse("contact_confirm", args=[_token(claim.token_salt)]))
    assert entries(Customer.objects.get(email="moi@example.com"), action="create").get().via == "public"
    case = workflow.case_create(channel="phone", description="x", contact_name="Bình", contact_email="binh@example.com")
    workflow.case_transition(case=case, to_status=CaseStatus.ACKNOWLEDGED, actor=qm)
    workflow.case_transition(case=case, to_status=CaseStatus.INVESTIGATING, actor=qm)
    workflow.case_transition(case=case, to_status=CaseStatus.RESPONDED, actor=qm, message="Đã xử lý")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_transition(case=case, to_status=CaseStatus.CLOSED, actor=qm, customer_accepted=True)
    binh = Customer.objects.get(email="binh@example.com")
    assert entries(binh, action="create").exists()


def test_case_workflow_leaves_entries_and_a_closed_case_changes_only_after_a_reasoned_reopen(staff_client, staff):
    staff_client.post(
        reverse("case_create"),
        {"channel": "phone", "contact_name": "Lan", "language": "vi", "description": "Giao trễ",
         "severity": "low", "impact": "one", "assignee": staff.pk},
    )  # fmt: skip
    case = ComplaintCase.objects.get()
    assert [e.action for e in entries(case).order_by("seq")][0] == "create"
    assert entries(case, action="create").get().actor == staff
    for status, extra in [
        ("acknowledged", {}),
        ("investigating", {}),
        ("responded", {"message": "Xin lỗi"}),
        ("closed", {"customer_accepted": "yes", "resolution": "Hoàn phí"}),
    ]:
        staff_client.post(reverse("case_transition", args=[case.reference]), {"to_status": status, **extra})
    case.refresh_from_db()
    assert case.status == "closed"
    assert entries(case, action="transition").count() == 4
    # Closed: no edit, no reassignment, and no reopen without a reason.
    with pytest.raises(ValidationError):
        workflow.case_update(case=case, actor=staff, product="Máy lọc")
    staff_client.post(reverse("case_assign", args=[case.reference]), {"assignee": ""})
    staff_client.post(reverse("case_transition", args=[case.reference]), {"to_status": "reopened", "note": " "})
    case.refresh_from_db()
    assert case.status == "closed" and case.assignee == staff
    staff_client.post(
        reverse("case_transition", args=[case.reference]), {"to_status": "reopened", "note": "Khách gọi lại"}
    )
    case.refresh_from_db()
    assert case.status == "reopened"
    assert entries(case, action="reopen").get().reason == "Khách gọi lại"
    page = staff_client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert "Khách gọi lại" in page


def test_the_escalation_task_is_audited_as_the_system(staff):
    case = workflow.case_create(channel="phone", description="x", contact_name="k", severity="critical")
    ComplaintCase.objects.filter(pk=case.pk).update(acknowledge_due=timezone.now() - timedelta(hours=1))
    escalate_overdue_cases()
    entry = entries(case, action="escalate").get()
    assert entry.actor is None and entry.via == "task" and entry.changes["escalated_at"][0] is None


def _action_to_review(qm, staff):
    action = corrective.action_create(title="Trễ", nonconformity="Đơn trễ", owner=qm)
    corrective.action_record_containment(action=action, containment="Giao bù")
    corrective.action_decide(action=action, needed=True, reason="Lặp lại")
    corrective.action_record_root_cause(
        action=action,
        root_cause="Thiếu xe",
        method="other",
        similar_possible=False,
        similar="",
        update_risks=False,
        qms_change=False,
    )
    item = corrective.item_add(action=action, description="Thuê xe", owner=staff, due_date=timezone.localdate())
    corrective.item_set_status(item=item, status="done")
    return CorrectiveAction.objects.get(pk=action.pk), item


def test_a_closed_corrective_action_changes_only_after_a_reasoned_reopen(qm_client, qm):
    staff = staff_user()
    action, item = _action_to_review(qm, staff)
    assert [e.action for e in entries(action)] == [
        "create",
        "containment",
        "decision",
        "root_cause",
        "status",
        "status",
    ]
    assert entries(item).count() == 2
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        corrective.action_record_review(
            action=action, method="m", evidence="e", reviewer=qm, reviewed_on=today + timedelta(days=1),
            result="effective",
        )  # fmt: skip
    qm_client.post(
        reverse("action_step", args=[action.reference, "review"]),
        {"method": "So sánh", "evidence": "Giảm", "reviewed_on": today.isoformat(), "result": "effective"},
    )
    action.refresh_from_db()
    assert action.status == "closed"
    review = action.reviews.get()
    assert (entries(review).get().actor, review.reviewer) == (qm, qm)
    # The edit page of a closed action refuses, and a POST changes nothing.
    edit = {"title": "Khác", "nonconformity": "Đơn trễ", "owner": qm.pk, "segment": ""}
    assert qm_client.post(reverse("action_edit", args=[action.reference]), edit).status_code == 302
    action.refresh_from_db()
    assert action.title == "Trễ"
    with pytest.raises(ValidationError):
        corrective.item_set_status(item=item, status="open")
    qm_client.post(reverse("action_step", args=[action.reference, "reopen"]), {"reason": ""})
    action.refresh_from_db()
    assert action.status == "closed"
    qm_client.post(reverse("action_step", args=[action.reference, "reopen"]), {"reason": "Khiếu nại tái diễn"})
    action.refresh_from_db()
    assert action.status == "analysed" and action.closed_at is None
    assert entries(action, action="reopen").get().reason == "Khiếu nại tái diễn"
    page = qm_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert "Khiếu nại tái diễn" in page
    qm_client.post(reverse("action_edit", args=[action.reference]), edit)
    action.refresh_from_db()
    # The action's text can quote the customer (it starts as the case's words): on the trail as digests, as the case's.
    from audit.trail import audit_digest

    changed = entries(action, action="update").get().changes["title"]
    assert action.title == "Khác" and changed == [audit_digest("Trễ"), audit_digest("Khác")]


def test_objectives_and_management_reviews_leave_entries(qm_client, qm):
    survey = make_survey(owner=qm)
    qm_client.post(
        reverse("objective_new"),
        {"title": "NPS 40", "metric": "nps", "target": "40", "survey": survey.pk, "segment": "",
         "start": "2026-01-01", "due": "2026-12-31", "owner": qm.pk, "method": "Quý", "active": "on"},
    )  # fmt: skip
    objective = QualityObjective.objects.get()
    assert entries(objective).get().action == "create"
    review = reviews.review_create(
        title="Q4", period_start=timezone.localdate(), period_end=timezone.localdate(), prepared_by=qm
    )
    reviews.review_save_decisions(review=review, decisions="Tăng xe")
    action = reviews.review_add_action(review=review, description="Mua xe", owner=qm, due=timezone.localdate())
    from django.contrib.auth.models import Group

    from accounts.roles import TOP_MANAGEMENT
    from reports import review_records

    qm.groups.add(Group.objects.get(name=TOP_MANAGEMENT))  # sign-off is top management's
    qm._role_groups = None
    review_records.review_save_meeting(review=review, chair=qm, attendees="Lan")
    output = review_records.review_add_output(review=review, kind="resources", description="Thêm xe")
    reviews.review_sign(review=review, user=qm)
    assert [e.action for e in entries(review)] == ["create", "update", "update", "sign"]
    assert entries(output).get().action == "create"
    assert len(entries(review, action="sign").get().changes["snapshot_sha256"][1]) == 64
    assert entries(action).get().action == "create"
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_invitations_from_the_admin_and_renewed_links_are_audited(qm):
    qm.is_staff = qm.is_superuser = True
    qm.save()
    admin = Client()
    admin.force_login(qm)
    survey = make_survey(owner=qm)
    customer = CustomerFactory()
    admin.post(reverse("admin:surveys_invitation_add"), {"survey": survey.pk, "customer": customer.pk})
    invitation = Invitation.objects.get()
    entry = entries(invitation).get()
    assert (entry.action, entry.actor, entry.via) == ("create", qm, "admin")
    admin.post(
        reverse("admin:surveys_invitation_changelist"),
        {"action": "renew_links", "_selected_action": [invitation.pk]},
    )
    assert entries(invitation, action="renew_link").exists()


def test_versions_public_links_campaigns_and_the_closed_loop_leave_entries(qm_client, qm):
    from feedback.loop import case_from_response
    from surveys import campaigns
    from surveys.models import Campaign
    from tests.factories import make_response

    survey = make_survey(owner=qm)
    qm_client.post(reverse("survey_new_version", args=[survey.pk]))
    survey.refresh_from_db()
    version = survey.current_version
    assert version.number == 2 and entries(version).get().action == "create"
    copied = version.questions.all()
    assert all(entries(q).get().context["version"] == 2 for q in copied)
    qm_client.post(reverse("survey_public_link", args=[survey.pk]), {"enable": "1"})
    survey.refresh_from_db()
    assert entries(survey, action="update").last().changes["public_key"][0] is None
    CustomerFactory(segment="vip")
    campaign = campaigns.campaign_create(survey=survey, created_by=qm, name="Q4", segment="vip")
    campaigns.campaign_start(campaign=campaign)
    assert [e.action for e in entries(campaign)] == ["create", "start"]
    assert entries(campaign, action="start").get().changes["invitations"] == [None, 1]
    later = campaigns.campaign_create(
        survey=survey, created_by=qm, name="Q1", send_at=timezone.now() + timedelta(days=30)
    )
    qm_client.post(reverse("campaign_cancel", args=[later.pk]))
    assert Campaign.objects.get(pk=later.pk).status == "cancelled" and entries(later, action="cancel").exists()
    # The closed loop, from a worker: the case it opens for a detractor is on the record as the system's.
    response = make_response(survey, 2)
    assert case_from_response(response.pk) == "created"
    case = ComplaintCase.objects.get(response=response)
    entry = entries(case).get()
    assert entry.action == "create" and entry.actor is None
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_response_joined_to_a_customer_by_a_confirmed_address_is_on_the_trail(
    qm_client, django_capture_on_commit_callbacks
):
    """The public link's answer was anonymous; the address's owner confirmed it: the auditor sees which claim
    linked which response to which customer, when, and through which door, and the chain still verifies."""
    from audit.verify import chain_break, record_breaks
    from surveys.models import ContactClaim, Response
    from surveys.public import _token, public_link_enable

    survey = public_link_enable(survey=make_survey(kind="csat"))
    score = survey.current_version.questions.order_by("position").first()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            reverse("respond_public", args=[survey.public_key]),
            {"lang": "vi", f"q{score.pk}": "5", "email": "hoa@example.com"},
        )
    response, claim = Response.objects.get(), ContactClaim.objects.get()
    assert not entries(response).exists()  # answering alone writes nothing to the trail
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("contact_confirm", args=[_token(claim.token_salt)]))
    customer = Customer.objects.get(email="hoa@example.com")
    entry = entries(response).get()
    assert entry.action == "link_customer" and entry.via == "public" and entry.actor_id is None
    assert entry.changes == {"customer": [None, customer.pk], "contact_claim": [None, claim.pk]}
    assert entry.context == {"contact_claim": claim.pk}
    claim.refresh_from_db()
    assert entry.at >= claim.confirmed_at
    # Confirming again changes nothing and writes nothing.
    Client().post(reverse("contact_confirm", args=[_token(claim.token_salt)]))
    assert entries(response).count() == 1
    assert chain_break() is None and record_breaks() == []
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # The quality manager reads it on the audit page, in Vietnamese.
    page = qm_client.get(reverse("audit_trail"), {"type": "surveys.response", "record": str(response.pk)})
    html = page.content.decode()
    assert "Đã liên kết với khách hàng" in html and str(claim.pk) in html
    # And a customer moved behind the trail's back is found.
    Response.objects.filter(pk=response.pk).update(customer=CustomerFactory())
    assert record_breaks()
