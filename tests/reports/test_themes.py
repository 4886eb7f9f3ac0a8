"""Themes on the dashboard (share and average score with intervals, p-chart, click through) and the key-driver page."""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from insight import pipeline, services
from reports.rollup import rollup_refresh
from surveys import demo
from surveys.models import Answer
from tests.factories import make_response, make_survey

pytestmark = pytest.mark.django_db


def _comment(survey, score, text, days_ago=0):
    response = make_response(survey, score, at=timezone.now() - timedelta(days=days_ago))
    question = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=question, text=text)


def test_the_dashboard_shows_themes_by_share_and_score_and_their_p_chart(qm_client, qm):
    services.themes_seed_starter()
    survey = make_survey(owner=qm)
    for day in range(0, 90, 3):
        _comment(survey, 2, "Giao hàng chậm quá, đợi cả tuần", days_ago=day)
        _comment(survey, 10, "Nhân viên tư vấn rất nhiệt tình", days_ago=day)
        _comment(survey, 3, "ship lâu vãi, ko thấy hàng đâu", days_ago=day)
    rollup_refresh()
    pipeline.comments_sweep()
    html = qm_client.get(reverse("dashboard"), {"survey": survey.pk}).content.decode()
    table = html[html.index('data-testid="themes-table"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>\s*<td><a href=\"([^\"]+)\">([^<]+)</a></td>\s*<td>([\d,.]+)%</td>", table)
    names = [name for _url, name, _share in rows]
    assert names[:2] == ["Giao hàng", "Thái độ nhân viên"]
    assert rows[0][2].replace(",", ".") == "66.7"  # 60 of 90 comments
    delivery_row = table[table.index("Giao hàng") :].split("</tr>")[0]
    assert "2,50" in delivery_row  # average score of responses mentioning delivery: (2 + 3) / 2
    assert f"survey={survey.pk}" in rows[0][0]
    figure = json.loads(
        re.search(r'<script id="fig-theme-pchart" type="application/json">(.+?)</script>', html).group(1)
    )
    shares = figure["data"][3]["y"]
    assert len(shares) >= 3 and all(abs(s - 66.7) < 0.1 for s in shares)
    comments = qm_client.get(rows[0][0]).content.decode()
    assert "Giao hàng chậm quá, đợi cả tuần" in comments and "Nhân viên tư vấn" not in comments


def test_the_driver_page_ranks_the_demo_attributes_and_says_fix_first(qm_client, qm):
    people = demo.ensure_customers(40, random.Random(1))
    surveys = demo.ensure_surveys(qm)
    demo.generate_responses(surveys=surveys, customers=people, total=800, rng=random.Random(2))
    html = qm_client.get(reverse("drivers"), {"survey": surveys[0].pk}).content.decode()
    assert 'data-testid="drivers-r2"' in html
    table = html[html.index('data-testid="drivers-table"') :]
    first_row = table.split("</tr>")[1]
    assert "tốc độ giao hàng" in first_row and 'data-testid="fix-first"' in first_row
    assert 'id="fig-importance-performance"' in html


def test_the_driver_page_says_not_enough_responses_or_nothing_to_analyse(qm_client, qm):
    surveys = demo.ensure_surveys(qm)
    people = demo.ensure_customers(5, random.Random(1))
    demo.generate_responses(surveys=surveys, customers=people, total=20, rng=random.Random(2))
    html = qm_client.get(reverse("drivers"), {"survey": surveys[0].pk}).content.decode()
    assert 'data-testid="drivers-not-enough"' in html
    html = qm_client.get(reverse("drivers"), {"survey": surveys[1].pk}).content.decode()
    assert 'data-testid="drivers-none"' in html


def test_the_review_pack_lists_the_top_themes_and_their_change(qm_client, qm):
    from reports.review import review_create

    services.themes_seed_starter()
    survey = make_survey(owner=qm)
    today = timezone.localdate()
    for i in range(30):
        _comment(survey, 3, "Giao hàng chậm quá, đợi cả tuần" if i % 3 else "Giá quá đắt", days_ago=40 + i)
        _comment(survey, 3, "Giao hàng chậm quá, đợi cả tuần" if i % 10 == 0 else "Giá quá đắt", days_ago=1 + i)
    pipeline.comments_sweep()
    review = review_create(title="Xem xét", period_start=today - timedelta(days=35), period_end=today, prepared_by=qm)
    html = qm_client.get(reverse("review_detail", args=[review.pk])).content.decode()
    table = html[html.index('data-testid="review-themes"') :].split("</table>")[0]
    rows = [r for r in table.split("</tr>") if "<td>" in r]
    assert "Giá cả" in rows[0] and "Giao hàng" in rows[1]
    # 90.0 − 33.3 = 56.67, rounded, not truncated; the p-value in the page's language, as every other one
    # (it read "p = 0.000" beside "+56,7").
    assert "+56,7" in rows[0] and "p &lt; 0,001" in rows[0] and "0.000" not in rows[0]
    pdf = qm_client.get(reverse("review_pdf", args=[review.pk]))
    assert pdf.status_code == 200


def test_the_cached_theme_figures_follow_a_correction(qm_client, qm, settings):
    from insight.models import CommentInsight

    settings.REPORTS_MIN_N = 1
    services.themes_seed_starter()
    survey = make_survey(owner=qm)
    for _ in range(4):
        _comment(survey, 2, "Giao hàng chậm quá, đợi cả tuần")
    pipeline.comments_sweep()
    url = reverse("dashboard")
    first = qm_client.get(url, {"survey": survey.pk}).content.decode()
    assert ">100,0%<" in first
    services.comment_correct(comment=CommentInsight.objects.first(), themes=[], sentiment="", actor=qm)
    after = qm_client.get(url, {"survey": survey.pk}).content.decode()
    assert ">75,0%<" in after  # 3 of 4 comments still about delivery
