"""A quality manager's first hour, walked in a real browser: sending, building, follow-ups, branding, the layout at
1366 px and on a phone in both languages, and an axe-core accessibility check of the pages customers and staff use
most. Screenshots of every page visited are kept under var/screenshots/ (a CI artefact) at 1366×900 and 390×844,
in Vietnamese and English."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from feedback import workflow
from feedback.models import Category
from reports.review import review_create
from reports.rollup import rollup_refresh
from surveys import building
from surveys.models import Answer, Campaign, Invitation, Response, Survey
from tests.factories import CustomerFactory, make_invitation, make_response, make_survey, quality_manager
from tests.surveys.test_branding import png

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = {"1366": WIDE, "390": PHONE}


def _context(browser: Any, live_server: Any, user: Any = None, *, viewport=WIDE, language: str = "vi", **options):
    """A browser context signed in as `user` (through a session made by Django's test client, not the login form:
    the login form has a journey of its own), with the staff pages' language chosen."""
    mobile = viewport["width"] < 500
    context = browser.new_context(
        viewport=viewport,
        locale="vi-VN" if language == "vi" else "en-GB",
        is_mobile=mobile,
        has_touch=mobile,
        **options,
    )
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookies.append({"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url})
    context.add_cookies(cookies)
    return context


def _shot(page: Any, name: str, language: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{language}-{page.viewport_size['width']}.png"), full_page=True)


def _axe(page: Any) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations on the page, as readable lines."""
    # Evaluated through the DevTools protocol, which the page's strict Content-Security-Policy (no inline script)
    # does not govern: the page is checked as it is served, its policy untouched.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate("() => {\n" + AXE.read_text(encoding="utf-8") + "\n}")
    assert page.evaluate("() => typeof window.axe === 'object'")
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_sending_and_building_as_a_new_quality_manager(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    base = live_server.url
    manager = quality_manager(username="lan", first_name="Lan", last_name="Nguyễn")
    manager.email = "lan@example.com"
    manager.save()
    CustomerFactory(email="an@example.com", segment="retail", name="Trần An")
    CustomerFactory(email="binh@example.com", segment="retail")
    CustomerFactory(email="", segment="retail")
    CustomerFactory(email="out@example.com", segment="retail", opted_out_at=timezone.now())
    page = _context(browser, live_server, manager).new_page()

    # Building: start from a template, see its follow-ups, duplicate it.
    page.goto(f"{base}/surveys/new/")
    assert page.get_by_test_id("starters").get_by_role("heading").count() == 5  # the section and four templates
    _shot(page, "survey-new", "vi")
    page.get_by_role("button", name="Dùng mẫu “NPS định kỳ”").click()
    assert page.get_by_text("Đã tạo khảo sát nháp từ mẫu.").is_visible()
    assert page.get_by_text("câu hỏi tiếp nối: hỏi khi điểm từ 0–6").is_visible()
    survey = Survey.objects.get()
    page.get_by_role("button", name="Nhân bản").click()
    assert page.get_by_role("heading", name="Khảo sát mức độ sẵn lòng giới thiệu (bản sao)").is_visible()
    copy = Survey.objects.exclude(pk=survey.pk).get()
    assert copy.current_version.questions.count() == survey.current_version.questions.count()

    # The question form shows the chosen type's fields only, live; the no-script button is hidden.
    page.goto(f"{base}/surveys/{copy.pk}/questions/add/")
    choices, scale = (
        page.get_by_label("Các phương án (tiếng Việt), mỗi dòng một phương án"),
        page.get_by_label("Giá trị thấp nhất"),
    )
    assert not choices.is_visible() and not scale.is_visible()
    assert not page.get_by_role("button", name="Hiện các trường của loại câu hỏi đã chọn").is_visible()
    page.get_by_label("Loại câu hỏi").select_option("single")
    assert choices.is_visible() and not scale.is_visible()
    page.get_by_label("Loại câu hỏi").select_option("rating")
    assert scale.is_visible() and not choices.is_visible()
    _shot(page, "question-form", "vi")

    # An invitation: the link with a copy button, and an empty form for the next customer.
    page.goto(f"{base}/surveys/{survey.pk}/")
    page.get_by_role("button", name="Kích hoạt").click()
    page.goto(f"{base}/surveys/{survey.pk}/invite/")
    page.get_by_role("textbox", name="Khách hàng").fill("an@example.com")
    page.get_by_role("button", name="Tạo lời mời").click()
    assert re.search(r"/s/[\w-]{43}/$", page.get_by_test_id("invitation-link").input_value())
    assert page.get_by_role("textbox", name="Khách hàng").input_value() == ""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Sao chép liên kết").click()
    expect(page.get_by_role("button", name="Đã sao chép")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()").endswith("/")
    _shot(page, "invitation-created", "vi")

    # Sending: the audience first, a test to oneself, then the confirmation.
    page.goto(f"{base}/surveys/{survey.pk}/send/")
    page.get_by_label("Phân khúc").fill("retail")
    page.get_by_role("button", name="Kiểm tra đối tượng gửi", exact=True).click()
    preview = page.get_by_test_id("audience-preview").inner_text()
    assert "4 khách hàng phù hợp." in preview and "1 người sẽ được mời." in preview  # Trần An was invited
    assert "Không có địa chỉ email hợp lệ: 1" in preview and "Từ chối nhận khảo sát: 1" in preview
    _shot(page, "campaign-preview", "vi")
    page.get_by_role("button", name="Gửi thử cho tôi (lan@example.com)").click()
    assert page.get_by_text("Đã gửi email thử tới lan@example.com.").is_visible()
    assert [m.to for m in mail.outbox] == [["lan@example.com"]] and not Campaign.objects.exists()
    assert page.get_by_label("Phân khúc").input_value() == "retail"  # nothing typed is lost
    page.get_by_role("button", name="Kiểm tra đối tượng gửi", exact=True).click()
    page.get_by_role("button", name="Xác nhận: gửi cho 1 khách hàng").click()
    assert "Đã gửi\n1" in page.get_by_test_id("funnel").inner_text()
    assert Campaign.objects.get().invitations.filter(status=Invitation.Status.SENT).count() == 1


def _follow_up_survey() -> tuple[Survey, Any, Any, Any]:
    survey = make_survey(kind="nps", active=False, with_comment=False)
    version = survey.current_version
    improve = building.question_add(
        version=version, kind="text", text_vi="Chúng tôi nên cải thiện điều gì?", text_en="What should we improve?",
        required=False, show_if_min=0, show_if_max=6,
    )  # fmt: skip
    liked = building.question_add(
        version=version, kind="text", text_vi="Bạn thích điều gì nhất?", text_en="What did you like most?",
        required=False, show_if_min=9, show_if_max=10,
    )  # fmt: skip
    building.survey_activate(survey=survey)
    return survey, version.questions.get(position=1), improve, liked


def test_follow_ups_with_and_without_javascript_in_the_organisations_colours(browser, live_server, settings, tmp_path):
    settings.SITE_URL = live_server.url
    base = live_server.url
    manager = quality_manager(username="lan")
    survey, headline, improve, liked = _follow_up_survey()

    # The quality manager sets the logo and colour.
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(40, 20))
    staff = _context(browser, live_server, manager).new_page()
    staff.goto(f"{base}/settings/branding/")
    staff.get_by_label("Màu").fill("#7a1f5c")
    staff.get_by_label("Logo", exact=True).set_input_files(str(logo))
    staff.get_by_role("button", name="Lưu").click()
    # expect() waits for the page the click loads (is_visible() reads the old one on a busy machine).
    expect(staff.get_by_text("Đã lưu: từ bây giờ khách hàng sẽ thấy logo và màu mới.")).to_be_visible()
    _shot(staff, "branding", "vi")

    # With JavaScript, on a phone: the follow-up for the score appears at once.
    _invitation, token = make_invitation(survey=survey)
    phone = _context(browser, live_server, viewport=PHONE).new_page()
    phone.goto(f"{base}/s/{token}/")
    bar = phone.locator("header.bar")
    assert bar.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(122, 31, 92)"
    assert phone.locator("header.bar img.logo").evaluate("img => img.complete && img.naturalWidth") == 40
    improve_box, liked_box = (
        phone.get_by_label("Chúng tôi nên cải thiện điều gì?"),
        phone.get_by_label("Bạn thích điều gì nhất?"),
    )
    assert not improve_box.is_visible() and not liked_box.is_visible()
    phone.get_by_role("radio", name="3", exact=True).check()
    expect(improve_box).to_be_visible()
    expect(liked_box).to_be_hidden()
    phone.get_by_role("radio", name="10", exact=True).check()
    expect(liked_box).to_be_visible()
    expect(improve_box).to_be_hidden()
    liked_box.fill("Giao hàng nhanh")
    problems = _axe(phone)
    assert not problems, "\n".join(problems)
    _shot(phone, "respond-follow-up", "vi")
    phone.get_by_role("button", name="Gửi câu trả lời").click()
    phone.wait_for_url("**/thanks/**")
    assert dict(Answer.objects.values_list("question_id", "text")) == {headline.pk: "", liked.pk: "Giao hàng nhanh"}

    # Without JavaScript, in English: the server asks the follow-up once it knows the score, on the same page.
    _invitation, token = make_invitation(survey=survey, language="en")
    plain = _context(browser, live_server, viewport=PHONE, language="en", java_script_enabled=False).new_page()
    plain.goto(f"{base}/s/{token}/")
    assert not plain.get_by_label("What should we improve?").is_visible()
    plain.get_by_role("radio", name="2", exact=True).check()
    plain.get_by_role("button", name="Send my answers").click()
    expect(plain.get_by_text("Thank you. One more question below")).to_be_visible()
    assert plain.get_by_role("radio", name="2", exact=True).is_checked()
    assert Response.objects.count() == 1
    plain.get_by_label("What should we improve?").fill("Faster delivery")
    _shot(plain, "respond-follow-up-no-script", "en")
    plain.get_by_role("button", name="Send my answers").click()
    plain.wait_for_url("**/thanks/**")
    assert Answer.objects.filter(question=improve, text="Faster delivery").exists()
    # The English page, as a script-enabled phone shows it, passes the same accessibility check.
    english = _context(browser, live_server, viewport=PHONE, language="en").new_page()
    _invitation, token = make_invitation(survey=survey, language="en")
    english.goto(f"{base}/s/{token}/")
    problems = _axe(english)
    assert not problems, "\n".join(problems)


def _data(manager: Any) -> dict[str, Any]:
    """A year of answers, complaints in several categories and a review: enough for every chart to draw."""
    survey = make_survey(kind="nps", owner=manager)
    now = timezone.now()
    for month in range(4):
        for i in range(40):
            make_response(survey, [10, 9, 8, 3][i % 4], at=now - timedelta(days=30 * month, hours=i))
    rollup_refresh()
    names = [("Giao hàng trễ hẹn", "Late delivery"), ("Thái độ nhân viên", "Staff attitude"),
             ("Sản phẩm lỗi", "Faulty product"), ("Hóa đơn sai", "Wrong invoice")]  # fmt: skip
    cases = []
    for n, (vi, en) in enumerate(names):
        category = Category.objects.create(name_vi=vi, name_en=en)
        for i in range(6 - n):
            cases.append(
                workflow.case_create(
                    channel="phone",
                    description=f"Khách hàng phản ánh lần {i}",
                    contact_name="Lê Văn Nam",
                    category=category,
                    actor=manager,
                )  # fmt: skip
            )
    case = cases[0]
    for i in range(8):
        workflow.case_add_note(case=case, actor=manager, text=f"Đã gọi lại cho khách hàng, lần {i + 1}.")
    review = review_create(
        title="Xem xét của lãnh đạo 2026", period_start=date.today() - timedelta(days=120), period_end=date.today(),
        prepared_by=manager,
    )  # fmt: skip
    return {"survey": survey, "case": case, "review": review}


def _one_line_menu(page: Any) -> list[str]:
    """Menu items that wrap onto a second line."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#nav > ul > li > .nav-link')]
            .filter(a => a.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(a).lineHeight))
            .map(a => a.textContent.trim())"""
    )


def _overflows(page: Any) -> bool:
    """The page is wider than the window: something sticks out, and the page scrolls sideways."""
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")


def _clipped_selects(page: Any) -> list[str]:
    """Selects too narrow for the option they show (text plus Bootstrap's padding for the arrow)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('select')].filter(s => {
              const probe = document.createElement('span'), style = getComputedStyle(s);
              probe.style.font = style.font; probe.style.whiteSpace = 'pre'; probe.style.position = 'absolute';
              probe.textContent = s.options[s.selectedIndex].text; document.body.appendChild(probe);
              const need = probe.getBoundingClientRect().width + parseFloat(style.paddingLeft)
                           + parseFloat(style.paddingRight);
              probe.remove();
              return need > s.clientWidth + 1;
            }).map(s => s.id)"""
    )


def _legend_overlaps_labels(page: Any, figure: str) -> bool:
    return page.evaluate(
        """(id) => {
              const box = document.querySelector(`[data-figure="${id}"]`);
              const legend = box.querySelector('g.legend').getBoundingClientRect();
              return [...box.querySelectorAll('g.xtick text')].some(t => {
                const r = t.getBoundingClientRect();
                return r.left < legend.right && r.right > legend.left && r.top < legend.bottom && r.bottom > legend.top;
              });
            }""",
        figure,
    )


def test_layout_language_and_accessibility_at_1366_and_on_a_phone(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    base = live_server.url
    manager = quality_manager(username="lan", first_name="Lan", last_name="Nguyễn Thị")
    manager.is_superuser = True  # every menu item, the admin's too: the widest menu there is
    manager.save()
    data = _data(manager)
    case, review, survey = data["case"], data["review"], data["survey"]
    _invitation, token = make_invitation(survey=survey)

    wide = _context(browser, live_server, manager).new_page()
    wide.goto(f"{base}/reports/?survey={survey.pk}")
    wide.wait_for_selector("[data-figure] .main-svg")
    assert _one_line_menu(wide) == []
    pareto = wide.evaluate("() => [...document.querySelectorAll('[data-figure]')].map(b => b.dataset.figure)")
    pareto_id = next(f for f in pareto if "pareto" in f)
    wide.wait_for_selector(f'[data-figure="{pareto_id}"] g.legend')
    assert not _legend_overlaps_labels(wide, pareto_id)
    problems = _axe(wide)
    assert not problems, "\n".join(problems)
    # Exports and time limits are in the menus.
    wide.get_by_role("button", name="Báo cáo").click()
    assert wide.get_by_role("link", name="Xuất dữ liệu").is_visible()
    wide.keyboard.press("Escape")
    wide.get_by_role("button", name="Thiết lập").click()
    assert wide.get_by_role("link", name="Thời hạn xử lý").is_visible()
    wide.keyboard.press("Escape")

    wide.goto(f"{base}/customers/?segment=&language=&type=&opted_out=")
    assert _clipped_selects(wide) == []
    wide.goto(f"{base}/reports/reviews/{review.pk}/")
    assert "Mục tiêu\tMục tiêu" not in wide.locator("main").inner_text()

    phone = _context(browser, live_server, manager, viewport=PHONE).new_page()
    phone.goto(f"{base}/cases/{case.reference}/")
    status_top = phone.get_by_role("heading", name="Đổi trạng thái").bounding_box()["y"]
    timeline_top = phone.get_by_role("heading", name="Diễn biến").bounding_box()["y"]
    assert status_top < timeline_top
    problems = _axe(phone)
    assert not problems, "\n".join(problems)

    # Screenshots of every page a quality manager uses in the first hour, at both sizes, in both languages.
    pages = {
        "dashboard": f"/reports/?survey={survey.pk}",
        "survey": f"/surveys/{survey.pk}/",
        "campaign-new": f"/surveys/{survey.pk}/send/",
        "customers": "/customers/",
        "case": f"/cases/{case.reference}/",
        "review": f"/reports/reviews/{review.pk}/",
        "exports": "/reports/exports/",
        "time-limits": "/settings/time-limits/",
    }
    for language in ("vi", "en"):
        for size in SIZES.values():
            page = _context(browser, live_server, manager, viewport=size, language=language).new_page()
            for name, path in pages.items():
                page.goto(base + path)
                assert page.locator("html").get_attribute("lang") == language
                assert not _overflows(page), (name, language, size)
                if size is WIDE:
                    assert _one_line_menu(page) == [], (name, language)
                _shot(page, name, language)
            page.goto(f"{base}/s/{token}/?lang={language}")
            assert not _overflows(page)
            _shot(page, "respond", language)
            page.context.close()
    assert len(list(SHOTS.glob("*-390.png"))) >= 18 and len(list(SHOTS.glob("*-1366.png"))) >= 18
