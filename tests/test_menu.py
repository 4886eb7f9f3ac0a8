"""The main menu: every page a role uses is in it, with labels that read right in Vietnamese."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _menu(html: str) -> dict[str, str]:
    nav = html.split('<nav class="navbar', 1)[1].split("</nav>", 1)[0]
    return {
        label.strip(): href
        for href, label in re.findall(
            r'<a class="(?:nav-link|dropdown-item)[^"]*" href="([^"]+)"[^>]*>([^<]+)</a>', nav
        )
    }


def test_a_quality_manager_finds_exports_time_limits_and_branding_in_the_menu(qm_client):
    menu = _menu(qm_client.get(reverse("home")).content.decode())
    assert menu["Xuất dữ liệu"] == reverse("export_list")
    assert menu["Thời hạn xử lý"] == reverse("time_limits")
    assert menu["Logo và màu"] == reverse("branding")
    assert menu["Mục tiêu chất lượng"] == reverse("objective_list")
    assert menu["Khiếu nại"] == reverse("case_list")  # the page is titled "Khiếu nại", so is its menu item
    assert "Hồ sơ" not in menu


def test_staff_see_only_their_pages(staff_client):
    menu = _menu(staff_client.get(reverse("home")).content.decode())
    assert set(menu) >= {"Khiếu nại", "Hành động khắc phục"} and "Xuất dữ liệu" not in menu


def test_the_breadcrumb_is_named_in_the_readers_language(qm_client):
    # A screen reader announced the trail above every detail page as "breadcrumb, navigation", in English.
    from tests.factories import make_survey

    survey = make_survey()
    html = qm_client.get(f"/surveys/{survey.pk}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<nav aria-label="Đường dẫn trang">' in html and 'aria-label="breadcrumb"' not in html
