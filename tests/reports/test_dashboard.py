from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from feedback import workflow
from feedback.models import Category
from insight.pipeline import comments_sweep
from reports.rollup import rollup_refresh
from surveys.models import Answer
from tests.factories import CustomerFactory, make_response, make_survey

pytestmark = pytest.mark.django_db
URL = reverse("dashboard")


def fill(survey, scores, *, customer=None, days_ago=0):
    for score in scores:
        make_response(survey, score, customer=customer, at=timezone.now() - timedelta(days=days_ago))


def test_no_active_survey_shows_an_empty_state(qm_client):
    make_survey(active=False)
    page = qm_client.get(URL)
    assert page.status_code == 200
    assert "chưa có khảo sát nào được kích hoạt" in page.content.decode()


def test_a_survey_with_no_answer_yet_says_so_instead_of_drawing_empty_axes(qm_client):
    # The first survey, just activated: the dashboard drew four empty charts (a share axis from -1 to 1 %).
    survey = make_survey(kind="nps")
    html = qm_client.get(URL).content.decode()
    assert 'data-testid="no-responses"' in html and "Khảo sát này chưa có câu trả lời nào" in html
    assert f'href="{reverse("campaign_new", args=[survey.pk])}"' in html
    for figure in ("trend", "pchart", "distribution", "funnel"):
        assert f'data-figure="fig-{figure}"' not in html and f'id="fig-{figure}"' not in html
    # Answers arrive: the charts are drawn and the notice goes.
    fill(survey, [10] * 20 + [3] * 15)
    rollup_refresh()
    html = qm_client.get(URL).content.decode()
    assert 'data-testid="no-responses"' not in html
    assert all(f'id="fig-{f}"' in html for f in ("trend", "pchart", "distribution"))


def test_the_headline_figure_with_its_interval_n_and_the_change(qm_client):
    survey = make_survey(kind="csat")
    fill(survey, [5] * 170 + [1] * 30)  # 170 of 200 satisfied: 85 %, Wilson 79.4–89.3
    fill(survey, [5] * 100 + [1] * 100, days_ago=400)  # the previous year: 50 %
    rollup_refresh()
    html = qm_client.get(URL).content.decode()
    assert 'data-testid="kpi-headline">85,0<' in html
    assert "khoảng tin cậy 95% 79,4 – 89,3" in html and "n = 200" in html
    assert 'data-testid="kpi-change">+35,0<' in html and "có ý nghĩa thống kê" in html


def test_below_the_minimum_n_there_is_no_figure(qm_client, settings):
    settings.REPORTS_MIN_N = 30
    survey = make_survey(kind="nps")
    fill(survey, [10, 9, 0])
    rollup_refresh()
    html = qm_client.get(URL).content.decode()
    assert 'data-testid="kpi-headline">Chưa đủ câu trả lời<' in html
    assert "n = 3; cần ít nhất 30" in html


def test_the_page_costs_the_same_queries_at_any_size(qm_client, django_assert_max_num_queries):
    survey = make_survey(kind="nps")
    small, large = CustomerFactory(segment="retail"), CustomerFactory(segment="corporate")
    fill(survey, [10, 3], customer=small)
    rollup_refresh()
    comments_sweep()  # what a worker does between two visits; the page then reads, never writes
    cache.clear()  # both visits pay for the theme figures (they are cached until the next comment is read)
    # 19 for the figures, plus the comment themes (two aggregates, two for a theme's p-chart) and, in the embedded
    # mode these tests run in, the insight catch-up's reads when no comment waits; plus three for the complaint
    # trend (complaints per day and product, the headline questions, their responses per day); plus three for the
    # "save as an analysis record" form (the surveys it may name, and the objectives it may cite).
    with django_assert_max_num_queries(36) as few:
        assert qm_client.get(URL).status_code == 200
    for day in range(60):
        fill(survey, [10, 9, 3, 7], customer=large, days_ago=day)
    rollup_refresh()
    comments_sweep()
    cache.clear()
    with django_assert_max_num_queries(36) as many:
        assert qm_client.get(URL).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_wrong_filters_are_explained_and_the_defaults_used(qm_client):
    survey = make_survey(kind="nps")
    fill(survey, [10] * 40)
    rollup_refresh()
    page = qm_client.get(URL, {"survey": survey.pk, "start": "2026-05-01", "end": "2026-01-01", "segment": "nope",
                               "granularity": "year"})  # fmt: skip
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ngày kết thúc không được trước ngày bắt đầu." in html
    assert "Một số bộ lọc không hợp lệ" in html
    assert 'data-testid="kpi-headline">100,0<' in html  # the default range still shows the data
    assert qm_client.get(URL, {"start": "not a date"}).status_code == 200


