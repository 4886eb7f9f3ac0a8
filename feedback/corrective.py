"""Corrective actions (ISO 9001 10.2), step by step and in order: nonconformity, correction, decision, root
cause, action items, effectiveness review. An ineffective review reopens the action."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_snapshot, audit_stored, canonical
from feedback import effectiveness, rootcause
from feedback.models import (
    ActionItem,
    ActionStatus,
    Category,
    ComplaintCase,
    CorrectiveAction,
    EffectivenessReview,
    RootCauseMethod,
)
from feedback.workflow import EditConflict, next_reference
from insight.models import Theme
from surveys.models import Survey

A = ActionStatus
FINISHED = (A.CLOSED, A.NOT_NEEDED)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationError(message)


@transaction.atomic
def action_create(
    *,
    title: str,
    nonconformity: str,
    owner: AbstractBaseUser,
    cases: Iterable[ComplaintCase] = (),
    category: Category | None = None,
    survey: Survey | None = None,
    segment: str = "",
    effective_from: date | None = None,
    themes: Iterable[Theme] = (),
) -> CorrectiveAction:
    action = CorrectiveAction(
        title=title.strip(),
        nonconformity=nonconformity.strip(),
        owner=owner,
        category=category,
        survey=survey,
        segment=segment.strip(),
        effective_from=effective_from,
        reference="pending",
    )
    action.full_clean(exclude=["reference", "owner", "category", "survey"])
    action.reference = next_reference("CA")
    action.save()
    action.cases.set(list(cases))
    action.themes.set(list(themes))
    audit_record(action, action="create")
    return action


def _open(action: CorrectiveAction) -> None:
    # Read from the database: a form may already have copied new values onto the instance.
    status = CorrectiveAction.objects.filter(pk=action.pk).values_list("status", flat=True).first()
    _require(
        status not in FINISHED, _("This corrective action is closed: reopen it, with the reason, before changing it.")
    )


ACTION_EDITABLE = ("title", "nonconformity", "owner", "category", "survey", "segment", "effective_from")


def action_edit_stamp(action: CorrectiveAction) -> str:
    """A digest of what the edit form shows (its fields, cases and themes), as stored now: the form carries the one
    it was opened with, so a save made on top of a colleague's is noticed instead of undoing theirs."""
    snapshot = audit_snapshot(action)
    shown = {name: snapshot.get(name) for name in (*ACTION_EDITABLE, "cases")}
    shown["themes"] = sorted(action.themes.values_list("pk", flat=True))
    return hashlib.sha256(canonical(shown)).hexdigest()[:32]


@transaction.atomic
def action_update(
    *,
    action: CorrectiveAction,
    cases: Iterable[ComplaintCase] | None = None,
    themes: Iterable[Theme] | None = None,
    expected: str | None = None,
    **fields: object,
) -> CorrectiveAction:
    """Edit what the action is about (not its steps); refused once it is closed.

    `expected` is the `action_edit_stamp` the form was opened with: when the action has changed since, nothing is
    saved (EditConflict). The action is re-read under a lock, so a step recorded meanwhile (its status, its root
    cause) is not written back from the copy the form was made from."""
    action = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
    _open(action)
    if expected is not None and action_edit_stamp(action) != expected:
        raise EditConflict(
            _(
                "Someone else changed this corrective action while you were editing it, so nothing was saved. Your "
                "text is kept below: check the action's history, then save again to record it."
            )
        )
    before = audit_stored(action)
    for name, value in fields.items():
        if name not in ACTION_EDITABLE:
            # Bandit B608 reads "update ... set" in this message as SQL; it is an exception text.
            raise ValueError(f"action_update cannot set {name}")  # nosec B608
        setattr(action, name, value.strip() if isinstance(value, str) else value)
    action.full_clean(exclude=["owner", "category", "survey"])
    action.save()
    if cases is not None:
        action.cases.set(list(cases))
    if themes is not None:
        action.themes.set(list(themes))
    audit_record(action, action="update", before=before)
    return action


