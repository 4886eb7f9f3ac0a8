from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback import corrective, effectiveness, workflow
from feedback.models import ActionStatus, Category
from tests.factories import analysed, quality_manager, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def action():
    return corrective.action_create(
        title="Giao hàng trễ", nonconformity="Nhiều đơn trễ > 3 ngày", owner=quality_manager()
    )


def test_steps_must_be_recorded_in_order(action):
    with pytest.raises(ValidationError):
        corrective.action_decide(action=action, needed=True, reason="Lặp lại")
    with pytest.raises(ValidationError):
        corrective.action_record_root_cause(
            action=action,
            root_cause="x",
            method="other",
            similar_possible=False,
            similar="",
            update_risks=False,
            qms_change=False,
        )
    with pytest.raises(ValidationError):
        corrective.item_add(action=action, description="x", owner=staff_user(), due_date=date.today())
    corrective.action_record_containment(action=action, containment="Giao bù bằng xe riêng")
    corrective.action_decide(action=action, needed=True, reason="Lặp lại nhiều lần")
    corrective.action_record_root_cause(
        action=action,
        root_cause="Thiếu tài xế ca chiều",
        method="other",
        similar_possible=True,
        similar="Kho Đà Nẵng",
        update_risks=True,
        qms_change=False,
    )
    item = corrective.item_add(
        action=action, description="Tuyển thêm tài xế", owner=staff_user(), due_date=date.today() + timedelta(days=14)
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.IMPLEMENTING and action.update_risks
    with pytest.raises(ValidationError):
        corrective.action_record_review(
            action=action, method="m", evidence="e", reviewer=action.owner, reviewed_on=date.today(), result="effective"
        )
    corrective.item_set_status(item=item, status="done")
    action.refresh_from_db()
    assert action.status == ActionStatus.REVIEW
    corrective.action_record_review(
        action=action,
        method="So sánh tỷ lệ khiếu nại",
        evidence="Giảm 40 %",
        reviewer=action.owner,
        reviewed_on=date.today(),
        result="ineffective",
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.ANALYSED and action.closed_at is None  # reopened
    second = corrective.item_add(action=action, description="Đổi tuyến", owner=staff_user(), due_date=date.today())
    corrective.item_set_status(item=second, status="done")
    corrective.action_record_review(
        action=action, method="m", evidence="e", reviewer=action.owner, reviewed_on=date.today(), result="effective"
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.CLOSED and action.closed_at is not None
    assert action.reviews.count() == 2
    with pytest.raises(ValidationError):
        corrective.action_record_containment(action=action, containment="late edit")


def test_no_action_needed_closes_it(action):
    corrective.action_record_containment(action=action, containment="Đã xin lỗi khách")
    corrective.action_decide(action=action, needed=False, reason="Sự cố đơn lẻ")
    action.refresh_from_db()
    assert action.status == ActionStatus.NOT_NEEDED and action.closed_at


def test_two_proportion_test_against_a_worked_example():
    # 60/400 before, 30/400 after: pooled p = 0.1125, SE = sqrt(0.1125 * 0.8875 * 2/400) = 0.02234,
    # z = (0.075 - 0.15) / 0.02234 = -3.357, two-sided p = 0.00079.
    z, p = effectiveness.two_proportion_test(60, 400, 30, 400)
    assert z == pytest.approx(-3.357, abs=0.001)
    assert p == pytest.approx(0.00079, abs=0.00001)
    assert effectiveness.two_proportion_test(0, 0, 1, 10) == (None, None)


def test_complaint_rate_before_and_after_the_action(action, django_capture_on_commit_callbacks):
    import time_machine

    from tests.factories import make_invitation
    from tests.feedback.test_loop import answer

    category = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    from tests.factories import make_survey

    survey = make_survey(kind="csat")
    survey.closed_loop = False
    survey.save()
    start = timezone.now() - timedelta(days=60)
    with time_machine.travel(start, tick=False):
        for i in range(20):
            answer(survey, 4, capture=django_capture_on_commit_callbacks)
            if i < 8:
                workflow.case_create(channel="phone", description="trễ", contact_name="k", category=category)
    with time_machine.travel(start + timedelta(days=40), tick=False):
        for i in range(20):
            answer(survey, 2 if i < 1 else 5, capture=django_capture_on_commit_callbacks)
            if i < 1:
                workflow.case_create(channel="phone", description="trễ", contact_name="k", category=category)
    action.category, action.survey = category, survey
    action.effective_from = (start + timedelta(days=30)).date()
    action.save()
    complaints, detractors = effectiveness.action_comparisons(action, days=30)
    assert (complaints.before_k, complaints.before_n, complaints.after_k, complaints.after_n) == (8, 20, 1, 20)
    assert complaints.improved
    assert (detractors.before_k, detractors.before_n, detractors.after_k, detractors.after_n) == (0, 20, 1, 20)
    assert not detractors.significant
    _ = make_invitation


def test_no_action_needed_is_refused_while_planned_actions_are_open(action, client):
    from feedback.models import ActionItem

    owner = staff_user()
    analysed(action)
    item = corrective.item_add(action=action, description="Tuyển tài xế", owner=owner, due_date=date.today())
    # Closing "without action" would leave the owner an open item on a closed action: listed in their work for
    # ever, and no longer theirs to change.
    with pytest.raises(ValidationError, match="Hãy hủy hoặc hoàn thành các hành động đã lập kế hoạch"):
        corrective.action_decide(action=action, needed=False, reason="Đổi ý")
    action.refresh_from_db()
    assert action.status == ActionStatus.IMPLEMENTING and action.action_needed is True
    corrective.item_set_status(item=item, status=ActionItem.Status.CANCELLED)
    corrective.action_decide(action=action, needed=False, reason="Sự cố đơn lẻ, không lặp lại")
    action.refresh_from_db()
    assert action.status == ActionStatus.NOT_NEEDED


def test_my_work_leaves_out_items_of_a_finished_action(action, rf):
    from feedback.models import ActionItem, CorrectiveAction
    from feedback.views.cases import my_work

    owner = staff_user()
    analysed(action)
    corrective.item_add(action=action, description="Tuyển tài xế", owner=owner, due_date=date.today())
    request = rf.get("/")
    request.user = owner
    assert my_work(request)["my_item_count"] == 1
    # An action closed before this review's fix may still hold an open item.
    CorrectiveAction.objects.filter(pk=action.pk).update(status=ActionStatus.NOT_NEEDED)
    assert ActionItem.objects.filter(status=ActionItem.Status.OPEN).count() == 1
    assert my_work(request)["my_item_count"] == 0