def test_segments_are_compared_with_the_rest(qm_client):
    survey = make_survey(kind="nps")
    fill(survey, [10] * 60, customer=CustomerFactory(segment="retail"))
    fill(survey, [0] * 60, customer=CustomerFactory(segment="corporate"))
    fill(survey, [10, 0] * 30, customer=CustomerFactory(segment="online"))
    rollup_refresh()
    html = qm_client.get(URL).content.decode()
    table = html[html.index('data-testid="segments"') :]
    assert table.count("* khác biệt có ý nghĩa</span>") == 2  # retail and corporate; online is like the rest
    only = qm_client.get(URL, {"segment": "retail"}).content.decode()
    assert 'data-testid="kpi-headline">100,0<' in only and 'data-testid="segments"' not in only


def test_comments_are_escaped_searchable_and_paginated(qm_client):
    survey = make_survey(kind="nps")
    comment = survey.current_version.questions.order_by("position").last()
    for i in range(12):
        response = make_response(survey, i % 11)
        Answer.objects.create(response=response, question=comment, text=f"Góp ý {i} <script>alert(1)</script>")
    rollup_refresh()
    html = qm_client.get(URL).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert html.count("Góp ý") == 10 and "page=2" in html
    found = qm_client.get(URL, {"q": "Góp ý 11"}).content.decode()
    listed = found[found.index('data-testid="comments"') :]
    assert listed.count("Góp ý 11") == 1 and "Góp ý 10" not in listed
    none = qm_client.get(URL, {"q": "không có đâu"}).content.decode()
    assert "Không có nhận xét nào khớp với tìm kiếm này." in none


def test_complaints_appear_by_category(qm_client):
    survey = make_survey(kind="nps")
    fill(survey, [10])
    rollup_refresh()
    delivery = Category.objects.create(name_vi="Giao hàng", name_en="Delivery")
    for _ in range(3):
        workflow.case_create(channel="phone", description="Trễ", contact_name="Anh Bình", category=delivery)
    workflow.case_create(channel="phone", description="Khác", contact_name="Chị Hoa")
    html = qm_client.get(URL).content.decode()
    assert "4 khiếu nại nhận được trong kỳ; 0 đã đóng." in html
    assert 'id="fig-pareto"' in html and "Giao h\\u00e0ng" in html


def test_other_scored_questions_show_their_mean_with_an_interval(qm_client):
    from surveys import building

    survey = make_survey(kind="csat")
    speed = building.question_add(
        version=survey.current_version, kind="rating", text_en="Speed", text_vi="Tốc độ phục vụ", scale_min=1,
        scale_max=5,
    )  # fmt: skip
    for value in [1, 2, 3, 4, 5] * 8:  # mean 3, s = 1.43, n = 40 → 3 ± 0.46
        response = make_response(survey, 4)
        Answer.objects.create(response=response, question=speed, number=value)
    rollup_refresh()
    html = qm_client.get(URL).content.decode()
    table = html[html.index('data-testid="other-questions"') :]
    assert "Tốc độ phục vụ" in table and "<td>3,00</td>" in table and "2,54 – 3,46" in table and "<td>40</td>" in table
