"""The management review pack (ISO 9001 9.3): the inputs the system holds, decisions, actions, sign-off.

Inputs gathered for a period (9.3.2): the status of actions from previous reviews (a); customer satisfaction and
its trend, and complaints (c1); the extent to which quality objectives were met (c2); nonconformities and
corrective actions with their effectiveness (c4). They are computed live while the review is a draft and frozen
into `snapshot` at sign-off, so a signed pack (page and PDF) always shows what was signed. Language-neutral codes
and numbers are stored; labels are translated when shown.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_record_many, audit_snapshot, audit_stored, canonical
from reports import stats
from reports.complaints import complaint_summary
from reports.dashboard import STATS, change, headline, min_n, previous_range, whole_months
from reports.models import DailyRollup, ManagementReview, QualityObjective, ReviewAction
from reports.objectives import objective_progress
from reports.review_records import action_status, measurement_inputs, records_inputs, risks_inputs
from reports.rollup import local_range
from surveys.building import headline_question_ids
from surveys.models import Survey


def review_create(*, title: str, period_start: date, period_end: date, prepared_by: Any) -> ManagementReview:
    """A new draft review; the open actions of the last signed review are carried into it."""
    if period_end < period_start:
        raise ValidationError({"period_end": _("The end of the period must not be before its start.")})
    if not title.strip():
        raise ValidationError({"title": _("Give the review a title.")})
    previous = ManagementReview.objects.filter(status=ManagementReview.Status.SIGNED).order_by("-period_end").first()
    with transaction.atomic():
        review = ManagementReview.objects.create(
            title=title.strip(),
            period_start=period_start,
            period_end=period_end,
            prepared_by=prepared_by,
            previous=previous,
        )
        audit_record(review, action="create", actor=prepared_by)
        if previous:
            ReviewAction.objects.bulk_create(
                ReviewAction(
                    review=review, description=a.description, owner=a.owner, due=a.due, carried_from=a, kind=a.kind
                )
                for a in previous.actions.filter(done_at__isnull=True)
            )
            audit_record_many(review.actions.all(), action="create")
    return review


def _editable(review: ManagementReview) -> None:
    if review.locked:
        raise ValidationError(_("This review is signed off and can no longer change."))


@transaction.atomic
def review_save_decisions(*, review: ManagementReview, decisions: str) -> None:
    _editable(review)
    before = audit_stored(review)
    review.decisions = decisions
    review.full_clean()
    review.save(update_fields=["decisions"])
    audit_record(review, action="update", before=before)


@transaction.atomic
def review_add_action(*, review: ManagementReview, description: str, owner: Any, due: date) -> ReviewAction:
    _editable(review)
    if not description.strip():
        raise ValidationError({"description": _("Describe the action.")})
    action = ReviewAction.objects.create(review=review, description=description.strip(), owner=owner, due=due)
    audit_record(action, action="create")
    return action


@transaction.atomic
def review_action_done(*, action: ReviewAction, done: bool, today: date | None = None) -> None:
    _editable(action.review)
    before = audit_stored(action)
    action.done_at = (today or timezone.localdate()) if done else None
    action.save(update_fields=["done_at"])
    audit_record(action, action="update", before=before)
    if action.carried_from_id and done:
        # Done now also closes it where it was decided, so that it is not carried again.
        origin = ReviewAction.objects.filter(pk=action.carried_from_id, done_at__isnull=True).first()
        if origin is not None:
            origin_before = audit_snapshot(origin)
            origin.done_at = action.done_at
            origin.save(update_fields=["done_at"])
            audit_record(origin, action="update", before=origin_before)


def review_sign(*, review: ManagementReview, user: Any) -> None:
    """Freeze the inputs and lock the review (ISO 9001 7.5: the record of the review is retained unchanged).

    Only top management signs (ISO 9001 9.3.1: top management reviews the system), and only once the meeting —
    chair and attendees — is recorded."""
    from accounts.roles import is_top_management

    _editable(review)
    if not is_top_management(user):
        raise ValidationError(_("Only a member of top management can sign off a management review."))
    if review.chair_id is None or not review.attendees.strip():
        raise ValidationError(_("Record the chair and the attendees before signing off."))
    with transaction.atomic():
        locked = ManagementReview.objects.select_for_update().get(pk=review.pk)
        if locked.locked:
            raise ValidationError(_("This review is signed off and can no longer change."))
        before = audit_snapshot(locked)
        locked.snapshot = review_inputs(locked, live=True)
        locked.status = ManagementReview.Status.SIGNED
        locked.signed_by = user
        locked.signed_at = timezone.now()
        locked.save(update_fields=["snapshot", "status", "signed_by", "signed_at"])
        # The frozen figures enter the trail as their digest, as stored (after the JSON round trip).
        stored = ManagementReview.objects.values_list("snapshot", flat=True).get(pk=locked.pk)
        digest = hashlib.sha256(canonical({"snapshot": stored})).hexdigest()
        audit_record(locked, action="sign", before=before, actor=user, extra={"snapshot_sha256": [None, digest]})
    review.refresh_from_db()


def review_inputs(review: ManagementReview, *, live: bool = False) -> dict[str, Any]:
    """What the pack shows: the frozen snapshot of a signed review, else the live figures."""
    if review.locked and review.snapshot and not live:
        return review.snapshot
    start, end = review.period_start, review.period_end
    # The previous period as the dashboard takes it for the same range: whole calendar months (a quarter, a year)
    # against the same calendar months before, as the dashboard by month; any other range against as many days
    # just before, as the dashboard by week. The days before made a quarter's "previous period" start on 3 October,
    # not 1 October, and the pack's figure, change and p-value disagreed with the dashboard's for the same period.
    before = previous_range(start, end, "month" if whole_months(start, end) else "week")
    today = timezone.localdate()
    return {
        **records_inputs(review),
        "measurement": measurement_inputs(start, end),
        "risks": risks_inputs(start, end),
        "period": [start.isoformat(), end.isoformat()],
        "previous_period": [before[0].isoformat(), before[1].isoformat()],
        "satisfaction": _satisfaction(start, end, before),
        "complaints": _complaints(start, end),
        "themes": _themes(start, end, before),
        "objectives": _objectives(end),
        "corrective_actions": _corrective_actions(start, end),
        "actions": [
            {
                "id": a.pk,
                "description": a.description,
                "owner": a.owner.get_full_name() or a.owner.get_username(),
                "due": a.due.isoformat(),
                "done": a.done_at.isoformat() if a.done_at else None,
                "carried": a.carried_from_id is not None,
                "kind": a.kind,
                "status": action_status(a, today),
            }
            for a in review.actions.select_related("owner")
        ],
    }


def _estimate(e: stats.Estimate) -> dict[str, Any]:
    return {"value": e.value, "low": e.low, "high": e.high, "n": e.n, "enough": e.enough}


def _satisfaction(start: date, end: date, before: tuple[date, date]) -> list[dict[str, Any]]:
    in_range = DailyRollup.objects.filter(day__gte=before[0], day__lte=end)
    # Each survey's headline question (one per version), never every question of its kind pooled together.
    headlines = [
        question
        for survey in Survey.objects.filter(pk__in=in_range.values("survey_id").distinct())
        for question in headline_question_ids(survey)
    ]
    rows = (
        in_range.filter(question_id__in=headlines)
        .values("survey", "day")
        .annotate(**{s: Sum(s) for s in STATS})
        .order_by("survey", "day")
    )
    by_survey: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_survey.setdefault(row["survey"], []).append(row)
    surveys = Survey.objects.in_bulk(list(by_survey))
    result = []
    for survey_id, days in by_survey.items():
        survey = surveys[survey_id]
        now = {s: sum(d[s] for d in days if d["day"] >= start) for s in STATS}
        then = {s: sum(d[s] for d in days if d["day"] < start) for s in STATS}
        if not now["count"]:
            continue
        months: dict[str, dict[str, int]] = {}
        for d in days:
            if d["day"] >= start:
                month = months.setdefault(d["day"].strftime("%Y-%m"), {s: 0 for s in STATS})
                for s in STATS:
                    month[s] += d[s]
        test = change(survey.kind, then, now)
        result.append(
            {
                "survey": {"vi": survey.title_vi, "en": survey.title_en},
                "kind": survey.kind,
                "now": _estimate(headline(survey.kind, now)),
                "before": _estimate(headline(survey.kind, then)),
                "change": {"difference": test.difference, "p_value": test.p_value, "significant": test.significant},
                # Below REPORTS_MIN_N "not enough responses", as on the dashboard.
                "detractor_share": _estimate(stats.share_estimate(now["detractors"], now["count"], min_n=min_n())),
                "trend": [
                    {"month": month, **_estimate(headline(survey.kind, sums))} for month, sums in sorted(months.items())
                ],
            }
        )
    result.sort(key=lambda r: -r["now"]["n"])
    return result


TOP_THEMES = 5


def _themes(start: date, end: date, before: tuple[date, date]) -> list[dict[str, Any]]:
    """The period's most mentioned comment themes (all surveys), their share of comments then and now, and
    whether the change is significant (two-proportion test)."""
    from insight.models import CommentInsight, CommentTheme, Theme

    tz = timezone.get_current_timezone()

    def bounds(a: date, b: date) -> tuple[datetime, datetime]:
        return datetime.combine(a, time.min, tz), datetime.combine(b + timedelta(days=1), time.min, tz)

    now, then = bounds(start, end), bounds(*before)
    n_now = CommentInsight.objects.filter(submitted_at__gte=now[0], submitted_at__lt=now[1]).count()
    n_then = CommentInsight.objects.filter(submitted_at__gte=then[0], submitted_at__lt=then[1]).count()

    def counts(window: tuple[datetime, datetime]) -> dict[int, int]:
        rows = CommentTheme.objects.filter(submitted_at__gte=window[0], submitted_at__lt=window[1])
        return dict(rows.values_list("theme_id").annotate(n=Count("id")).order_by())

    k_now, k_then = counts(now), counts(then)
    top = sorted(k_now, key=lambda t: -k_now[t])[:TOP_THEMES]
    themes = Theme.objects.in_bulk(top)
    result = []
    for theme_id in top:
        test = stats.share_change((k_then.get(theme_id, 0), n_then), (k_now[theme_id], n_now))
        result.append(
            {
                "vi": themes[theme_id].name_vi,
                "en": themes[theme_id].name_en,
                "now": _estimate(stats.share_estimate(k_now[theme_id], n_now, min_n=min_n())),
                "before": _estimate(stats.share_estimate(k_then.get(theme_id, 0), n_then, min_n=min_n())),
                "change": {"difference": test.difference, "p_value": test.p_value, "significant": test.significant},
            }
        )
    return result


def _complaints(start: date, end: date) -> dict[str, Any]:
    summary = complaint_summary(start, end)
    return {
        "received": summary.received,
        "closed": summary.closed,
        "on_time": _estimate(stats.share_estimate(summary.on_time, summary.due)),
        "overdue_open": summary.overdue_open,
        "accepted": summary.accepted,
        "categories": [{"vi": vi, "en": en, "n": n} for vi, en, n in summary.categories],
    }


def _objectives(end: date) -> list[dict[str, Any]]:
    rows = []
    for objective in QualityObjective.objects.filter(active=True, start__lte=end).select_related("survey"):
        progress = objective_progress(objective, today=end)
        rows.append(
            {
                "title": objective.title,
                "metric": objective.metric,
                "target": float(objective.target),
                "lower_is_better": objective.lower_is_better,
                "due": objective.due.isoformat(),
                "estimate": _estimate(progress.estimate),
                "met": progress.met,
                "beyond_doubt": progress.beyond_doubt,
                "verdict": progress.verdict,
                "resources": objective.resources,
            }
        )
    return rows


def _corrective_actions(start: date, end: date) -> dict[str, Any]:
    from feedback.models import CorrectiveAction, EffectivenessReview

    first, after = local_range(start, end)
    opened = CorrectiveAction.objects.filter(created_at__gte=first, created_at__lt=after).count()
    open_now = CorrectiveAction.objects.filter(closed_at__isnull=True, created_at__lt=after)
    by_status = dict(open_now.values_list("status").annotate(n=Count("id")).order_by())
    reviews = EffectivenessReview.objects.filter(reviewed_on__gte=start, reviewed_on__lte=end).select_related("action")
    return {
        "opened": opened,
        "open_by_status": by_status,
        "reviews": [
            {
                "reference": r.action.reference,
                "title": r.action.title,
                "result": r.result,
                "on": r.reviewed_on.isoformat(),
            }
            for r in reviews
        ],
    }
