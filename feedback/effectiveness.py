"""Effectiveness from data (ISO 9001 10.2.1 d): did the complaint rate or the detractor share fall after the action
took effect — more than it fell where nothing was done?

Equal windows before and after `effective_from` are compared:
- complaints of the action's category per 1,000 responses in its scope (the action's survey and segment, or every
  survey): a rate, not a proportion — complaints are not a subset of responses, and can outnumber them — compared
  with the exact conditional test of two Poisson rates;
- the detractor share of the action's survey (and segment), in the standard bands (NPS 0–6, CSAT 1–2, CES 6–7,
  as on the dashboard, whatever the survey's closed-loop thresholds): a proportion, with Fisher's exact test where
  counts are small (0/5,088 against 4/5,447 is p ≈ 0.13, not 0.05) and the z-test otherwise.
Each is set against what did not change (the other categories' complaints, the other segments' detractors): a
difference-in-differences, so that a fall everyone saw is not credited to the action. A "before" window that holds
a special cause (a week beyond 3σ) warns of regression to the mean: a bad spell tends to end by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language

from feedback.models import ComplaintCase, CorrectiveAction
from insight.models import CommentInsight, CommentTheme, Theme

# reports.stats is a leaf: pure functions on counts, no model and no import of any app, so using it from here
# does not make feedback depend on reporting (the one-way rule is about models, signals and services).
from reports import stats
from surveys.building import headline_question_ids
from surveys.models import Answer, Response
from surveys.scoring import DETRACTOR_BANDS, QuestionKind

WINDOW_DAYS = 90
# Verdicts of the data, stored with a review (EffectivenessReview.data_verdict).
EFFECTIVE, WORSE, UNCLEAR, TOO_EARLY, NO_MEASURE = "effective", "worse", "unclear", "too_early", "no_measure"


@dataclass(frozen=True)
class Comparison:
    label: str  # "complaints" (a rate per 1,000 responses) or "detractors" (a share)
    before_k: int
    before_n: int
    after_k: int
    after_n: int
    z: float | None
    p: float | None
    method: str = ""
    # The difference-in-differences against what the action did not touch: its p-value and what it compares.
    control_p: float | None = None
    control_before: float | None = None
    control_after: float | None = None
    # The before window holds a special cause: the fall may be regression to the mean.
    special_before: bool = False

    @property
    def per_thousand(self) -> bool:
        return self.label == "complaints"

    def _rate(self, k: int, n: int) -> float | None:
        if not n:
            return None
        return (1000 if self.per_thousand else 100) * k / n

    theme: str = ""  # for label "theme": the theme's name

    @property
    def before_rate(self) -> float | None:
        return self._rate(self.before_k, self.before_n)

    @property
    def after_rate(self) -> float | None:
        return self._rate(self.after_k, self.after_n)

    @property
    def significant(self) -> bool:
        return self.p is not None and self.p < stats.ALPHA

    @property
    def improved(self) -> bool:
        return self.significant and (self.after_rate or 0) < (self.before_rate or 0)

    @property
    def worse(self) -> bool:
        return self.significant and (self.after_rate or 0) > (self.before_rate or 0)

    @property
    def control_differs(self) -> bool | None:
        """Does the change differ from the change where nothing was done, either way? None: nothing to compare."""
        if self.control_p is None:
            return None
        return self.control_p < stats.ALPHA

    @property
    def beyond_control(self) -> bool | None:
        """Did it fall more than where nothing was done? None when there is nothing to compare with. The
        difference-in-differences test is two-sided: a category that fell less than the others differs from them
        too, and is no evidence for the action."""
        differs = self.control_differs
        if not differs:
            return differs
        before, after = self.before_rate or 0.0, self.after_rate or 0.0
        control_before, control_after = self.control_before or 0.0, self.control_after or 0.0
        if self.per_thousand:
            # Complaints: the category's rate ratio below the other categories' (its share of all complaints fell).
            return after * control_before < before * control_after
        # Shares: the fall in percentage points larger than the other segments'.
        return after - before < control_after - control_before


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


def _in(window: tuple[datetime, datetime], field_name: str) -> Q:
    # Half-open windows: a complaint at the pivot's first instant belongs to "after" only.
    return Q(**{f"{field_name}__gte": window[0], f"{field_name}__lt": window[1]})


def _responses(action: CorrectiveAction, window: tuple[datetime, datetime]) -> int:
    """The exposure: responses in the action's scope (its survey and segment, or every survey)."""
    responses = Response.objects.filter(_in(window, "submitted_at"))
    if action.survey_id:
        responses = responses.filter(survey_id=action.survey_id)
        if action.segment:
            responses = responses.filter(segment=action.segment)
    return responses.count()


