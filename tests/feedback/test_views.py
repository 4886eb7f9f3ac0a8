from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import workflow
from feedback.models import CaseStatus, Category, ComplaintCase, CorrectiveAction, TimeLimit
from tests.factories import CustomerFactory, quality_manager

pytestmark = pytest.mark.django_db


def test_staff_logs_a_phone_complaint_in_one_form(staff_client, staff):
    customer = CustomerFactory(email="an@example.com")
    category = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    page = staff_client.post(
        reverse("case_create"),
        {
            "channel": "phone",
            "customer": "AN@example.com",
            "language": "vi",
            "description": "Giao trễ 3 ngày",
            "category": category.pk,
            "severity": "high",
            "impact": "one",
            "assignee": staff.pk,
        },
    )
    case = ComplaintCase.objects.get()
    assert page["Location"] == reverse("case_detail", args=[case.reference])
    assert case.customer == customer and case.assignee == staff and case.priority == "p2"
    assert case.created_by == staff and case.events.get(kind="created").actor == staff


def test_bad_case_form_keeps_what_was_typed(staff_client):
    page = staff_client.post(
        reverse("case_create"),
        {
            "channel": "phone",
            "description": "Mất hàng",
            "language": "vi",
            "severity": "low",
            "impact": "one",
            "customer": "nobody@example.com",
        },
    )
    html = page.content.decode()
    assert page.status_code == 200 and "Mất hàng" in html
    assert ComplaintCase.objects.count() == 0


