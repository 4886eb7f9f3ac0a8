"""A quality manager reads the satisfaction dashboard and narrows it with the filters, in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from reports.rollup import rollup_refresh
from surveys.models import Answer
from tests.e2e.test_feedback_journey import login
from tests.factories import CustomerFactory, make_response, make_survey, quality_manager

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_quality_manager_reads_and_filters_the_dashboard(browser, live_server):
    base = live_server.url
    manager = quality_manager(username="lan", first_name="Lan")
    survey = make_survey(kind="nps", owner=manager)
    retail, corporate = CustomerFactory(segment="retail"), CustomerFactory(segment="corporate")
    comment_question = survey.current_version.questions.order_by("position").last()
    now = timezone.now()
    for month in range(6):
        for i in range(40):
            # Retail answers 10, corporate 3: every month 20 of each.
            customer = retail if i % 2 else corporate
            response = make_response(survey, 10 if customer is retail else 3, customer=customer,
                                     at=now - timedelta(days=30 * month, hours=i))  # fmt: skip
            if i == 0 and month == 0:
                Answer.objects.create(
                    response=response, question=comment_question, text="Nhân viên <b>rất</b> tận tình"
                )
    rollup_refresh()

    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    login(page, base, "lan")
    page.get_by_role("link", name="Bảng điều khiển").click()
    page.wait_for_url("**/reports/")
    # 240 answers: half promoters, half detractors → NPS 0, with its interval and n.
    assert page.get_by_test_id("kpi-headline").inner_text() == "0,0"
    assert "n = 240" in page.get_by_test_id("kpis").inner_text()
    page.wait_for_selector(".ln-chart .main-svg")
    assert page.locator(".ln-chart .main-svg").count() >= 5  # plotly.js drew from static/, under the CSP
    # The comment is shown as text, not as markup.
    assert page.get_by_test_id("comments").inner_text().startswith("3")
    assert "Nhân viên <b>rất</b> tận tình" in page.get_by_test_id("comments").inner_text()
    assert "differs significantly" not in page.content()
    assert page.get_by_test_id("segments").get_by_text("khác biệt có ý nghĩa").count() == 2

    # Narrow to one segment and quarters: the URL carries the filters, the figures follow.
    filters = page.get_by_test_id("filters")
    filters.get_by_label("Phân khúc").select_option("retail")
    filters.get_by_label("Chu kỳ").select_option("quarter")
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url("**granularity=quarter**")
    assert "segment=retail" in page.url
    assert page.get_by_test_id("kpi-headline").inner_text() == "100,0"
    assert "n = 120" in page.get_by_test_id("kpis").inner_text()
    page.get_by_text("Các số liệu").click()
    assert page.get_by_test_id("trend-table").locator("tbody tr").count() in (4, 5)  # twelve months in quarters

    # A shared link opens the same view.
    other = context.new_page()
    other.goto(page.url)
    assert other.get_by_test_id("kpi-headline").inner_text() == "100,0"
    assert problems == []
    context.close()
