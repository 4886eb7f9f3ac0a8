"""Management review (ISO 9001 9.3): inputs (b)–(f), the meeting, outputs (9.3.3) as records that become actions
and carry forward, sign-off by top management only, and a signed page that agrees with its PDF (local time)."""

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.roles import TOP_MANAGEMENT
from audit.models import AuditEntry
from feedback import corrective
from reports.models import ManagementReview, ReviewAction, ReviewOutput
from reports.review import review_create, review_sign
from reports.review_records import review_save_meeting
from reports.rollup import rollup_refresh
from tests.factories import make_invitation, make_response, make_survey, quality_manager

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    # Table cells wrap: compare words, not line breaks.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).split())


def top(user):
    user.groups.add(Group.objects.get(name=TOP_MANAGEMENT))
    return user


def post(client, review, language="vi", **data):
    return client.post(reverse("review_detail", args=[review.pk]), data, follow=True, HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def review(qm):
    return review_create(title="Xem xét 2026", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                         prepared_by=qm)  # fmt: skip


@pytest.mark.parametrize("language", ["vi", "en"])
def test_inputs_b_to_f_come_from_the_data_or_from_a_written_input_with_its_owner(qm, qm_client, language):
    with time_machine.travel("2026-06-20 10:00 +0700", tick=False):
        survey = make_survey(kind="nps", owner=qm)
        for i in range(40):  # 40 emailed, 10 answered
            invitation, _token = make_invitation(survey=survey)
            invitation.sent_at = timezone.now()
            invitation.answered_at = timezone.now() if i < 10 else None
            invitation.save(update_fields=["sent_at", "answered_at"])
        make_response(survey, 9)
        rollup_refresh()
        action = corrective.action_create(title="Đổi nhà vận chuyển", nonconformity="Giao trễ", owner=qm)
        corrective.action_record_containment(action=action, containment="c")
        corrective.action_decide(action=action, needed=True, reason="r")
        corrective.action_record_root_cause(action=action, root_cause="rc", method="other", similar_possible=False,
                                            similar="", update_risks=True, qms_change=True)  # fmt: skip
        review = review_create(title="Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                               prepared_by=qm)  # fmt: skip
        post(qm_client, review, language, op="add_input", topic="providers", text="Nhà vận chuyển B trễ 12 %",
             owner=qm.pk)  # fmt: skip
        refused = post(qm_client, review, language, op="add_input", topic="audits", text="  ", owner=qm.pk)
        page = qm_client.get(reverse("review_detail", args=[review.pk]), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert review.inputs.count() == 1  # the empty one changed nothing
    assert ("This field is required" if language == "en" else "Trường này là bắt buộc") in refused.content.decode()
    labels = {
        "en": ["(b) Changes in external and internal issues", "(c) Performance of external providers",
               "(d) Adequacy of resources", "(e) Effectiveness of actions taken on risks and opportunities",
               "(f) Opportunities for improvement", "No input written.", "Response rate"],
        "vi": ["(b) Thay đổi của các vấn đề bên ngoài và nội bộ", "(c) Kết quả thực hiện của nhà cung cấp bên ngoài",
               "(d) Mức độ đầy đủ của nguồn lực", "(e) Hiệu lực của các hành động giải quyết rủi ro và cơ hội",
               "(f) Cơ hội cải tiến", "Chưa có nội dung.", "Tỷ lệ phản hồi"],
    }[language]  # fmt: skip
    for label in labels:
        assert label in html, label
    assert "Nhà vận chuyển B trễ 12 % — Lan Nguyễn" in html
    assert action.reference in html and "Đổi nhà vận chuyển" in html  # (e), from the corrective action's flags
    assert "25,0%" in html if language == "vi" else "25.0%" in html  # (c) 10 answers of 40 delivered
    entry = AuditEntry.objects.filter(record_type="reports.reviewinput").get()
    assert entry.action == "create"


def test_outputs_become_actions_that_carry_to_the_next_review_with_their_status(qm, qm_client, review):
    top(qm)
    post(qm_client, review, op="add_output", kind="resources", description="Thêm 2 nhân viên CSKH", owner=qm.pk,
         due="2026-08-31")  # fmt: skip
    post(qm_client, review, op="add_output", kind="improvement", description="Tự động nhắc khảo sát")
    half = post(qm_client, review, op="add_output", kind="qms_change", description="Sửa quy trình", owner=qm.pk)
    assert (
        "người phụ trách và hạn hoàn thành" in half.content.decode() or "owner and a due date" in half.content.decode()
    )
    assert ReviewOutput.objects.count() == 2
    (action,) = ReviewAction.objects.all()
    assert action.kind == "resources" and action.output.description == "Thêm 2 nhân viên CSKH"
    post(qm_client, review, op="meeting", chair=qm.pk, attendees="Lan Nguyễn (QM)\nAnh Tuấn (Giám đốc)")
    with time_machine.travel("2026-07-02 09:00 +0700", tick=False):
        post(qm_client, review, op="sign")
    with time_machine.travel("2026-09-05 09:00 +0700", tick=False):
        following = review_create(title="Q3", period_start=date(2026, 7, 1), period_end=date(2026, 9, 30),
                                  prepared_by=qm)  # fmt: skip
        for language, status, carried in (("vi", "quá hạn", "chuyển từ kỳ trước"),
                                          ("en", "overdue", "from a previous review")):  # fmt: skip
            html = qm_client.get(reverse("review_detail", args=[following.pk]), HTTP_ACCEPT_LANGUAGE=language)
            html = html.content.decode()
            assert "Thêm 2 nhân viên CSKH" in html and carried in html and status in html
    (carried_action,) = following.actions.all()
    assert carried_action.carried_from == action and carried_action.kind == "resources"


def test_only_top_management_signs_and_only_once_the_meeting_is_recorded(qm, qm_client, review):
    refused = post(qm_client, review, op="sign")
    assert (
        "lãnh đạo cao nhất" in refused.content.decode() and 'data-testid="review-sign"' not in refused.content.decode()
    )
    top(qm)
    qm_client.force_login(qm)
    refused = post(qm_client, review, "en", op="sign")
    assert "Record the chair and the attendees before signing off." in refused.content.decode()
    review.refresh_from_db()
    assert not review.locked
    post(qm_client, review, op="meeting", chair=qm.pk, attendees="Lan Nguyễn")
    post(qm_client, review, op="sign")
    review.refresh_from_db()
    assert review.locked and review.signed_by == qm
    # Signed: nothing changes any more, through the page or the services.
    after = post(qm_client, review, op="add_output", kind="improvement", description="Muộn")
    assert "đã được ký duyệt" in after.content.decode() and not ReviewOutput.objects.exists()
    with pytest.raises(ValidationError):
        review_save_meeting(review=review, chair=qm, attendees="khác")


def test_the_signed_page_and_pdf_show_the_same_frozen_figures_and_statuses_in_local_time(qm, qm_client):
    top(qm)
    survey = make_survey(kind="nps", owner=qm)
    with time_machine.travel("2026-05-10 10:00 +0700", tick=False):
        for score in [10] * 30 + [3] * 10:
            make_response(survey, score)
        rollup_refresh()
    first = review_create(title="H1", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), prepared_by=qm)
    post(qm_client, first, op="add_output", kind="improvement", description="Gọi lại khách không hài lòng",
         owner=qm.pk, due="2026-07-31")  # fmt: skip
    post(qm_client, first, op="meeting", chair=qm.pk, attendees="Lan Nguyễn")
    # 23:30 UTC on 30 June is 06:30 on 1 July in Hà Nội.
    with time_machine.travel("2026-06-30 23:30 +0000", tick=False):
        post(qm_client, first, op="sign")
    second = review_create(title="H2", period_start=date(2026, 7, 1), period_end=date(2026, 12, 31), prepared_by=qm)
    (carried,) = second.actions.all()
    post(qm_client, second, op="action_done", action=carried.pk, done="1")  # closes the original too
    assert ReviewAction.objects.get(pk=carried.carried_from_id).done_at is not None
    with time_machine.travel("2026-08-01 10:00 +0700", tick=False):
        for score in [0] * 50:  # later answers change nothing in a signed pack
            make_response(survey, score, at=timezone.now() - timedelta(days=60))
        rollup_refresh()
    for language, open_word, signed in (("vi", "chưa xong", "06:30 01/07/2026"), ("en", "open", "07/01/2026 6:30")):
        page = qm_client.get(reverse("review_detail", args=[first.pk]), HTTP_ACCEPT_LANGUAGE=language)
        html = page.content.decode()
        text = pdf_text(qm_client.get(reverse("review_pdf", args=[first.pk]), HTTP_ACCEPT_LANGUAGE=language))
        for shown in (html, text):
            assert "n = 40" in shown and "n = 90" not in shown
            assert signed in shown and "23:30" not in shown and "11:30" not in shown
            assert "Gọi lại khách không hài lòng" in shown
        row = html.split("Gọi lại khách không hài lòng", 1)[1].split("</tr>", 1)[0]
        assert open_word in row and open_word in text.split("Gọi lại khách không hài lòng", 1)[1][:120]


def test_objectives_carry_their_resources_into_the_review(qm, qm_client, review):
    survey = make_survey(kind="nps", owner=qm)
    response = qm_client.post(reverse("objective_new"), {
        "title": "NPS ≥ 30", "metric": "nps", "target": "30", "survey": survey.pk, "segment": "",
        "start": "2026-01-01", "due": "2026-12-31", "owner": qm.pk, "method": "NPS quý",
        "resources": "Ngân sách 50 triệu đồng, 1 chuyên viên", "active": "on",
    })  # fmt: skip
    assert response.status_code == 302
    for language, label in (("vi", "Nguồn lực cần thiết"), ("en", "Resources needed")):
        html = qm_client.get(reverse("review_detail", args=[review.pk]), HTTP_ACCEPT_LANGUAGE=language)
        html = html.content.decode()
        assert label in html and "Ngân sách 50 triệu đồng, 1 chuyên viên" in html
    assert "Ngân sách 50 triệu đồng" in pdf_text(qm_client.get(reverse("review_pdf", args=[review.pk])))


def test_a_director_who_is_not_a_quality_manager_reads_and_signs_the_review_but_changes_nothing_else(qm, review):
    from django.test import Client

    from reports.review_records import review_save_meeting

    director = top(quality_manager(username="director"))
    director.groups.clear()
    director.groups.add(Group.objects.get(name=TOP_MANAGEMENT))
    client = Client()
    client.force_login(director)
    # Their menu leads to the reviews, and the review reads without the preparing forms.
    assert reverse("review_list") in client.get(reverse("review_list")).content.decode()
    page = client.get(reverse("review_detail", args=[review.pk])).content.decode()
    assert 'value="add_input"' not in page and 'value="meeting"' not in page
    assert client.get(reverse("review_pdf", args=[review.pk]))["Content-Type"] == "application/pdf"
    # Preparing is the quality manager's: every change is refused and changes nothing.
    assert post(client, review, op="add_input", topic="b", text="x", owner=director.pk).status_code == 403
    assert client.post(reverse("review_list"), {"title": "x"}).status_code == 403
    assert client.get(reverse("dashboard")).status_code == 403
    assert not review.inputs.exists() and ManagementReview.objects.count() == 1
    # Signing before the meeting is recorded is refused; after it, the director signs.
    with pytest.raises(ValidationError):
        review_sign(review=ManagementReview.objects.get(pk=review.pk), user=director)
    review_save_meeting(review=review, chair=director, attendees="Ban giám đốc, phòng chất lượng")
    signed = post(client, review, op="sign")
    assert signed.status_code == 200 and ManagementReview.objects.get(pk=review.pk).signed_by == director


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_output_recorded_without_an_owner_becomes_an_action_later(qm, qm_client, review, language):
    post(qm_client, review, language, op="add_output", kind="improvement", description="Khảo sát sau bảo hành")
    output = ReviewOutput.objects.get()
    html = qm_client.get(reverse("review_detail", args=[review.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert ("Make it an action" if language == "en" else "Chuyển thành hành động") in html
    bad = post(qm_client, review, language, op="output_action", output=output.pk, owner=qm.pk, due="")
    assert bad.status_code == 200 and not ReviewAction.objects.exists()
    post(qm_client, review, language, op="output_action", output=output.pk, owner=qm.pk, due="2026-10-31")
    (action,) = ReviewAction.objects.all()
    assert action.output == output and action.kind == "improvement" and action.due == date(2026, 10, 31)
    again = post(qm_client, review, language, op="output_action", output=output.pk, owner=qm.pk, due="2026-11-30")
    assert ReviewAction.objects.count() == 1
    assert ("already an action" if language == "en" else "đã là một hành động") in again.content.decode()
