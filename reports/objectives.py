"""Quality objectives (ISO 9001 6.2): saving them with their rules, and their progress from live data.

Progress is a figure with its interval over the objective's period so far (from its start to today, or to its due
date once that has passed), read from the rollups like every dashboard figure. "Met" and "not met" are said only
when the whole 95 % interval is on one side of the target; otherwise the verdict is "not yet clear", shown with the
interval and the smallest difference the data could detect, so that a target too close to call is seen as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_stored
from reports import stats
from reports.complaints import complaint_summary
from reports.models import (
    METRIC_RANGES,
    SURVEY_METRICS,
    DailyRollup,
    InvitationRollup,
    Metric,
    QualityObjective,
)
from surveys.building import headline_question_ids
from surveys.scoring import SurveyKind

# The survey kind a headline metric needs.
METRIC_KIND = {Metric.NPS: SurveyKind.NPS, Metric.CSAT: SurveyKind.CSAT, Metric.CES: SurveyKind.CES}


def objective_save(*, objective: QualityObjective, **fields: Any) -> QualityObjective:
    """Create or change an objective after checking that it can be measured as stated."""
    before = audit_stored(objective)
    for name, value in fields.items():
        setattr(objective, name, value)
    errors: dict[str, str] = {}
    metric = objective.metric
    if metric in SURVEY_METRICS and objective.survey_id is None:
        errors["survey"] = _("This measure is computed from a survey: choose one.")
    if metric not in SURVEY_METRICS and objective.survey_id is not None:
        errors["survey"] = _("This measure does not come from a survey: leave it empty.")
    if metric in METRIC_KIND and objective.survey_id and objective.survey.kind != METRIC_KIND[metric]:
        errors["metric"] = _("The survey does not measure this: choose its own measure.")
    low, high = METRIC_RANGES.get(metric, (0, 100))
    if objective.target is not None and not low <= objective.target <= high:
        errors["target"] = _("The target must be between %(low)s and %(high)s.") % {"low": low, "high": high}
    if objective.start and objective.due and objective.due < objective.start:
        errors["due"] = _("The due date must not be before the start of the measurement.")
    if errors:
        raise ValidationError(errors)
    objective.full_clean()
    with transaction.atomic():
        objective.save()
        audit_record(objective, action="update" if before else "create", before=before)
    return objective


MET, NOT_MET, UNCLEAR, NO_DATA = "met", "not_met", "unclear", "no_data"


@dataclass(frozen=True)
class Progress:
    estimate: stats.Estimate
    until: date
    # True only when the whole 95 % interval is on the target's good side, False only when it is wholly on the
    # bad side; None while the interval straddles the target (or there are too few answers): "not yet clear".
    met: bool | None
    beyond_doubt: bool  # kept for the figures of reviews signed before verdicts needed a clear interval
    verdict: str = NO_DATA
    # The smallest true difference from the target these data would detect (80 % power, 5 % level): a target
    # closer to the figure than this cannot be judged with the n there is.
    detectable: float | None = None

    @property
    def status(self) -> str:
        return {
            MET: _("Met"),
            NOT_MET: _("Not met"),
            UNCLEAR: _("Not yet clear"),
            NO_DATA: _("Not enough data yet"),
        }[self.verdict]


def objective_progress(objective: QualityObjective, today: date | None = None) -> Progress:
    """Met or not met only when the interval is clear of the target; otherwise not yet clear, with the interval."""
    today = today or timezone.localdate()
    until = min(today, objective.due)
    estimate = measure(objective.metric, objective.survey, objective.segment, objective.start, until)
    if not estimate.enough or estimate.value is None or estimate.low is None or estimate.high is None:
        return Progress(estimate, until, None, False, NO_DATA)
    target = float(objective.target)
    good_side, bad_side = (
        (estimate.high <= target, estimate.low > target)
        if objective.lower_is_better
        else (estimate.low >= target, estimate.high < target)
    )
    verdict = MET if good_side else NOT_MET if bad_side else UNCLEAR
    met = True if good_side else False if bad_side else None
    return Progress(estimate, until, met, good_side, verdict, stats.detectable_difference(estimate))


def measure(metric: str, survey: Any, segment: str, start: date, end: date) -> stats.Estimate:
    """One figure over a date range, from the rollups (or the complaint cases for the on-time share)."""
    from reports.dashboard import headline, min_n

    if metric == Metric.COMPLAINTS_ON_TIME:
        complaints = complaint_summary(start, end)
        return stats.share_estimate(complaints.on_time, complaints.due, min_n=min_n())
    if metric == Metric.RESPONSE_RATE:
        funnel = InvitationRollup.objects.filter(survey=survey, day__gte=start, day__lte=end).aggregate(
            delivered=Sum("delivered"), answered=Sum("answered")
        )
        return stats.share_estimate(funnel["answered"] or 0, funnel["delivered"] or 0, min_n=min_n())
    # The headline question of each version, as on the dashboard: a second question of the same kind has its own
    # figure and is never pooled with it (that doubled n and mixed two questions into one figure).
    questions = headline_question_ids(survey)
    rows = DailyRollup.objects.filter(survey=survey, question_id__in=questions, day__gte=start, day__lte=end)
    if segment:
        rows = rows.filter(segment=segment)
    sums = {k: v or 0 for k, v in rows.aggregate(**{s: Sum(s) for s in ("count", "promoters", "detractors", "top2",
                                                                          "total", "total_sq")}).items()}  # fmt: skip
    if metric == Metric.DETRACTOR_SHARE:
        return stats.share_estimate(sums["detractors"], sums["count"], min_n=min_n())
    return headline(survey.kind, sums)


def headline_target(survey: Any, segment: str) -> Decimal | None:
    """The target of the active objective on this survey's own measure (and segment), for the trend's line."""
    metric = {kind: metric for metric, kind in METRIC_KIND.items()}.get(survey.kind)
    objective = (
        QualityObjective.objects.filter(active=True, survey=survey, metric=metric, segment=segment)
        .order_by("due")
        .first()
    )
    return objective.target if objective else None
