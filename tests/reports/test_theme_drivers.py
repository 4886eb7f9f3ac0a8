"""Themes as drivers, through the real flow: comments read by the worker's model, then the key-driver analysis of
the survey. The data follow a known model, so the analysis must recover it as a statistician would check it:

    NPS = 3 + 0.8·delivery rating + 0.3·staff rating + 0·price rating − 3·[comment about delivery] + noise

A comment about the staff (drawn independently of one about delivery) has no effect; a theme too rare to
estimate (under 2 % of the responses) is not offered."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from insight import pipeline, services
from insight.models import CommentTheme
from reports.drivers import survey_drivers
from surveys import demo
from surveys.models import Answer, Response

pytestmark = pytest.mark.django_db
N = 400
DELIVERY = ["Giao hàng chậm quá", "Giao hang cham qua, doi mai"]
STAFF = ["Nhân viên tư vấn rất nhiệt tình", "nhân viên lịch sự, tư vấn kỹ"]
PRICE = "Giá đắt quá so với chỗ khác"


@pytest.fixture
def survey(qm):
    services.themes_seed_starter()
    survey = demo.ensure_surveys(qm)[0]
    version = survey.current_version
    questions = list(version.questions.order_by("position"))
    headline, comment, attributes = questions[0], questions[1], questions[2:5]
    rng = random.Random(7)
    now = timezone.now()
    truth = {"delivery": 0, "staff": 0, "price": 0}
    for i in range(N):
        ratings = [rng.randint(1, 5) for _ in attributes]
        # Mentions drawn independently (a comment can be about both), so that the two themes are uncorrelated.
        about = {"price"} if i < 3 else {k for k in ("delivery", "staff") if rng.random() < 0.35}
        y = 3 + 0.8 * ratings[0] + 0.3 * ratings[1] - 3 * ("delivery" in about) + rng.gauss(0, 0.7)
        response = Response.objects.create(
            survey=survey, version=version, language="vi", submitted_at=now - timedelta(hours=i)
        )
        answers = [Answer(response=response, question=headline, number=max(0, min(10, round(y))))]
        answers += [Answer(response=response, question=q, number=r) for q, r in zip(attributes, ratings, strict=True)]
        parts = [PRICE] if "price" in about else []
        parts += [rng.choice(DELIVERY)] if "delivery" in about else []
        parts += [rng.choice(STAFF)] if "staff" in about else []
        if parts:
            answers.append(Answer(response=response, question=comment, text=", ".join(parts)))
        for key in about:
            truth[key] += 1
        Answer.objects.bulk_create(answers)
    pipeline.comments_sweep()
    survey.truth = truth
    return survey


def _by_name(analysis):
    return {d.name: d for d in analysis.drivers}


def test_a_theme_that_lowers_the_score_is_found_with_its_effect_and_a_neutral_one_is_not(survey):
    found = {
        key: CommentTheme.objects.filter(theme__key=key, comment__survey=survey).count()
        for key in ("delivery", "staff", "price")
    }
    assert found == survey.truth  # the premise: the worker read each comment as written
    today = timezone.localdate()
    analysis = survey_drivers(survey, today - timedelta(days=30), today, language="en")
    assert analysis is not None and analysis.enough and analysis.n == N
    drivers = _by_name(analysis)
    delivery, staff = drivers["Delivery"], drivers["Staff attitude"]
    assert delivery.kind == staff.kind == "theme"
    # The effect: a comment about delivery costs 3 points, others held fixed; its 95 % interval holds the truth.
    assert delivery.effect_low < -3 < delivery.effect_high < -2
    assert delivery.effect == pytest.approx(-3, abs=0.35)
    # A theme with no effect: its interval holds 0, and it explains almost nothing.
    assert staff.effect_low < 0 < staff.effect_high
    assert staff.importance < 3
    # Performance of a theme is its share of the responses (%), as counted.
    assert delivery.performance == pytest.approx(100 * survey.truth["delivery"] / N)
    # Importance: the delivery theme clearly matters, and more than the price rating, which has no effect.
    price_rating = next(d for d in analysis.drivers if d.kind == "attribute" and "price" in d.name)
    assert delivery.importance_low > price_rating.importance_high
    assert sum(d.importance for d in analysis.drivers) == pytest.approx(100)
    # A theme too rare to estimate is not offered; retired themes neither (tested below).
    assert "Price" not in drivers
    without = survey_drivers(survey, today - timedelta(days=30), today, language="en", with_themes=False)
    assert {d.kind for d in without.drivers} == {"attribute"}
    assert analysis.r2 > without.r2 + 0.2  # the theme explains what the ratings cannot
    assert analysis.r2_low <= analysis.r2 <= analysis.r2_high


def test_a_retired_theme_is_no_driver(survey, qm):
    from insight.models import Theme

    delivery = Theme.objects.get(key="delivery")
    services.theme_update(
        theme=delivery, name_vi=delivery.name_vi, name_en=delivery.name_en, examples=delivery.examples, active=False
    )
    today = timezone.localdate()
    analysis = survey_drivers(survey, today - timedelta(days=30), today, language="en")
    assert "Delivery" not in _by_name(analysis)
