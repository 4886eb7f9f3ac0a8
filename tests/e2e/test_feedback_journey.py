"""The closed loop as people walk it: a detractor answers, staff work the case, a quality manager acts on it."""

from __future__ import annotations

import pytest

from feedback import workflow
from feedback.models import ComplaintCase, CorrectiveAction
from tests.factories import make_invitation, make_survey, quality_manager, staff_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("correct horse battery staple")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/")


def test_detractor_to_closed_case_to_effective_corrective_action(browser, live_server, settings, mailoutbox):
    settings.SITE_URL = live_server.url
    base = live_server.url
    manager = quality_manager(username="lan", first_name="Lan")
    minh = staff_user(username="minh", first_name="Minh")
    survey = make_survey(kind="nps", owner=manager)
    invitation, token = make_invitation(survey=survey)
    invitation.customer.email = "khach@example.com"
    invitation.customer.save()

    # 1. A customer gives a low score with a comment.
    customer = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    customer.goto(f"{base}/s/{token}/?score=3")
    customer.get_by_label("Lý do chính cho điểm số của bạn là gì?").fill("Giao hàng trễ một tuần")
    customer.get_by_role("button", name="Gửi câu trả lời").click()
    customer.wait_for_url("**/thanks/**")
    case = ComplaintCase.objects.get()
    assert case.response.invitation_id == invitation.pk and case.assignee == manager
    assert any(case.reference in m.subject for m in mailoutbox)  # acknowledgement with the tracking link

    # 2. The quality manager hands it to Minh, who works it to closure (only the assignee may change a case).
    workflow.case_assign(case=case, assignee=minh, actor=manager)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
    staff = context.new_page()
    login(staff, base, "minh")
    staff.get_by_role("link", name="Khiếu nại", exact=True).click()
    staff.get_by_role("link", name=case.reference).click()
    assert staff.get_by_text("Giao hàng trễ một tuần").first.is_visible()
    # The acknowledgement email already acknowledged the case (its clock stopped when the email left).
    assert staff.get_by_test_id("case-status").inner_text() == "Đã xác nhận"
    for status, message in [
        ("investigating", ""),
        ("responded", "Chúng tôi hoàn phí giao hàng và xin lỗi quý khách."),
    ]:
        staff.get_by_label("Trạng thái mới").select_option(status)
        if message:
            staff.get_by_label("Thông báo cho khách hàng").fill(message)
        staff.get_by_role("button", name="Đổi trạng thái").click()
        assert staff.get_by_text("Đã đổi trạng thái").is_visible()
    staff.get_by_label("Trạng thái mới").select_option("closed")
    staff.get_by_label("Cách giải quyết").fill("Đã hoàn phí giao hàng")
    staff.get_by_role("group", name="Khách hàng có chấp nhận").get_by_label("Có", exact=True).check()
    staff.get_by_role("button", name="Đổi trạng thái").click()
    assert staff.get_by_test_id("case-status").inner_text() == "Đã đóng"
    timeline = staff.get_by_test_id("timeline").inner_text()
    assert "Đã trả lời → Đã đóng" in timeline and "Chúng tôi hoàn phí giao hàng" in timeline
    case.refresh_from_db()
    assert case.status == "closed" and case.customer_accepted is True and case.assignee.username == "minh"

    # The customer follows the case and sees the decision.
    track_link = next(line for m in mailoutbox for line in m.body.splitlines() if "/c/" in line)
    customer.goto(track_link)
    assert customer.get_by_test_id("track-status").inner_text() == "Đã đóng"
    assert customer.get_by_text("Chúng tôi hoàn phí giao hàng").is_visible()

    # 3. A quality manager raises a corrective action from the case and sees it through.
    manager_context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
    qm = manager_context.new_page()
    login(qm, base, "lan")
    qm.goto(f"{base}/cases/{case.reference}/")
    qm.get_by_role("link", name="Mở hành động khắc phục").click()
    qm.get_by_label("Tiêu đề").fill("Giao hàng trễ")
    qm.get_by_label("Sự không phù hợp").fill("Nhiều đơn giao trễ hơn 3 ngày")
    qm.get_by_label("Khảo sát").select_option(str(survey.pk))
    qm.get_by_role("button", name="Lưu").click()
    action = CorrectiveAction.objects.get()
    assert list(action.cases.all()) == [case]
    qm.get_by_label("Đã làm gì để kiểm soát và khắc phục").fill("Giao bù bằng xe riêng")
    qm.get_by_role("button", name="Lưu việc khắc phục").click()
    qm.get_by_label("Có, cần hành động").check()
    qm.get_by_label("Lý do").fill("Lặp lại ở nhiều khu vực")
    qm.get_by_role("button", name="Ghi nhận quyết định").click()
    qm.get_by_label("Phương pháp", exact=True).select_option("5why")
    # The five whys are a chain (at least three links), and the similar-nonconformities question is answered.
    for i, (why, because) in enumerate(
        [("Vì sao giao trễ?", "Xe rời kho muộn"), ("Vì sao xe muộn?", "Thiếu tài xế"), ("Vì sao thiếu?", "Ca chiều")],
        start=1,
    ):
        qm.locator(f"#why_{i}").fill(why)
        qm.locator(f"#because_{i}").fill(because)
    qm.get_by_label("Nguyên nhân gốc", exact=True).fill("Thiếu tài xế ca chiều")
    qm.locator("#similar-no").check()
    qm.get_by_role("button", name="Lưu nguyên nhân gốc").click()
    qm.get_by_label("Hành động", exact=True).fill("Tuyển thêm tài xế")
    qm.get_by_label("Hạn hoàn thành").fill("2026-12-31")
    qm.get_by_role("button", name="Thêm hành động").click()
    qm.get_by_label("Trạng thái: Tuyển thêm tài xế").select_option("done")
    qm.get_by_role("button", name="Lưu", exact=True).click()
    qm.get_by_label("Cách kiểm tra hiệu lực").fill("So sánh tỷ lệ không hài lòng")
    qm.get_by_label("Bằng chứng").fill("Không còn khiếu nại giao trễ trong tháng")
    qm.get_by_label("Có hiệu lực", exact=True).check()
    qm.get_by_role("button", name="Ghi nhận xem xét").click()
    assert qm.get_by_test_id("action-status").inner_text() == "Đã đóng: có hiệu lực"
    action.refresh_from_db()
    assert action.status == "closed" and action.root_cause == "Thiếu tài xế ca chiều"
    assert action.items.get().status == "done" and action.reviews.get().result == "effective"
    for ctx in (context, manager_context):
        ctx.close()
    customer.close()
