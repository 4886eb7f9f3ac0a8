"""A quality manager imports customers, sends a campaign, and sees a customer's answer arrive in the funnel."""

from __future__ import annotations

import email
import re
from email import policy

import pytest

from customers.models import Customer
from surveys.models import Campaign
from tests.factories import make_survey, quality_manager

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "name,email,language,segment,type,external_id\n"
    "Nguyễn Thị Lan,lan.nguyen@example.com,vi,retail,direct,R-1\n"
    "Peter Hall,peter@example.com,en,retail,direct,R-2\n"
    "Sai Email,khong-phai-email,vi,retail,direct,R-3\n"
)


def test_import_send_answer_and_watch_the_funnel(browser, live_server, settings, tmp_path):
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    base = live_server.url
    manager = quality_manager(username="lan")
    survey = make_survey(kind="nps", owner=manager)
    csv_file = tmp_path / "khach-hang.csv"
    csv_file.write_text(CSV, encoding="utf-8")

    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill("lan")
    page.get_by_label("Mật khẩu").fill("correct horse battery staple")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/customers/")
    page.get_by_role("link", name="Nhập từ tệp CSV").click()
    page.get_by_label("Tệp CSV").set_input_files(str(csv_file))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    assert "Có thể nhập 2 dòng; 1 dòng có lỗi" in page.get_by_test_id("import-summary").inner_text()
    assert page.get_by_text("không phải là địa chỉ email").is_visible()
    page.get_by_role("button", name="Nhập 2 dòng").click()
    assert page.get_by_text("Đã nhập: 2 khách hàng mới").is_visible()
    assert Customer.objects.count() == 2

    page.goto(f"{base}/surveys/{survey.pk}/")
    page.get_by_role("link", name="Gửi cho khách hàng").click()
    page.get_by_label("Tên").fill("Đợt tháng 11")
    page.get_by_label("Phân khúc").fill("retail")
    page.get_by_role("button", name="Kiểm tra đối tượng gửi", exact=True).click()
    preview = page.get_by_test_id("audience-preview").inner_text()
    assert "2 khách hàng phù hợp." in preview and "2 người sẽ được mời." in preview
    assert Campaign.objects.count() == 0  # nothing is sent before the confirmation
    page.get_by_role("button", name="Xác nhận: gửi cho 2 khách hàng").click()
    funnel = page.get_by_test_id("funnel")
    assert "Đối tượng\n2" in funnel.inner_text() and "Đã gửi\n2" in funnel.inner_text()
    campaign = Campaign.objects.get()
    assert campaign.status == "sent"

    # The customer opens the email the app wrote under the mail folder and answers on a phone.
    # Django's file backend writes one file per SMTP-like session, messages separated by a line of dashes.
    messages = [
        email.message_from_bytes(part.strip(), policy=policy.default)
        for f in (tmp_path / "mail").iterdir()
        for part in f.read_bytes().split(b"-" * 79)
        if part.strip()
    ]
    assert messages, "no email was written"
    to_lan = next((m for m in messages if "lan.nguyen@example.com" in str(m["To"])), None)
    assert to_lan is not None, [str(m["To"]) for m in messages]
    body = to_lan.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"(http://[^\s]+/s/[A-Za-z0-9_-]{43}/)", body).group(1)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    phone.goto(link + "?score=10")
    phone.get_by_role("button", name="Gửi câu trả lời").click()
    phone.wait_for_url("**/thanks/**")

    page.reload()
    text = page.get_by_test_id("funnel").inner_text()
    assert "Đã mở\n1" in text and "Đã trả lời\n1" in text and ("50.0" in text or "50,0" in text)
    phone.close()
    page.close()
