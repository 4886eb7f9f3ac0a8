"""The theme pages as a quality manager and a staff member use them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from insight import pipeline, services
from insight.models import CommentInsight, InsightState, Theme, ThemeCorrection
from surveys.models import Answer
from tests.factories import make_response, make_survey

pytestmark = pytest.mark.django_db


def _comment(survey, score, text):
    response = make_response(survey, score)
    question = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=question, text=text)
    return response


@pytest.fixture
def survey(qm):
    services.themes_seed_starter()
    return make_survey(owner=qm)


def test_a_manager_adds_a_theme_and_bad_input_changes_nothing(client, qm, survey):
    client.force_login(qm)
    revision = InsightState.load().revision
    page = client.post(reverse("theme_new"), {"name_vi": "Đỗ xe", "name_en": "Parking", "examples": "  \n "})
    assert page.status_code == 200 and "is-invalid" in page.content.decode()
    assert not Theme.objects.filter(name_en="Parking").exists() and InsightState.load().revision == revision
    page = client.post(
        reverse("theme_new"),
        {"name_vi": "Đỗ xe", "name_en": "Parking", "examples": "bãi gửi xe chật\nno parking space", "active": "on"},
    )
    assert page.status_code == 302
    theme = Theme.objects.get(name_en="Parking")
    assert theme.key == "parking" and theme.example_list() == ["bãi gửi xe chật", "no parking space"]
    assert InsightState.load().revision == revision + 1
    listing = client.get(reverse("theme_list")).content.decode()
    assert "Parking" in listing or "Đỗ xe" in listing


def test_the_theme_list_reads_waiting_comments_in_the_embedded_mode(client, qm, survey):
    _comment(survey, 2, "Giao hàng chậm quá, đợi cả tuần")
    client.force_login(qm)
    page = client.get(reverse("theme_list")).content.decode()
    assert CommentInsight.objects.count() == 1
    delivery = Theme.objects.get(key="delivery")
    comments = client.get(reverse("theme_comments", args=[delivery.pk]), {"survey": survey.pk}).content.decode()
    assert "Giao hàng chậm quá, đợi cả tuần" in comments and "score 2" in comments.replace("điểm", "score")
    assert page.count("data-testid") >= 1


def test_staff_correct_a_comment_and_it_is_kept(client, survey):
    from tests.factories import staff_user

    response = _comment(survey, 6, "Giá hơi đắt")
    pipeline.comments_sweep()
    comment = CommentInsight.objects.get(response=response)
    user = staff_user()
    client.force_login(user)
    waiting, billing = Theme.objects.get(key="waiting"), Theme.objects.get(key="billing")
    back = reverse("theme_comments", args=[billing.pk])
    page = client.post(
        reverse("comment_correct", args=[comment.pk]),
        {"themes": [waiting.pk, billing.pk], "sentiment": "negative", "next": back},
    )
    assert page.status_code == 302 and page["Location"] == back
    correction = ThemeCorrection.objects.get(comment=comment)
    assert set(correction.themes.values_list("key", flat=True)) == {"waiting", "billing"}
    assert correction.corrected_by == user
    assert set(comment.themes.values_list("theme__key", flat=True)) == {"waiting", "billing"}
    # A foreign "next" is not followed.
    page = client.post(reverse("comment_correct", args=[comment.pk]), {"themes": [], "next": "https://evil.example/"})
    assert page["Location"] == reverse("theme_list")
    assert not comment.themes.exists()


def test_comments_that_fit_no_theme_are_offered_as_a_suggested_theme(client, qm, survey):
    texts = [
        "bãi gửi xe chật quá",
        "không có chỗ gửi xe",
        "bai gui xe chat, phai de xe ngoai duong",
        "gửi xe mất phí cao, bãi xe chật",
        "chỗ gửi xe máy quá chật chội",
        "bãi gửi xe ô tô không còn chỗ",
        "parking lot too small, bãi gửi xe chật",
    ]
    for text in texts:
        _comment(survey, 7, text)
    pipeline.comments_sweep()
    client.force_login(qm)
    page = client.get(reverse("theme_suggestions")).content.decode()
    assert 'data-testid="suggestion"' in page
    assert "xe" in page and "bãi gửi xe chật quá" in page
    assert reverse("theme_new") + "?examples=" in page