def test_case_page_offers_only_allowed_transitions_and_keeps_refused_text(staff_client, staff):
    case = workflow.case_create(channel="phone", description="x", contact_name="k", assignee=staff)
    html = staff_client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert 'value="acknowledged"' in html and 'value="rejected"' in html and 'value="closed"' not in html
    staff_client.post(reverse("case_transition", args=[case.reference]), {"to_status": "acknowledged"})
    staff_client.post(reverse("case_transition", args=[case.reference]), {"to_status": "investigating"})
    # Responding without the decision is refused; the note typed is shown again, the status is unchanged.
    staff_client.post(
        reverse("case_transition", args=[case.reference]), {"to_status": "responded", "note": "Ghi chú quan trọng"}
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING
    html = staff_client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert "Ghi chú quan trọng" in html
    # A forged transition is refused too.
    staff_client.post(
        reverse("case_transition", args=[case.reference]), {"to_status": "closed", "customer_accepted": "yes"}
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING


def test_a_refused_rejection_comes_back_as_a_rejection_not_a_response(staff_client, staff):
    case = workflow.case_create(channel="phone", description="x", contact_name="k", assignee=staff)
    for status in ("acknowledged", "investigating"):
        staff_client.post(reverse("case_transition", args=[case.reference]), {"to_status": status})
    # "Responded" is the first choice offered: a refused "Rejected" must not come back on it, or the next click
    # sends the customer a rejection recorded as a response.
    staff_client.post(reverse("case_transition", args=[case.reference]), {"to_status": "rejected", "note": "Ngoài"})
    html = staff_client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert '<option value="rejected" selected>' in html and '<option value="responded" selected>' not in html
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING


def test_case_list_filters_and_overdue_flag(staff_client, staff):
    import time_machine

    with time_machine.travel("2026-01-01 08:00 +0000", tick=False):
        late = workflow.case_create(channel="phone", description="old", contact_name="k", assignee=staff)
    fresh = workflow.case_create(channel="phone", description="new", contact_name="k", severity="critical")
    html = staff_client.get(reverse("case_list") + "?overdue=1").content.decode()
    assert late.reference in html and fresh.reference not in html
    html = staff_client.get(reverse("case_list") + "?severity=critical").content.decode()
    assert fresh.reference in html and late.reference not in html
    html = staff_client.get(reverse("case_list") + "?assignee=me&status=open").content.decode()
    assert late.reference in html and fresh.reference not in html
    home = staff_client.get(reverse("home")).content.decode()
    assert late.reference in home
    assert staff_client.get(reverse("case_list") + "?page=99&category=x").status_code == 200


def test_quality_manager_runs_a_corrective_action_from_a_case(qm_client, qm, staff_client, staff):
    case = workflow.case_create(channel="phone", description="Giao trễ", contact_name="k")
    page = qm_client.post(
        reverse("action_create") + f"?case={case.reference}",
        {"title": "Giao hàng trễ", "nonconformity": "Đơn trễ", "owner": qm.pk, "case_references": case.reference},
    )
    action = CorrectiveAction.objects.get()
    assert page["Location"] == reverse("action_detail", args=[action.reference])
    assert list(action.cases.all()) == [case]
    step = lambda name, data: qm_client.post(reverse("action_step", args=[action.reference, name]), data)  # noqa: E731
    step("decision", {"needed": "yes", "reason": "r"})  # refused: correction first
    action.refresh_from_db()
    assert action.action_needed is None
    step("containment", {"containment": "Giao bù"})
    step("decision", {"needed": "yes", "reason": "Lặp lại"})
    step(
        "root-cause",
        {"method": "fishbone", "root_cause": "Thiếu xe", "fish_machine": "Xe hỏng", "similar_possible": "no",
         "similar": "", "update_risks": "on"},
    )  # fmt: skip
    # Staff add and finish the action items; they cannot record the review.
    staff_client.post(
        reverse("item_add", args=[action.reference]),
        {"description": "Thuê thêm xe", "owner": staff.pk, "due_date": str(timezone.localdate() + timedelta(days=30))},
    )
    item = action.items.get()
    staff_client.post(reverse("item_status", args=[action.reference, item.pk]), {"status": "done"})
    assert staff_client.post(reverse("action_step", args=[action.reference, "review"]), {}).status_code == 403
    step(
        "review",
        {"method": "So sánh", "evidence": "Giảm", "reviewed_on": str(timezone.localdate()), "result": "effective"},
    )
    action.refresh_from_db()
    assert action.status == "closed" and action.update_risks and action.root_cause_method == "fishbone"
    detail = qm_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert "Thuê thêm xe" in detail and case.reference in detail


def test_unknown_case_reference_in_an_action_is_explained(qm_client, qm):
    page = qm_client.post(
        reverse("action_create"),
        {"title": "t", "nonconformity": "n", "owner": qm.pk, "case_references": "CMP-2026-999999"},
    )
    assert page.status_code == 200 and "CMP-2026-999999" in page.content.decode()
    assert CorrectiveAction.objects.count() == 0


def test_time_limits_are_validated(qm_client):
    qm_client.get(reverse("time_limits"))
    limits = list(TimeLimit.objects.order_by("id"))
    data = {"form-TOTAL_FORMS": str(len(limits)), "form-INITIAL_FORMS": str(len(limits))}
    for i, limit in enumerate(limits):
        data |= {
            f"form-{i}-id": limit.pk,
            f"form-{i}-acknowledge_hours": 10,
            f"form-{i}-respond_hours": 5,
            f"form-{i}-close_hours": 50,
        }
    page = qm_client.post(reverse("time_limits"), data)
    assert page.status_code == 200
    assert TimeLimit.objects.filter(acknowledge_hours=10).count() == 0
    for i in range(len(limits)):
        data[f"form-{i}-respond_hours"] = 20
    assert qm_client.post(reverse("time_limits"), data).status_code == 302
    assert TimeLimit.objects.filter(acknowledge_hours=10, respond_hours=20).count() == len(limits)


def test_categories_are_managed_by_quality_managers(qm_client):
    qm_client.post(reverse("category_create"), {"name_vi": "Bảo hành", "name_en": "Warranty", "active": "on"})
    category = Category.objects.get(name_en="Warranty")
    qm_client.post(reverse("category_edit", args=[category.pk]), {"name_vi": "Bảo hành", "name_en": "Warranty"})
    category.refresh_from_db()
    assert category.active is False


def test_field_history_is_visible_on_the_case_page(staff_client, staff):
    case = workflow.case_create(channel="phone", description="Mô tả cũ", contact_name="k", assignee=staff)
    data = {"description": "Mô tả mới", "severity": "high", "impact": "one", "language": "vi", "contact_name": "k"}
    assert staff_client.post(reverse("case_edit", args=[case.reference]), data).status_code == 302
    html = staff_client.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert "Lịch sử các trường" in html
    history = html.split("Lịch sử các trường")[1]
    assert "Mô tả cũ" in history and "Mô tả mới" in history and "mức độ nghiêm trọng" in history


def test_my_work_is_bounded_and_links_to_the_rest(staff_client, staff):
    for _ in range(13):
        workflow.case_create(channel="phone", description="x", contact_name="k", assignee=staff)
    html = staff_client.get(reverse("home")).content.decode()
    assert html.count("/cases/CMP-") == 10
    assert "Tất cả 13 hồ sơ đang mở được giao cho tôi" in html


def test_an_incomplete_action_item_is_refused_with_a_message(staff_client, staff, qm):
    from feedback import corrective

    action = corrective.action_create(title="t", nonconformity="n", owner=qm)
    corrective.action_record_containment(action=action, containment="c")
    corrective.action_decide(action=action, needed=True, reason="r")
    corrective.action_record_root_cause(
        action=action,
        root_cause="rc",
        method="other",
        similar_possible=False,
        similar="",
        update_risks=False,
        qms_change=False,
    )
    page = staff_client.post(
        reverse("item_add", args=[action.reference]),
        {"description": "Đào tạo lại", "owner": staff.pk, "due_date": "not a date"},
        follow=True,
    )
    assert "Nhập một ngày hợp lệ" in page.content.decode() or "valid date" in page.content.decode()
    assert action.items.count() == 0


@pytest.mark.parametrize(("language", "label"), [("vi", "Cách giải quyết"), ("en", "Resolution")])
def test_a_resolution_typed_when_the_case_is_answered_is_saved_and_shown(staff_client, staff, language, label):
    case = workflow.case_create(channel="phone", description="x", contact_name="k", assignee=staff)
    url = reverse("case_transition", args=[case.reference])
    staff_client.post(url, {"to_status": "acknowledged"})
    staff_client.post(url, {"to_status": "investigating"})
    staff_client.post(url, {"to_status": "responded", "message": "Chúng tôi hoàn tiền", "resolution": "Hoàn 200.000 đ"})
    case.refresh_from_db()
    assert case.status == CaseStatus.RESPONDED and case.resolution == "Hoàn 200.000 đ"
    html = staff_client.get(reverse("case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language).content
    assert label in html.decode() and "Hoàn 200.000 đ" in html.decode()
    # Closing later without retyping it keeps it.
    staff_client.post(url, {"to_status": "closed", "customer_accepted": "yes"})
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.resolution == "Hoàn 200.000 đ"


@pytest.mark.parametrize(
    ("language", "line"),
    [("vi", "Quá hạn xác nhận → Quản lý chất lượng"), ("en", "Acknowledgement overdue → Quality managers")],
)
def test_the_timeline_shows_each_escalation_level_in_the_readers_language(staff_client, language, line):
    import time_machine

    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        case = workflow.case_create(channel="phone", description="x", contact_name="k", severity="critical")
    with time_machine.travel("2026-05-04 16:00 +0700", tick=False):
        assert workflow.case_escalate_overdue() == 2
    html = staff_client.get(reverse("case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language).content
    assert line in html.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("vi", ["Đánh giá ban đầu", "Phức tạp", "Đổi hàng ngay"]),
        ("en", ["Initial assessment", "Complex", "Đổi hàng ngay"]),
    ],
)
def test_the_initial_assessment_is_recorded_with_who_and_when(staff_client, staff, language, words):
    import time_machine
    from django.utils import timezone

    from audit.models import AuditEntry

    with time_machine.travel("2026-05-04 09:00 +0700", tick=False):
        case = workflow.case_create(channel="phone", description="x", contact_name="k", severity="low", assignee=staff)
        page = staff_client.get(reverse("case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language)
        assert 'data-testid="assessment"' in page.content.decode()
        url = reverse("case_assess", args=[case.reference])
        # Immediate action needed but not said: refused, nothing recorded.
        staff_client.post(url, {"severity": "high", "impact": "several", "complexity": "complex",
                                "immediate_action_needed": "yes"})  # fmt: skip
        case.refresh_from_db()
        assert case.assessed_at is None and case.severity == "low"
    with time_machine.travel("2026-05-04 10:00 +0700", tick=False):
        staff_client.post(url, {"severity": "high", "impact": "several", "complexity": "complex",
                                "immediate_action_needed": "yes", "immediate_action": "Đổi hàng ngay"})  # fmt: skip
    case.refresh_from_db()
    assert (case.severity, case.impact, case.complexity, case.priority) == ("high", "several", "complex", "p1")
    assert case.immediate_action_needed is True and case.immediate_action == "Đổi hàng ngay"
    assert case.assessed_by == staff
    assert timezone.localtime(case.assessed_at).isoformat() == "2026-05-04T10:00:00+07:00"
    # The new severity moved the limits: 8 working hours from receipt (Mon 09:00) for a high one.
    assert timezone.localtime(case.acknowledge_due).isoformat() == "2026-05-04T17:00:00+07:00"
    assert case.events.filter(kind="assessed", actor=staff).exists()
    assert AuditEntry.objects.filter(record_id=str(case.pk), action="assess", actor_id=staff.pk).exists()
    html = staff_client.get(reverse("case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language).content
    assert all(word in html.decode() for word in words)


@pytest.mark.parametrize(
    ("language", "channel", "email", "category"),
    [
        ("vi", "Điện thoại", "thư xác nhận → an@example.com", "Giao hàng"),
        ("en", "Phone", "acknowledgement → an@example.com", "Delivery"),
    ],
)
def test_texts_the_system_writes_into_a_case_are_in_the_readers_language(
    staff_client, django_capture_on_commit_callbacks, language, channel, email, category
):
    from feedback.models import CaseEvent

    delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    with django_capture_on_commit_callbacks(execute=True):
        case = workflow.case_create(channel="phone", description="x", contact_email="an@example.com", category=delivery)
    # An event written before channels were stored as codes still reads in the reader's language.
    CaseEvent.objects.create(case=case, kind="created", text="Điện thoại")
    page = staff_client.get(reverse("case_detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    timeline = html[html.index('data-testid="timeline"') :]
    assert timeline.count(f'<div class="mt-1">{channel}</div>') == 2
    assert email in timeline
    assert f'<dd class="col-sm-8">{category}</dd>' in html


def test_a_change_of_time_limits_is_on_the_trail_and_the_admin_cannot_go_around_it(qm_client):
    # Time limits move every later case's due dates, as the business calendar does: each change is audited, with
    # the hours before and after, and the admin (whose form lacks the page's checks) only reads them.
    from audit.models import AuditEntry

    qm_client.get(reverse("time_limits"))
    limits = list(TimeLimit.objects.order_by("id"))
    data = {"form-TOTAL_FORMS": str(len(limits)), "form-INITIAL_FORMS": str(len(limits))}
    for i, limit in enumerate(limits):
        data |= {
            f"form-{i}-id": limit.pk,
            f"form-{i}-acknowledge_hours": limit.acknowledge_hours,
            f"form-{i}-respond_hours": limit.respond_hours,
            f"form-{i}-close_hours": limit.close_hours + (10 if i == 0 else 0),
        }
    assert qm_client.post(reverse("time_limits"), data).status_code == 302
    entries = AuditEntry.objects.filter(record_type="feedback.timelimit", action="update")
    assert [(e.record_id, e.changes) for e in entries] == [
        (str(limits[0].pk), {"close_hours": [limits[0].close_hours, limits[0].close_hours + 10]})
    ]
    admin = quality_manager(username="root", is_staff=True, is_superuser=True)
    qm_client.force_login(admin)
    change = reverse("admin:feedback_timelimit_change", args=[limits[1].pk])
    assert qm_client.get(change).status_code == 200
    qm_client.post(change, {"severity": limits[1].severity, "acknowledge_hours": 99, "respond_hours": 1,
                            "close_hours": 1})  # fmt: skip
    limits[1].refresh_from_db()
    assert limits[1].acknowledge_hours != 99


def test_categories_are_made_renamed_and_retired_on_the_trail_and_the_admin_only_reads_them(qm_client):
    # Complaints are counted, compared and judged by category: each name it had is evidence, so every change is
    # audited, and the admin's form (which wrote with no entry) cannot change one.
    from audit.models import AuditEntry
    from audit.verify import record_breaks

    qm_client.post(reverse("category_create"), {"name_vi": "Bảo hành", "name_en": "Warranty", "active": "on"})
    category = Category.objects.get(name_en="Warranty")
    renamed = {"name_vi": "Bảo hành, sửa chữa", "name_en": "Repairs"}  # and no longer "in use"
    qm_client.post(reverse("category_edit", args=[category.pk]), renamed)
    category.refresh_from_db()
    assert (category.name_vi, category.name_en, category.active) == ("Bảo hành, sửa chữa", "Repairs", False)
    entries = AuditEntry.objects.filter(record_type="feedback.category", record_id=str(category.pk)).order_by("seq")
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes == {
        "name_vi": ["Bảo hành", "Bảo hành, sửa chữa"],
        "name_en": ["Warranty", "Repairs"],
        "active": [True, False],
    }
    # A name of spaces only is refused with the form kept, and nothing changes.
    page = qm_client.post(reverse("category_edit", args=[category.pk]), {"name_vi": "   ", "name_en": "X"})
    assert page.status_code == 200
    category.refresh_from_db()
    assert category.name_vi == "Bảo hành, sửa chữa" and entries.count() == 2
    admin = quality_manager(username="root", is_staff=True, is_superuser=True)
    qm_client.force_login(admin)
    change = reverse("admin:feedback_category_change", args=[category.pk])
    assert qm_client.get(change).status_code == 200
    qm_client.post(change, {"name_vi": "Đổi lén", "name_en": "Sneaky", "active": "on"})
    category.refresh_from_db()
    assert category.name_vi == "Bảo hành, sửa chữa"
    assert record_breaks() == []