def _complaints(action: CorrectiveAction, window: tuple[datetime, datetime]) -> tuple[int, int]:
    """(complaints of the action's category, complaints of every other category) in the window."""
    counts = ComplaintCase.objects.filter(_in(window, "received_at")).aggregate(
        mine=Count("id", filter=Q(category_id=action.category_id)),
        others=Count("id", filter=~Q(category_id=action.category_id) | Q(category__isnull=True)),
    )
    return counts["mine"], counts["others"]


def _detractors(action: CorrectiveAction, window: tuple[datetime, datetime]) -> dict[str, tuple[int, int]]:
    """(detractors, answers) of the action's segment ("mine") and of the survey's other segments ("others")."""
    survey = action.survey
    assert survey is not None
    # The standard bands (NPS 0–6, CSAT 1–2, CES 6–7), as the dashboard, the objectives and the review pack count
    # them, not the survey's closed-loop thresholds: with "open a case up to 7" the share read 7s as detractors
    # and the action's page and the dashboard gave two different "detractor shares" for the same answers.
    low, high = DETRACTOR_BANDS[survey.kind]
    bad = Q(number__gte=low, number__lte=high)
    mine = Q(response__segment=action.segment) if action.segment else Q()
    totals = Answer.objects.filter(
        _in(window, "response__submitted_at"),
        response__survey=survey,
        # Each version's headline question, as the dashboard counts: another question of the same kind has its
        # own figure, and pooled it doubled n.
        question_id__in=headline_question_ids(survey),
        number__isnull=False,
    ).aggregate(
        k=Count("id", filter=bad & mine),
        n=Count("id", filter=mine),
        ok=Count("id", filter=bad & ~mine) if action.segment else Count("id", filter=Q(pk__in=[])),
        on=Count("id", filter=~mine) if action.segment else Count("id", filter=Q(pk__in=[])),
    )
    return {"mine": (totals["k"], totals["n"]), "others": (totals["ok"], totals["on"])}


def _weekly_special_cause(weeks: list[tuple[str, int, int]], rate: bool) -> bool:
    """Does any week of the before window rise beyond 3σ above its centre (rule 1)? Proportions use the p-chart
    of stats.py; complaint rates the same on a u-chart (σᵢ = √(ū/eᵢ))."""
    if not rate:
        return any(p.share > p.centre and 1 in p.rules for p in stats.p_chart(weeks).points)
    exposure = sum(e for _l, _k, e in weeks)
    if not exposure:
        return False
    centre = sum(k for _l, k, _e in weeks) / exposure
    return any(e and centre and (k / e - centre) / math.sqrt(centre / e) > 3 for _l, k, e in weeks)


def _before_weeks(
    action: CorrectiveAction, window: tuple[datetime, datetime], label: str
) -> list[tuple[str, int, int]]:
    weeks = []
    first = window[0]
    while first < window[1]:
        week = (first, min(first + timedelta(days=7), window[1]))
        if label == "complaints":
            weeks.append((first.date().isoformat(), _complaints(action, week)[0], _responses(action, week)))
        else:
            weeks.append((first.date().isoformat(), *_detractors(action, week)["mine"]))
        first = week[1]
    return weeks


