"""The worker side: each comment read once after it is stored, read again when the theme list changes, staff
corrections kept through that, and erased customers' comments gone from the themes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from customers.services import customer_erase
from insight import pipeline, services
from insight.models import CommentInsight, CommentTheme, InsightState, Theme, ThemeCorrection
from surveys.invitations import invitation_create
from surveys.models import Answer, Response
from tests.factories import CustomerFactory, make_response, make_survey

pytestmark = pytest.mark.django_db


def _respond(survey, score, text, *, customer=None, at=None):
    response = make_response(survey, score, customer=customer, at=at)
    comment = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=comment, text=text)
    return response


def _themes_of(response) -> set[str]:
    return set(CommentTheme.objects.filter(comment__response=response).values_list("theme__key", flat=True))


@pytest.fixture
def survey(qm):
    services.themes_seed_starter()
    return make_survey(owner=qm)


def test_the_respondents_request_never_runs_the_model(client, survey, django_capture_on_commit_callbacks):
    invitation, token = invitation_create(survey=survey, customer=CustomerFactory())
    questions = list(survey.current_version.questions.order_by("position"))
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/s/{token}/", {f"q{questions[0].pk}": "3", f"q{questions[1].pk}": "ship chậm quá"})
    assert page.status_code == 302
    assert Response.objects.count() == 1
    assert CommentInsight.objects.count() == 0  # the worker (or, embedded, a staff page) reads it later
    assert pipeline.comments_sweep() == 1
    assert _themes_of(Response.objects.get()) == {"delivery"}


def test_each_comment_is_read_once_and_the_watermark_moves_past_settled_ones(survey):
    now = timezone.now()
    old = _respond(survey, 2, "Giao hang cham, hen 2 ngay ma 5 ngay moi toi", at=now - timedelta(hours=1))
    fresh = _respond(survey, 10, "Nhân viên tư vấn rất nhiệt tình", at=now)
    make_response(survey, 8)  # no comment: nothing to read
    with time_machine.travel(now, tick=False):
        assert pipeline.comments_sweep() == 2
        assert pipeline.comments_sweep() == 0
    assert CommentInsight.objects.count() == 2
    assert _themes_of(old) == {"delivery"} and _themes_of(fresh) == {"staff"}
    by_response = {c.response_id: c for c in CommentInsight.objects.all()}
    assert by_response[old.pk].sentiment == "negative" and by_response[old.pk].score == 2
    assert by_response[fresh.pk].sentiment == "positive"
    # The fresh answer may still have a late-committing neighbour: the watermark waits behind it.
    assert InsightState.load().watermark == old.answers.exclude(text="").get().pk
    delivery = CommentTheme.objects.get(comment__response=old)
    assert 0.25 <= delivery.confidence <= 1 and delivery.score == 2 and delivery.survey_id == survey.pk


def test_a_new_theme_makes_every_comment_read_again_and_corrections_stay(survey, qm):
    parking = _respond(survey, 3, "Bãi gửi xe quá chật, mất nửa tiếng mới có chỗ đậu xe")
    corrected = _respond(survey, 4, "ứng dụng hơi khó dùng")
    pipeline.comments_sweep()
    comment = CommentInsight.objects.get(response=corrected)
    services.comment_correct(comment=comment, themes=[Theme.objects.get(key="waiting")], sentiment="neutral", actor=qm)
    assert _themes_of(corrected) == {"waiting"}
    revision = InsightState.load().revision
    services.theme_create(
        name_vi="Chỗ đậu xe",
        name_en="Parking",
        examples="bãi gửi xe chật\nkhông có chỗ đậu xe\nno parking space\ngui xe kho khan",
    )
    assert InsightState.load().revision == revision + 1
    assert pipeline.pending_counts()["stale"] == 2
    assert pipeline.comments_recompute() == 2
    assert _themes_of(parking) == {"parking"}
    assert _themes_of(corrected) == {"waiting"}  # the person's reading wins over the new model's
    comment.refresh_from_db()
    assert comment.sentiment == "neutral" and comment.corrected
    assert ThemeCorrection.objects.get().themes.get().key == "waiting"


def test_a_retired_theme_stops_counting(survey):
    response = _respond(survey, 2, "Giá quá đắt so với chất lượng")
    pipeline.comments_sweep()
    assert "price" in _themes_of(response)
    price = Theme.objects.get(key="price")
    services.theme_update(
        theme=price, name_vi=price.name_vi, name_en=price.name_en, examples=price.examples, active=False
    )
    assert "price" not in _themes_of(response)
    pipeline.comments_recompute()
    assert "price" not in _themes_of(response)


def test_an_erased_customers_comments_are_gone_from_the_themes(survey, qm):
    customer = CustomerFactory()
    response = _respond(survey, 1, "Nhân viên thái độ rất kém", customer=customer)
    other = _respond(survey, 1, "Nhân viên thái độ rất kém")
    pipeline.comments_sweep()
    customer_erase(customer=customer, actor=qm, reason="Email of 3 May from the customer")
    assert not CommentInsight.objects.filter(response=response).exists()
    assert not CommentTheme.objects.filter(comment__response=response).exists()
    assert _themes_of(other) == {"staff"}
    assert pipeline.comments_sweep() == 0  # the blanked text is not read again


def test_a_correction_trains_the_next_model(survey, qm):
    first = _respond(survey, 5, "quầy bar hết đá lạnh")
    pipeline.comments_sweep()
    comment = CommentInsight.objects.get(response=first)
    services.comment_correct(comment=comment, themes=[Theme.objects.get(key="product")], sentiment="", actor=qm)
    engine = pipeline.engine_current()
    (reading,) = engine.analyse(["quầy bar hết đá lạnh"])
    assert reading.top == "product"


def test_one_sweep_reads_every_batch_of_fresh_comments(survey, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH", 2)
    for text in ["giá đắt", "ship chậm", "app lỗi", "nhân viên kém", "chờ lâu"]:
        _respond(survey, 3, text)
    assert pipeline.comments_sweep() == 5  # fresh (not yet settled) comments past the first batch too
    assert pipeline.comments_sweep() == 0
    assert InsightState.load().watermark == 0  # none settled: a late commit with a smaller id is still seen
