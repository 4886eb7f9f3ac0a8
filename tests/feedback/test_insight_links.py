"""Themes where complaints are worked: a detractor's case shows its comment's themes; a corrective action names the
themes it addresses and compares their share of comments before and after it took effect."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import corrective
from feedback.models import ComplaintCase
from insight import pipeline, services
from insight.models import Theme
from surveys.invitations import invitation_create
from surveys.models import Answer
from tests.factories import CustomerFactory, make_response, make_survey

pytestmark = pytest.mark.django_db


def test_a_case_from_a_detractor_shows_the_themes_of_the_comment(client, qm, django_capture_on_commit_callbacks):
    services.themes_seed_starter()
    survey = make_survey(owner=qm)
    _invitation, token = invitation_create(survey=survey, customer=CustomerFactory())
    score, comment = survey.current_version.questions.order_by("position")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{token}/", {f"q{score.pk}": "2", f"q{comment.pk}": "Nhân viên thái độ rất kém, giá lại đắt"})
    case = ComplaintCase.objects.get()
    pipeline.comments_sweep()
    client.force_login(qm)
    html = client.get(reverse("case_detail", args=[case.reference])).content.decode()
    themes = html[html.index('data-testid="case-themes"') :].split("</dd>")[0]
    assert "Thái độ nhân viên" in themes and "Giá cả" in themes
    assert reverse("comment_correct", args=[case.response.answers.exclude(text="").get().insight.pk]) in themes


def _comment(survey, text, day):
    response = make_response(
        survey,
        5,
        at=timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + timedelta(hours=10),
    )
    question = survey.current_version.questions.order_by("position").last()
    Answer.objects.create(response=response, question=question, text=text)


def test_a_corrective_action_compares_its_themes_before_and_after(client, qm):
    services.themes_seed_starter()
    survey = make_survey(owner=qm)
    pivot = date(2026, 6, 1)
    for i in range(40):
        day = pivot - timedelta(days=1 + i)
        _comment(survey, "Giao hàng chậm quá, đợi cả tuần" if i % 2 else "Nhân viên tư vấn rất nhiệt tình", day)
    for i in range(40):
        day = pivot + timedelta(days=i)
        _comment(survey, "Giao hàng chậm quá, đợi cả tuần" if i % 8 == 0 else "Nhân viên tư vấn rất nhiệt tình", day)
    pipeline.comments_sweep(now=timezone.make_aware(timezone.datetime(2026, 9, 1)))
    delivery = Theme.objects.get(key="delivery")
    action = corrective.action_create(
        title="Đổi đơn vị vận chuyển", nonconformity="Giao hàng trễ", owner=qm, survey=survey,
        effective_from=pivot, themes=[delivery],
    )  # fmt: skip
    assert list(action.themes.all()) == [delivery]
    client.force_login(qm)
    html = client.get(reverse("action_detail", args=[action.reference])).content.decode()
    assert 'data-testid="action-themes"' in html and "Giao hàng" in html
    table = html[html.index('data-testid="effectiveness"') :].split("</table>")[0]
    row = next(r for r in table.split("</tr>") if "Giao hàng" in r)
    assert "(20/40)" in row and "(5/40)" in row
    assert "text-success" in row  # significantly lower after the action
