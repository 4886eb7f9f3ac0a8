"""Issue 13's journey: a complaint arrives at 17:55 on the day before a public holiday, falls due on working hours,
escalates in levels, the customer rejects the decision and sees the recourse; the quality manager reviews the
period and signs it off as top management; the signed page and its PDF agree."""

from __future__ import annotations

import io
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone
from pypdf import PdfReader

from accounts.roles import TOP_MANAGEMENT
from feedback import workflow
from feedback.models import ComplaintCase
from feedback.schedule import holidays_seed
from tests.e2e.test_feedback_journey import login
from tests.factories import quality_manager, staff_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def words(text: str) -> str:
    return " ".join(text.split())


def test_complaint_before_a_holiday_to_a_signed_review_whose_page_and_pdf_agree(
    browser, live_server, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = base = live_server.url
    # The holidays a new installation starts with (a migration's data, which an earlier browser test's flush of the
    # database removes): seeding again keeps what is there.
    holidays_seed(range(2026, 2027))
    lan = quality_manager(username="lan", first_name="Lan", last_name="Nguyễn", email="lan@example.com")
    lan.groups.add(Group.objects.get_or_create(name=TOP_MANAGEMENT)[0])  # the quality manager is also a director here
    director = staff_user(username="tuan", first_name="Tuấn", email="director@example.com")
    director.groups.add(Group.objects.get_or_create(name=TOP_MANAGEMENT)[0])

    # 1. Wednesday 29 April 2026, 17:55: 30 April and 1 May are public holidays, then the weekend.
    with time_machine.travel("2026-04-29 17:55 +0700", tick=True):
        customer = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
        customer.goto(f"{base}/complaint/")
        customer.locator("[name=name]").fill("Chị Hoa")
        customer.locator("[name=email]").fill("hoa@example.com")
        customer.locator("[name=description]").fill("Máy lọc nước giao đến bị vỡ vỏ")
        customer.get_by_role("button", name="Gửi khiếu nại").click()
        customer.get_by_role("status").wait_for()
    case = ComplaintCase.objects.get()
    local = timezone.localtime
    assert local(case.received_at).strftime("%d/%m %H:%M") == "29/04 17:55"
    # The emailed acknowledgement stopped its clock; the other limits run on working hours only: the 24-hour
    # response of a medium case is on Wednesday 6 May at 14:00, never on a holiday or at night.
    assert case.acknowledged_at is not None
    assert local(case.acknowledge_due).isoformat() == "2026-05-06T14:00:00+07:00"
    assert local(case.respond_due).isoformat() == "2026-05-21T11:00:00+07:00"
    for due in (case.acknowledge_due, case.respond_due, case.close_due):
        assert local(due).weekday() < 5 and 8 <= local(due).hour <= 17
    track_link = next(line for m in mailoutbox for line in m.body.splitlines() if "/c/" in line).strip()

    # 2. Nobody answers in time: the scheduled sweep escalates it, one level at a time, each once.
    def sweep(when: str) -> tuple[int, int]:
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            count = workflow.case_escalate_overdue()
        case.refresh_from_db()
        return count, case.escalation_level

    assert sweep("2026-05-21 10:59 +0700") == (0, 0)
    assert sweep("2026-05-21 11:30 +0700") == (1, 1)  # the assignee
    assert sweep("2026-05-21 16:30 +0700") == (1, 2)  # + the quality managers, 4 working hours late
    assert sweep("2026-05-22 16:30 +0700") == (0, 2)
    assert sweep("2026-05-25 14:00 +0700") == (1, 3)  # + top management, 16 working hours late
    assert "director@example.com" in [to for m in mailoutbox for to in m.to]

    with time_machine.travel("2026-07-02 09:00 +0700", tick=True):
        # 3. The quality manager answers with a decision; the customer does not accept it.
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
        qm = context.new_page()
        login(qm, base, "lan")
        qm.get_by_role("link", name="Khiếu nại", exact=True).click()
        qm.get_by_role("link", name=case.reference).click()
        details = words(qm.locator("main").inner_text())
        assert "14:00 06/05/2026" in details and "11:00 21/05/2026" in details
        for status, message in [("investigating", ""), ("responded", "Chúng tôi đổi máy mới trong 7 ngày.")]:
            qm.get_by_label("Trạng thái mới").select_option(status)
            if message:
                qm.get_by_label("Thông báo cho khách hàng").fill(message)
            qm.get_by_role("button", name="Đổi trạng thái").click()
            assert qm.get_by_text("Đã đổi trạng thái").is_visible()
        qm.locator("#decline-reason").fill("Khách muốn được hoàn tiền")
        qm.get_by_role("button", name="Ghi nhận và thông báo cách khiếu nại tiếp").click()
        assert qm.get_by_test_id("not-accepted").is_visible()
        customer.goto(track_link)
        recourse = customer.get_by_test_id("recourse").inner_text()
        assert "Xem xét nội bộ" in recourse and "ISO 10003" in recourse

        # 4. The quality manager reviews the period and signs it off.
        qm.goto(f"{base}/reports/reviews/")
        qm.locator("[name=title]").fill("Xem xét quý 2/2026")
        qm.locator("[name=period_start]").fill("2026-04-01")
        qm.locator("[name=period_end]").fill("2026-06-30")
        qm.get_by_role("button", name="Chuẩn bị hồ sơ").click()
        qm.wait_for_url(re.compile(r".*/reports/reviews/\d+/$"))
        review_url = qm.url
        qm.locator("form:has(input[value=meeting]) [name=chair]").select_option(str(lan.pk))
        qm.locator("form:has(input[value=meeting]) [name=attendees]").fill("Lan Nguyễn (QLCL)\nTuấn (Giám đốc)")
        qm.get_by_role("button", name="Lưu thông tin cuộc họp").click()
        output = qm.locator("form:has(input[value=add_output])")
        output.locator("[name=kind]").select_option("qms_change")
        output.locator("[name=description]").fill("Thêm bước kiểm tra đóng gói")
        output.locator("[name=owner]").select_option(str(lan.pk))
        output.locator("[name=due]").fill("2026-09-30")
        qm.get_by_role("button", name="Thêm đầu ra").click()
        complaints = words(qm.get_by_test_id("review-complaints").inner_text())
        assert complaints.startswith("Đã nhận: 1 · đã đóng: 0")
        qm.get_by_test_id("review-sign").click()
        signed = words(qm.get_by_test_id("review-signed").inner_text())
        assert "02/07/2026" in signed and "09:0" in signed  # local time, not 02:0x UTC
        page_text = words(qm.locator("main").inner_text())
        pdf = context.request.get(review_url + "pdf/")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    pdf_text = words(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages))
    # The same frozen figures and statuses, the same signature line, on the page and in the PDF.
    assert signed in pdf_text
    assert complaints in pdf_text  # "Đã nhận: 1 · đã đóng: 0 · …", word for word
    for text in ("Thêm bước kiểm tra đóng gói", "Lan Nguyễn (QLCL)", "Thay đổi cần thiết đối với hệ thống"):
        assert text in page_text and text in pdf_text
    assert "quá hạn" not in page_text or "quá hạn" in pdf_text
