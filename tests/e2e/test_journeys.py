"""User journeys as a person walks them, in a real browser against the live app."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from surveys.models import Answer, Invitation, Response, Survey
from tests.factories import CustomerFactory, make_invitation, make_survey, quality_manager

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "vi-VN",
}
PAGE_BUDGET_BYTES = 60_000


def test_customer_answers_in_vietnamese_on_a_phone_with_the_keyboard(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    invitation, token = make_invitation(language="vi")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    hosts: set[str] = set()
    transferred: list[int] = []
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))

    def count(request):
        sizes = request.sizes()
        transferred.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])

    page.on("requestfinished", count)
    page.goto(f"{live_server.url}/s/{token}/")
    page.wait_for_load_state("networkidle")
    first_load = sum(transferred)
    assert 0 < first_load < PAGE_BUDGET_BYTES, f"respondent page transferred {first_load} bytes"
    assert hosts == {urlparse(live_server.url).netloc}

    assert page.locator("html").get_attribute("lang") == "vi"
    group = page.get_by_role("radiogroup", name="Bạn có sẵn lòng giới thiệu")
    assert group.is_visible()
    assert group.get_by_role("radio").count() == 11

    # Submitting without the required answer: a clear Vietnamese error, and the comment is kept.
    page.get_by_label("Lý do chính cho điểm số của bạn là gì?").fill("Nhân viên giao hàng rất lịch sự")
    page.get_by_role("button", name="Gửi câu trả lời").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Vui lòng trả lời câu hỏi này.").first.is_visible()
    assert page.get_by_label("Lý do chính cho điểm số").input_value() == "Nhân viên giao hàng rất lịch sự"
    assert Response.objects.count() == 0

    # Keyboard only: Tab into the scale, arrows to 9, Tab to the box, Tab to the button, Enter.
    page.get_by_role("radio", name="0", exact=True).focus()
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert page.get_by_role("radio", name="9", exact=True).is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/s/{token}/thanks/**")
    assert page.get_by_role("heading", name="Cảm ơn bạn!").is_visible()

    response = Response.objects.get()
    assert response.invitation_id == invitation.pk and response.language == "vi"
    numbers = dict(Answer.objects.values_list("question__kind", "number"))
    texts = dict(Answer.objects.values_list("question__kind", "text"))
    assert numbers["nps"] == 9 and texts["text"] == "Nhân viên giao hàng rất lịch sự"

    # Opening the link again says the answer was recorded.
    page.goto(f"{live_server.url}/s/{token}/")
    assert page.get_by_text("Câu trả lời của bạn đã được ghi nhận").is_visible()
    context.close()


def test_quality_manager_builds_activates_and_invites(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    quality_manager(username="lan", password="a long demo passphrase")
    CustomerFactory(email="khach@example.com", name="Đỗ Thu Hà", language="en")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Tên đăng nhập").fill("lan")
    page.get_by_label("Mật khẩu").fill("a long demo passphrase")
    page.get_by_role("button", name="Đăng nhập").click()

    page.get_by_role("link", name="Tạo khảo sát").click()
    page.get_by_label("Khảo sát này đo lường điều gì?").select_option("csat")
    page.get_by_label("Tiêu đề (tiếng Việt)").fill("Sau khi hỗ trợ")
    page.get_by_label("Tiêu đề (tiếng Anh)").fill("After support")
    page.get_by_role("button", name="Lưu").click()
    assert page.get_by_text("Đã tạo khảo sát ở dạng bản nháp").is_visible()

    page.get_by_role("link", name="Thêm câu hỏi").click()
    page.get_by_label("Loại câu hỏi").select_option("single")
    page.get_by_label("Câu hỏi (tiếng Việt)").fill("Bạn liên hệ qua kênh nào?")
    page.get_by_label("Câu hỏi (tiếng Anh)").fill("Which channel did you use?")
    page.get_by_label("Các phương án (tiếng Việt)").fill("Điện thoại\nEmail\nTại quầy")
    page.get_by_label("Các phương án (tiếng Anh)").fill("Phone\nEmail\nAt the counter")
    page.get_by_role("button", name="Lưu câu hỏi").click()
    assert page.get_by_text("Bạn liên hệ qua kênh nào?").is_visible()
    page.get_by_role("button", name="Chuyển lên: Bạn liên hệ qua kênh nào?").click()
    survey = Survey.objects.get()
    kinds = list(survey.current_version.questions.order_by("position").values_list("kind", flat=True))
    assert kinds == ["csat", "single", "text"]

    with context.expect_page() as preview_info:
        page.evaluate(
            "url => window.open(url)",
            page.get_by_role("link", name="Xem trước bằng tiếng Anh").get_attribute("href"),
        )
    preview = preview_info.value
    preview.wait_for_load_state()
    assert preview.get_by_text("Which channel did you use?").is_visible()
    assert preview.get_by_role("button", name="Send my answers").count() == 0
    preview.close()

    page.get_by_role("button", name="Kích hoạt").click()
    assert page.get_by_text("Khảo sát đang hoạt động: các liên kết đã dùng được.").is_visible()
    page.get_by_role("link", name="Mời khách hàng").click()
    page.get_by_role("textbox", name="Khách hàng").fill("khach@example.com")
    page.get_by_role("button", name="Tạo lời mời").click()
    link = page.get_by_test_id("invitation-link").input_value()
    assert link.startswith(f"{live_server.url}/s/")
    assert Invitation.objects.get().customer.email == "khach@example.com"

    customer_page = browser.new_page()
    customer_page.goto(link)
    # The customer's own language (English), not the manager's.
    assert customer_page.get_by_role("radiogroup", name="How satisfied are you").is_visible()
    assert customer_page.get_by_role("radiogroup", name="Which channel did you use?").is_visible()
    customer_page.close()
    context.close()


@pytest.mark.parametrize(("kind", "language"), [("nps", "vi"), ("nps", "en"), ("csat", "en"), ("ces", "vi")])
def test_the_survey_reflows_on_a_phone_zoomed_to_200_percent(browser, live_server, settings, kind, language):
    # A 360 px phone zoomed to 200 % lays the page out in 180 CSS pixels. The 0-10 scale kept six columns, squeezed
    # to 15 px wide buttons (WCAG 2.2's target minimum is 24), and a fieldset would not shrink below its longest
    # words ("1 = Very dissatisfied"), so the page scrolled sideways.
    settings.SITE_URL = live_server.url
    _invitation, token = make_invitation(survey=make_survey(kind=kind), language=language)
    context = browser.new_context(viewport={"width": 180, "height": 370}, device_scale_factor=2, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 180
    widths = page.eval_on_selector_all(".pt span", "spans => spans.map(s => s.getBoundingClientRect().width)")
    assert widths and min(widths) >= 24, widths
    boxes = page.eval_on_selector_all(".q", "qs => qs.map(q => q.getBoundingClientRect().right)")
    assert max(boxes) <= 180, boxes
    context.close()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_invitation_email_fits_a_phone(browser, mailoutbox, language):
    # The eleven score buttons were one table row, 522 px wide: on a 360 px phone the mail app either scrolled the
    # row sideways (hiding 8, 9 and 10) or shrank the whole email to fit. They wrap onto two lines now, as on the page.
    from surveys.campaigns import invitation_email_send

    invitation, _token = make_invitation(customer=CustomerFactory(language=language, name="Nguyễn Thị Ánh Tuyết"))
    assert invitation_email_send(invitation_id=invitation.pk) == "sent"
    page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    page.set_content(mailoutbox[0].alternatives[0][0])
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    size = "links => links.map(a => [a.getBoundingClientRect().width, a.getBoundingClientRect().height])"
    buttons = page.eval_on_selector_all("a[href*='?score=']", size)
    assert len(buttons) == 11 and all(width >= 24 and height >= 24 for width, height in buttons), buttons


def test_the_email_confirmation_page_fits_a_phone_zoomed_to_200_percent(browser, live_server, settings, mailoutbox):
    # The page names the address typed; a long one ran past the screen's edge and the page scrolled sideways.
    import re

    from django.test import Client

    from surveys.public import public_link_enable

    settings.SITE_URL = live_server.url
    survey = public_link_enable(survey=make_survey(kind="csat"))
    score = survey.current_version.questions.order_by("position").first()
    address = "nguyen.thi.anh.tuyet+khao-sat@congty-thuong-mai.example.com"
    client = Client()
    client.post(f"/p/{survey.public_key}/", {"lang": "vi", f"q{score.pk}": "4", "email": address})
    link = re.search(r"https?://\S+/confirm/\S+/", mailoutbox[0].body).group(0)
    page = browser.new_context(viewport={"width": 180, "height": 370}, device_scale_factor=2).new_page()
    page.goto(link)
    assert page.get_by_text(address).is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 180