@transaction.atomic
def action_reopen(*, action: CorrectiveAction, reason: str) -> CorrectiveAction:
    """Reopen a closed action, with the reason (kept in the trail and shown on the action's page).

    Closed as effective, it goes back to planning actions on the cause found; closed as not needed, the decision is
    to be taken again.
    """
    action = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
    _require(action.status in FINISHED, _("Only a closed corrective action can be reopened."))
    _require(bool(reason.strip()), _("Say why the corrective action is reopened."))
    before = audit_snapshot(action)
    action.status = A.ANALYSED if action.status == A.CLOSED else A.CONTAINED
    action.closed_at = None
    action.save()
    audit_record(action, action="reopen", before=before, reason=reason)
    return action


@transaction.atomic
def action_record_containment(*, action: CorrectiveAction, containment: str) -> CorrectiveAction:
    """React to the nonconformity: what was done to control and correct it (10.2.1 a)."""
    _open(action)
    before = audit_stored(action)
    _require(bool(containment.strip()), _("Describe the correction or containment."))
    action.containment = containment.strip()
    action.contained_at = action.contained_at or timezone.now()
    if action.status == A.OPEN:
        action.status = A.CONTAINED
    action.save()
    audit_record(action, action="containment", before=before)
    return action


@transaction.atomic
def action_decide(*, action: CorrectiveAction, needed: bool, reason: str) -> CorrectiveAction:
    """Evaluate the need for action to eliminate the cause (10.2.1 b). Needs the correction first."""
    _open(action)
    before = audit_stored(action)
    _require(bool(action.containment), _("Record the correction or containment before deciding."))
    _require(bool(reason.strip()), _("Give the reason for the decision."))
    # "Not needed" closes the action: an item still open would stay in its owner's work, no longer theirs to change.
    _require(
        needed or not action.items.filter(status=ActionItem.Status.OPEN).exists(),
        _("Cancel or finish the planned actions before deciding that no action is needed."),
    )
    action.action_needed = needed
    action.decision_reason = reason.strip()
    action.decided_at = timezone.now()
    if needed:
        if action.status in (A.OPEN, A.CONTAINED):
            action.status = A.DECIDED
    else:
        action.status = A.NOT_NEEDED
        action.closed_at = timezone.now()
    action.save()
    audit_record(action, action="decision", before=before)
    return action


@transaction.atomic
def action_record_root_cause(
    *,
    action: CorrectiveAction,
    root_cause: str,
    method: str,
    similar_possible: bool | None,
    similar: str,
    update_risks: bool,
    qms_change: bool,
    analysis: Mapping[str, Any] | None = None,
) -> CorrectiveAction:
    """Record the cause (10.2.1 b 2) with the method's own record, and whether similar nonconformities exist or could
    occur (10.2.1 b 3): that question is answered, yes or no, before the step closes."""
    _open(action)
    before = audit_stored(action)
    _require(action.action_needed is True, _("Decide that action is needed before analysing the cause."))
    _require(method in RootCauseMethod.values, _("Say which method found the root cause."))
    cleaned = rootcause.analysis_clean(method, analysis)
    if not root_cause.strip() and method == RootCauseMethod.FIVE_WHYS:
        # The chain ends at the root cause: its last "because" stands for it when none is written apart.
        root_cause = cleaned["whys"][-1]["because"]
    _require(bool(root_cause.strip()), _("Describe the root cause."))
    _require(
        similar_possible is not None,
        _("Answer the question “Could similar nonconformities occur elsewhere?” before recording the root cause."),
    )
    _require(
        similar_possible is False or bool(similar.strip()),
        _("Say where similar nonconformities exist or could occur."),
    )
    action.root_cause, action.root_cause_method = root_cause.strip(), method
    action.root_cause_analysis = cleaned
    action.similar_possible = similar_possible
    action.similar_nonconformities = similar.strip()
    action.update_risks, action.qms_change = update_risks, qms_change
    action.analysed_at = action.analysed_at or timezone.now()
    if action.status == A.DECIDED:
        action.status = A.ANALYSED
    action.save()
    audit_record(action, action="root_cause", before=before)
    return action


