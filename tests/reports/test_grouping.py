"""Counts are grouped as the reader writes them (1.500 in Vietnamese, 1,500 in English) on every page that shows
them: the pagination line of every list, the complaint categories' case counts and the management-review pack
(page and PDF share its lines)."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from reports.pack import pack_view
from reports.review import review_create, review_inputs

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "expected"), [("vi", "Trang 1.500 / 3.000"), ("en", "Page 1,500 of 3,000")])
def test_pagination_groups_the_page_number_and_the_total(language, expected):
    page = Paginator(range(30_000), 10).page(1500)
    with translation.override(language):
        html = render_to_string("includes/pagination.html", {"page": page})
    assert expected in html


@pytest.mark.parametrize(("language", "expected"), [("vi", "12.345"), ("en", "12,345")])
def test_category_list_groups_the_case_count(qm, language, expected):
    request = RequestFactory().get("/")
    request.user = qm
    category = SimpleNamespace(pk=1, name_vi="Giao hàng", name_en="Delivery", active=True, case_count=12345)
    with translation.override(language):
        html = render_to_string("feedback/category_list.html", {"categories": [category]}, request=request)
    assert f'<td class="text-end">{expected}</td>' in html


@pytest.mark.parametrize(
    ("language", "counts"), [("vi", ("1.500", "1.234", "2.001")), ("en", ("1,500", "1,234", "2,001"))]
)
def test_review_pack_groups_complaint_and_action_counts(qm, language, counts):
    review = review_create(title="R", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), prepared_by=qm)
    inputs = review_inputs(review)
    inputs["complaints"].update(received=1500, closed=1234, accepted=1234)
    inputs["complaints"]["categories"] = [{"vi": "Giao hàng", "en": "Delivery", "n": 1500}]
    inputs["corrective_actions"]["opened"] = 2001
    with translation.override(language):
        view = pack_view(review, inputs, language)
    received, closed, opened = counts
    assert view["complaints"]["received"] == received
    assert view["complaints"]["closed"] == closed
    assert view["complaints"]["categories"][0][1] == received
    assert view["corrective"]["opened"] == opened