def _share_did(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> float | None:
    """Difference-in-differences of two shares, z-test: (mine₂ − mine₁) − (others₂ − others₁)."""
    cells = [before["mine"], after["mine"], before["others"], after["others"]]
    if any(n == 0 for _k, n in cells):
        return None
    shares = [k / n for k, n in cells]
    variance = sum(p * (1 - p) / n for p, (_k, n) in zip(shares, cells, strict=True))
    if variance <= 0:
        return None
    did = (shares[1] - shares[0]) - (shares[3] - shares[2])
    return math.erfc(abs(did / math.sqrt(variance)) / math.sqrt(2))


def action_comparisons(action: CorrectiveAction, days: int = WINDOW_DAYS) -> list[Comparison]:
    if action.effective_from is None:
        return []
    before, after = _windows(action.effective_from, days)
    found = []
    if action.category_id:
        (bk, b_other), (ak, a_other) = _complaints(action, before), _complaints(action, after)
        bn, an = _responses(action, before), _responses(action, after)
        test = stats.rate_change(bk, bn, ak, an)
        # Against the other categories: did this category's share of all complaints change? (Fisher on the 2 × 2
        # table; the exposure cancels out, so this is the ratio of the two rate ratios.)
        has_control = b_other + a_other > 0 and bk + ak > 0
        control_p = stats.fisher_exact(bk, bk + b_other, ak, ak + a_other) if has_control else None
        found.append(
            Comparison(
                "complaints", bk, bn, ak, an, None, test.p_value, stats.RATE_EXACT,
                control_p=control_p,
                control_before=1000 * b_other / bn if bn else None,
                control_after=1000 * a_other / an if an else None,
                special_before=_weekly_special_cause(_before_weeks(action, before, "complaints"), rate=True),
            )
        )  # fmt: skip
    if action.survey_id:
        then, now = _detractors(action, before), _detractors(action, after)
        (bk, bn), (ak, an) = then["mine"], now["mine"]
        change = stats.share_change((bk, bn), (ak, an))
        (ok1, on1), (ok2, on2) = then["others"], now["others"]
        found.append(
            Comparison(
                "detractors", bk, bn, ak, an, None, change.p_value, change.method,
                control_p=_share_did(then, now) if action.segment else None,
                control_before=100 * ok1 / on1 if on1 else None,
                control_after=100 * ok2 / on2 if on2 else None,
                special_before=_weekly_special_cause(_before_weeks(action, before, "detractors"), rate=False),
            )
        )  # fmt: skip
    for theme in action.themes.all():
        (bk, bn), (ak, an) = _theme_share(action, theme, before), _theme_share(action, theme, after)
        change = stats.share_change((bk, bn), (ak, an))
        name = theme.name("en" if (get_language() or "").startswith("en") else "vi")
        found.append(Comparison("theme", bk, bn, ak, an, None, change.p_value, change.method, theme=name))
    return found


def _theme_share(action: CorrectiveAction, theme: Theme, window: tuple[datetime, datetime]) -> tuple[int, int]:
    """Comments mentioning the theme, of all comments read (the action's survey and segment, if it names them)."""
    # Half-open, as every window here: a comment at the pivot's first instant is "after" only (a closed range
    # counted it in both).
    comments = CommentInsight.objects.filter(_in(window, "submitted_at"))
    mentions = CommentTheme.objects.filter(_in(window, "submitted_at"), theme=theme)
    if action.survey_id:
        comments, mentions = comments.filter(survey_id=action.survey_id), mentions.filter(survey_id=action.survey_id)
    if action.segment:
        comments = comments.filter(response__segment=action.segment)
        mentions = mentions.filter(comment__response__segment=action.segment)
    return mentions.count(), comments.count()


@dataclass(frozen=True)
class Verdict:
    state: str  # EFFECTIVE, WORSE, UNCLEAR, TOO_EARLY or NO_MEASURE
    enough_from: date | None = None  # when the after-window is complete (for TOO_EARLY)
    comparisons: list[Comparison] = field(default_factory=list)


def action_verdict(action: CorrectiveAction, today: date | None = None, days: int = WINDOW_DAYS) -> Verdict:
    """What the data say. Too early until the after-window is complete (the date is given); effective only when
    every measure fell significantly and, where there is a control, more than the control; worse when any rose
    significantly; otherwise not yet clear."""
    today = today or timezone.localdate()
    if action.effective_from is None or not (action.category_id or action.survey_id):
        return Verdict(NO_MEASURE)
    ready = action.effective_from + timedelta(days=days)
    comparisons = action_comparisons(action, days)
    if today < ready:
        return Verdict(TOO_EARLY, ready, comparisons)
    if any(c.worse for c in comparisons):
        return Verdict(WORSE, None, comparisons)
    if comparisons and all(c.improved and c.beyond_control is not False for c in comparisons):
        return Verdict(EFFECTIVE, None, comparisons)
    return Verdict(UNCLEAR, None, comparisons)


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
