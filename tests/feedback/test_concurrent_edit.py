"""Two people editing the same complaint case: the second save does not silently undo the first."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from feedback import workflow
from feedback.models import CaseStatus, ComplaintCase
from tests.factories import quality_manager

pytestmark = pytest.mark.django_db


def form_data(page: str, **changes: str) -> dict[str, str]:
    """What the browser would send back: every field as the page shows it, with the person's changes."""
    data = dict(re.findall(r'<input type="(?:text|hidden|email)" name="(\w+)"[^>]*?value="([^"]*)"', page))
    data.update(re.findall(r'name="(\w+)"[^>]*>([^<]*)</textarea>', page))
    data.update(
        {
            name: value
            for name, value in re.findall(r'<select name="(\w+)".*?<option value="([^"]*)" selected', page, re.S)
        }
    )
    data.pop("csrfmiddlewaretoken", None)
    return {**data, **changes}


def test_the_second_save_is_refused_with_the_typed_text_kept_then_saved_when_sent_again(qm_client, qm):
    other = Client()
    other.force_login(quality_manager(username="qm2"))
    case = workflow.case_create(
        channel="phone", description="Giao hàng trễ", contact_name="Khách", contact_phone="090", product="Gói A"
    )
    url = reverse("case_edit", args=[case.reference])
    mine = qm_client.get(url).content.decode()
    theirs = other.get(url).content.decode()
    assert other.post(url, form_data(theirs, description="Giao trễ 3 ngày, hộp móp")).status_code == 302
    # I opened the form before my colleague saved: my form still holds the old description.
    page = qm_client.post(url, form_data(mine, product="Gói B"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ai đó đã thay đổi hồ sơ này trong lúc bạn sửa" in html
    case.refresh_from_db()
    assert (case.description, case.product) == ("Giao trễ 3 ngày, hộp móp", "Gói A")
    assert 'value="Gói B"' in html  # what I typed is still there
    # Sent again after reading the warning, it is saved as typed.
    assert qm_client.post(url, form_data(html)).status_code == 302
    case.refresh_from_db()
    assert (case.description, case.product) == ("Giao hàng trễ", "Gói B")


def test_a_status_changed_meanwhile_is_not_written_back_by_an_edit(qm):
    case = workflow.case_create(channel="phone", description="Giao trễ", contact_name="Khách", contact_phone="090")
    stale = ComplaintCase.objects.get(pk=case.pk)
    workflow.case_transition(case=case, to_status=CaseStatus.ACKNOWLEDGED, actor=qm)
    workflow.case_update(case=stale, actor=qm, product="Gói B", expected=workflow.case_edit_stamp(stale))
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED and case.product == "Gói B"


def test_two_people_editing_one_corrective_action_do_not_undo_each_other(qm_client, qm):
    from feedback import corrective

    other = Client()
    other.force_login(quality_manager(username="qm3"))
    action = corrective.action_create(title="Giao trễ", nonconformity="Nhiều đơn trễ", owner=qm)
    url = reverse("action_edit", args=[action.reference])
    mine = qm_client.get(url).content.decode()
    theirs = other.get(url).content.decode()
    assert other.post(url, form_data(theirs, nonconformity="30 đơn trễ trong tháng 11")).status_code == 302
    # My form, opened before my colleague saved, still holds the old nonconformity.
    page = qm_client.post(url, form_data(mine, title="Giao hàng trễ ở Hà Nội"))
    html = page.content.decode()
    assert page.status_code == 200 and "Ai đó đã thay đổi hành động khắc phục này trong lúc bạn sửa" in html
    action.refresh_from_db()
    assert (action.title, action.nonconformity) == ("Giao trễ", "30 đơn trễ trong tháng 11")
    assert 'value="Giao hàng trễ ở Hà Nội"' in html  # what I typed is still there
    assert qm_client.post(url, form_data(html)).status_code == 302  # sent again knowingly: saved as typed
    action.refresh_from_db()
    assert action.title == "Giao hàng trễ ở Hà Nội"


def test_a_step_recorded_meanwhile_is_not_written_back_by_an_action_edit(qm):
    from feedback import corrective
    from feedback.models import CorrectiveAction

    action = corrective.action_create(title="Giao trễ", nonconformity="Nhiều đơn trễ", owner=qm)
    stale = CorrectiveAction.objects.get(pk=action.pk)
    corrective.action_record_containment(action=action, containment="Giao bù")
    corrective.action_update(action=stale, title="Giao hàng trễ")
    action.refresh_from_db()
    assert action.title == "Giao hàng trễ" and action.containment == "Giao bù"
    assert action.contained_at is not None
