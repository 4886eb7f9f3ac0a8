"""A corrective action's step refused on the action page shows again what the quality manager typed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import corrective
from feedback.models import ActionStatus, EffectivenessReview
from tests.factories import analysed

pytestmark = pytest.mark.django_db


@pytest.fixture
def action(qm):
    return analysed(corrective.action_create(title="Giao trễ", nonconformity="Nhiều đơn trễ", owner=qm))


def step(client, action, name, data):
    return client.post(reverse("action_step", args=[action.reference, name]), data, follow=True).content.decode()


def test_a_refused_review_keeps_the_method_evidence_result_and_justification(qm_client, qm, action):
    item = corrective.item_add(action=action, description="Tuyển tài xế", owner=qm, due_date=timezone.localdate())
    corrective.item_set_status(item=item, status="done")
    tomorrow = timezone.localdate() + timedelta(days=1)
    typed = {
        "method": "So sánh tỷ lệ đơn trễ 90 ngày",
        "evidence": "Tỷ lệ trễ giảm từ 12% xuống 3% (báo cáo kho tháng 11)",
        "reviewed_on": tomorrow.isoformat(),
        "result": "effective",
        "justification": "Khách hàng lớn xác nhận",
    }
    page = step(qm_client, action, "review", typed)
    assert "Ngày xem xét không được ở tương lai." in page
    assert not EffectivenessReview.objects.exists()
    assert 'value="So sánh tỷ lệ đơn trễ 90 ngày"' in page
    assert ">Tỷ lệ trễ giảm từ 12% xuống 3% (báo cáo kho tháng 11)</textarea>" in page
    assert ">Khách hàng lớn xác nhận</textarea>" in page
    assert f'value="{tomorrow.isoformat()}"' in page
    assert 'value="effective" id="res-eff" checked' in page
    # Shown once: the next visit starts from a clean form.
    again = qm_client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert "So sánh tỷ lệ đơn trễ 90 ngày" not in again


def test_a_refused_decision_keeps_its_reason_and_choice(qm_client, qm, action):
    corrective.item_add(action=action, description="Tuyển tài xế", owner=qm, due_date=timezone.localdate())
    page = step(qm_client, action, "decision", {"needed": "no", "reason": "Sự cố đơn lẻ, không lặp lại"})
    action.refresh_from_db()
    assert action.status == ActionStatus.IMPLEMENTING
    assert ">Sự cố đơn lẻ, không lặp lại</textarea>" in page
    assert 'id="needed-no" checked' in page and 'id="needed-yes" checked' not in page


def test_a_refused_item_keeps_its_description(qm_client, qm, action):
    url = reverse("item_add", args=[action.reference])
    page = qm_client.post(url, {"description": "Tuyển tài xế ca chiều", "owner": qm.pk}, follow=True)
    assert not action.items.exists()
    assert 'value="Tuyển tài xế ca chiều"' in page.content.decode()
