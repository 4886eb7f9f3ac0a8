"""Effectiveness from data: did the complaint rate or the detractor share fall after the action took effect?

Compares equal windows before and after `effective_from` (the action's date) with a two-proportion z-test, and
lists what the affected customers said in surveys after their cases closed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language

from feedback.models import ComplaintCase, CorrectiveAction
from insight.models import CommentInsight, CommentTheme, Theme
from surveys.models import Answer, Response
from surveys.scoring import QuestionKind

WINDOW_DAYS = 90


@dataclass(frozen=True)
class Comparison:
    label: str
    before_k: int
    before_n: int
    after_k: int
    after_n: int
    z: float | None
    p: float | None
    theme: str = ""  # for label "theme": the theme's name

    @property
    def before_rate(self) -> float | None:
        return 100 * self.before_k / self.before_n if self.before_n else None

    @property
    def after_rate(self) -> float | None:
        return 100 * self.after_k / self.after_n if self.after_n else None

    @property
    def significant(self) -> bool:
        return self.p is not None and self.p < 0.05

    @property
    def improved(self) -> bool:
        return self.significant and (self.after_rate or 0) < (self.before_rate or 0)


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float | None, float | None]:
    """Pooled two-proportion z-test; (z, two-sided p). None when either sample is empty or nothing varies."""
    if n1 == 0 or n2 == 0:
        return None, None
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None, None
    z = (k2 / n2 - k1 / n1) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def _windows(start: date, days: int) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    pivot = timezone.make_aware(datetime.combine(start, time.min))
    return (pivot - timedelta(days=days), pivot), (pivot, pivot + timedelta(days=days))


def _complaint_rate(action: CorrectiveAction, window: tuple[datetime, datetime]) -> tuple[int, int]:
    complaints = ComplaintCase.objects.filter(category=action.category, received_at__range=window).count()
    responses = Response.objects.filter(submitted_at__range=window).count()
    return complaints, responses


def _detractors(action: CorrectiveAction, window: tuple[datetime, datetime]) -> tuple[int, int]:
    survey = action.survey
    assert survey is not None
    low, high = survey.detractor_ranges()[survey.kind]
    answers = Answer.objects.filter(
        response__survey=survey,
        question__kind=survey.kind,
        number__isnull=False,
        response__submitted_at__range=window,
    )
    if action.segment:
        answers = answers.filter(response__customer__segment=action.segment)
    totals = answers.aggregate(n=Count("id"), k=Count("id", filter=Q(number__gte=low, number__lte=high)))
    return totals["k"], totals["n"]


def action_comparisons(action: CorrectiveAction, days: int = WINDOW_DAYS) -> list[Comparison]:
    if action.effective_from is None:
        return []
    before, after = _windows(action.effective_from, days)
    found = []
    if action.category_id:
        (bk, bn), (ak, an) = _complaint_rate(action, before), _complaint_rate(action, after)
        found.append(Comparison("complaints", bk, bn, ak, an, *two_proportion_test(bk, bn, ak, an)))
    if action.survey_id:
        (bk, bn), (ak, an) = _detractors(action, before), _detractors(action, after)
        found.append(Comparison("detractors", bk, bn, ak, an, *two_proportion_test(bk, bn, ak, an)))
    for theme in action.themes.all():
        (bk, bn), (ak, an) = _theme_share(action, theme, before), _theme_share(action, theme, after)
        name = theme.name("en" if (get_language() or "").startswith("en") else "vi")
        found.append(Comparison("theme", bk, bn, ak, an, *two_proportion_test(bk, bn, ak, an), theme=name))
    return found


def _theme_share(action: CorrectiveAction, theme: Theme, window: tuple[datetime, datetime]) -> tuple[int, int]:
    """Comments mentioning the theme, of all comments read (the action's survey and segment, if it names them)."""
    comments = CommentInsight.objects.filter(submitted_at__range=window)
    mentions = CommentTheme.objects.filter(theme=theme, submitted_at__range=window)
    if action.survey_id:
        comments, mentions = comments.filter(survey_id=action.survey_id), mentions.filter(survey_id=action.survey_id)
    if action.segment:
        comments = comments.filter(response__customer__segment=action.segment)
        mentions = mentions.filter(comment__response__customer__segment=action.segment)
    return mentions.count(), comments.count()


@dataclass(frozen=True)
class FollowUp:
    case: ComplaintCase
    survey_title: str
    kind: str
    score: int
    submitted_at: datetime


def resurveyed_scores(action: CorrectiveAction, language: str, limit: int = 30) -> list[FollowUp]:
    """Scale answers given by the customers of the action's cases after each case closed (the latest `limit`)."""
    found = []
    for case in action.cases.filter(closed_at__isnull=False, customer__isnull=False).select_related("customer"):
        answers = (
            Answer.objects.filter(
                response__customer=case.customer,
                response__submitted_at__gt=case.closed_at,
                number__isnull=False,
                question__kind__in=(QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.CES),
            )
            .select_related("response__survey", "question")
            .order_by("response__submitted_at")
        )
        for answer in answers:
            found.append(
                FollowUp(
                    case,
                    answer.response.survey.title(language),
                    answer.question.kind,
                    answer.number,
                    answer.response.submitted_at,
                )
            )
    return sorted(found, key=lambda f: f.submitted_at)[-limit:]