@transaction.atomic
def item_add(*, action: CorrectiveAction, description: str, owner: AbstractBaseUser, due_date: date) -> ActionItem:
    _open(action)
    _require(action.analysed_at is not None, _("Find the root cause before planning actions."))
    _require(bool(description.strip()), _("Describe the action."))
    item = ActionItem.objects.create(action=action, description=description.strip(), owner=owner, due_date=due_date)
    audit_record(item, action="create")
    _set_status(action, A.IMPLEMENTING, only_from=(A.ANALYSED, A.REVIEW))
    return item


def _set_status(action: CorrectiveAction, status: str, *, only_from: tuple[str, ...]) -> None:
    if action.status in only_from:
        before = audit_stored(action)
        action.status = status
        action.save(update_fields=["status"])
        audit_record(action, action="status", before=before)


@transaction.atomic
def item_set_status(*, item: ActionItem, status: str) -> ActionItem:
    _open(item.action)
    _require(status in ActionItem.Status.values, _("Unknown status."))
    before = audit_stored(item)
    item.status = status
    item.completed_at = timezone.now() if status == ActionItem.Status.DONE else None
    item.save()
    audit_record(item, action="update", before=before)
    action = item.action
    if not action.items.filter(status=ActionItem.Status.OPEN).exists():
        _set_status(action, A.REVIEW, only_from=(A.IMPLEMENTING,))
    return item


@transaction.atomic
def action_record_review(
    *,
    action: CorrectiveAction,
    method: str,
    evidence: str,
    reviewer: AbstractBaseUser,
    reviewed_on: date,
    result: str,
    justification: str = "",
) -> EffectivenessReview:
    """Review effectiveness (10.2.1 d). Effective closes the action; not effective reopens it for new actions.

    What the data say is kept with the review. Recording "effective" when they say otherwise (worse, not yet clear,
    too early) needs a written justification, kept with it: an auditor must see why the data were overruled."""
    _open(action)
    items = action.items.exclude(status=ActionItem.Status.CANCELLED)
    _require(items.exists(), _("Plan at least one action before reviewing effectiveness."))
    _require(
        not items.filter(status=ActionItem.Status.OPEN).exists(),
        _("Finish or cancel every action before reviewing effectiveness."),
    )
    _require(bool(method.strip()) and bool(evidence.strip()), _("Give the method and the evidence."))
    # The date of the review is the reviewer's to give, within what is possible: not before the action existed,
    # not in the future. When it was recorded, and by whom, is the trail's (server time, the signed-in user).
    _require(reviewed_on <= timezone.localdate(), _("The review date cannot be in the future."))
    _require(
        reviewed_on >= timezone.localdate(action.created_at),
        _("The review date cannot be before the corrective action was raised."),
    )
    _require(result in EffectivenessReview.Result.values, _("Choose the result of the review."))
    before = audit_stored(action)
    data = effectiveness.action_verdict(action, today=reviewed_on)
    overruled = result == EffectivenessReview.Result.EFFECTIVE and data.state not in (
        effectiveness.EFFECTIVE,
        effectiveness.NO_MEASURE,
    )
    _require(
        not overruled or bool(justification.strip()),
        _("The data do not show the action to be effective: explain in writing why you record it as effective."),
    )
    review = EffectivenessReview.objects.create(
        data_verdict=data.state,
        justification=justification.strip(),
        action=action,
        method=method.strip(),
        evidence=evidence.strip(),
        reviewer=reviewer,
        reviewed_on=reviewed_on,
        result=result,
    )
    if result == EffectivenessReview.Result.EFFECTIVE:
        action.status, action.closed_at = A.CLOSED, timezone.now()
    else:
        action.status, action.closed_at = A.ANALYSED, None
    action.save()
    audit_record(review, action="create")
    audit_record(action, action="review", before=before)
    return review
