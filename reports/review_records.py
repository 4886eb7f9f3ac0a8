"""Management review: the meeting (chair, attendees), written inputs (9.3.2), outputs (9.3.3) and the analyses
cited — their writes (each audited, refused once the review is signed) and what they add to the review's inputs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_stored
from reports.models import AnalysisSnapshot, ManagementReview, ReviewAction, ReviewInput, ReviewOutput
from reports.records import InputTopic, OutputKind


def _editable(review: ManagementReview) -> None:
    if review.locked:
        raise ValidationError(_("This review is signed off and can no longer change."))


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


@transaction.atomic
def review_save_meeting(*, review: ManagementReview, chair: Any, attendees: str) -> None:
    _editable(review)
    if chair is None:
        raise ValidationError({"chair": _("Choose who chairs the review.")})
    if not attendees.strip():
        raise ValidationError({"attendees": _("Write who attended the review.")})
    before = audit_stored(review)
    review.chair, review.attendees = chair, attendees.strip()
    review.full_clean()
    review.save(update_fields=["chair", "attendees"])
    audit_record(review, action="update", before=before)


@transaction.atomic
def review_add_input(*, review: ManagementReview, topic: str, text: str, owner: Any) -> ReviewInput:
    _editable(review)
    if topic not in InputTopic.values:
        raise ValidationError({"topic": _("Choose which input this is.")})
    if not text.strip():
        raise ValidationError({"text": _("Write what was found.")})
    if owner is None:
        raise ValidationError({"owner": _("Choose who owns this input.")})
    item = ReviewInput.objects.create(review=review, topic=topic, text=text.strip(), owner=owner)
    audit_record(item, action="create")
    return item


@transaction.atomic
def review_add_output(
    *, review: ManagementReview, kind: str, description: str, owner: Any = None, due: date | None = None
) -> ReviewOutput:
    """An output of the review; with an owner and a due date it becomes an action too, carried until done."""
    _editable(review)
    if kind not in OutputKind.values:
        raise ValidationError({"kind": _("Choose the kind of output.")})
    if not description.strip():
        raise ValidationError({"description": _("Describe the output.")})
    if (owner is None) != (due is None):
        raise ValidationError({"due": _("An action needs both an owner and a due date (or neither).")})
    output = ReviewOutput.objects.create(review=review, kind=kind, description=description.strip())
    audit_record(output, action="create")
    if owner is not None:
        output_to_action(output=output, owner=owner, due=due)
    return output


@transaction.atomic
def output_to_action(*, output: ReviewOutput, owner: Any, due: date | None) -> ReviewAction:
    _editable(output.review)
    if owner is None or due is None:
        raise ValidationError({"due": _("An action needs both an owner and a due date (or neither).")})
    if output.actions.exists():
        raise ValidationError(_("This output is already an action."))
    action = ReviewAction.objects.create(
        review=output.review, description=output.description[:500], owner=owner, due=due, output=output,
        kind=output.kind,
    )  # fmt: skip
    audit_record(action, action="create")
    return action


@transaction.atomic
def review_cite_analysis(*, review: ManagementReview, analysis: AnalysisSnapshot, cited: bool = True) -> None:
    _editable(review)
    before = audit_stored(review)
    (review.analyses.add if cited else review.analyses.remove)(analysis)
    audit_record(review, action="update", before=before)


def action_status(action: ReviewAction, today: date | None = None) -> str:
    """done / overdue / open, as of `today` (the sign-off's day for a signed review)."""
    today = today or timezone.localdate()
    if action.done_at:
        return "done"
    return "overdue" if action.due < today else "open"


def records_inputs(review: ManagementReview) -> dict[str, Any]:
    """The review's own records, as language-neutral values for review_inputs (and the frozen snapshot)."""
    from reports.analysis import analysis_summary

    return {
        "meeting": {"chair": _name(review.chair), "attendees": review.attendees},
        "written": [
            {
                "topic": i.topic,
                "text": i.text,
                "owner": _name(i.owner),
                "on": timezone.localdate(i.created_at).isoformat(),
            }
            for i in review.inputs.select_related("owner")
        ],
        "outputs": [
            {
                "id": o.pk,
                "kind": o.kind,
                "description": o.description,
                "actions": [{"owner": _name(a.owner), "due": a.due.isoformat()} for a in o.actions.all()],
            }
            for o in review.outputs.prefetch_related("actions__owner")
        ],
        "analyses": [analysis_summary(a) for a in review.analyses.select_related("survey", "created_by")],
    }


def risks_inputs(start: date, end: date) -> list[dict[str, Any]]:
    """9.3.2 e: corrective actions that flagged risks and opportunities or a QMS change, and how effective they
    proved (their latest effectiveness review), among those open in the period or closed in it."""
    from django.db.models import Q

    from feedback.models import CorrectiveAction
    from reports.rollup import local_range

    first, after = local_range(start, end)
    flagged = CorrectiveAction.objects.filter(Q(update_risks=True) | Q(qms_change=True), created_at__lt=after).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=first)
    )
    rows = []
    for action in flagged.prefetch_related("reviews"):
        last = max(action.reviews.all(), key=lambda r: (r.reviewed_on, r.pk), default=None)
        rows.append(
            {
                "reference": action.reference,
                "title": action.title,
                "risks": action.update_risks,
                "qms_change": action.qms_change,
                "status": action.status,
                "effectiveness": last.result if last else None,
            }
        )
    return rows


def measurement_inputs(start: date, end: date) -> list[dict[str, Any]]:
    """9.3.2 c: monitoring and measurement — each survey's response rate in the period, with its interval."""
    from django.db.models import Sum

    from reports import stats
    from reports.dashboard import min_n
    from reports.models import InvitationRollup
    from surveys.models import Survey

    rows = (
        InvitationRollup.objects.filter(day__gte=start, day__lte=end)
        .values("survey")
        .annotate(delivered=Sum("delivered"), answered=Sum("answered"))
        .order_by("survey")
    )
    surveys = Survey.objects.in_bulk([r["survey"] for r in rows])
    result = []
    for row in rows:
        if not row["delivered"]:
            continue
        e = stats.share_estimate(row["answered"], row["delivered"], min_n=min_n())
        survey = surveys[row["survey"]]
        result.append(
            {
                "survey": {"vi": survey.title_vi, "en": survey.title_en},
                "delivered": row["delivered"],
                "answered": row["answered"],
                "rate": {"value": e.value, "low": e.low, "high": e.high, "n": e.n, "enough": e.enough},
            }
        )
    return result
