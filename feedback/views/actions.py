"""Corrective actions: quality managers run them step by step; staff see them and work their action items."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import is_quality_manager, quality_manager_required, staff_required
from audit import selectors as audit_selectors
from feedback import corrective, effectiveness, evidence, policy, rootcause
from feedback.forms import (
    ActionForm,
    ContainmentForm,
    DecisionForm,
    ItemForm,
    ItemStatusForm,
    ReopenForm,
    ReviewForm,
    RootCauseForm,
)
from feedback.history import field_changes
from feedback.models import (
    ActionEvidence,
    ActionItem,
    ActionStatus,
    ComplaintCase,
    CorrectiveAction,
    RootCauseMethod,
)
from feedback.workflow import EditConflict

PAGE_SIZE = 25


def _get_action_for_user(request: HttpRequest, reference: str) -> CorrectiveAction:
    return get_object_or_404(
        CorrectiveAction.objects.select_related("owner", "category", "survey"), reference=reference.upper()
    )


@staff_required
def action_list(request: HttpRequest) -> HttpResponse:
    actions = CorrectiveAction.objects.select_related("owner").order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status == "open":
        actions = actions.exclude(status__in=corrective.FINISHED)
    elif status in ActionStatus.values:
        actions = actions.filter(status=status)
    page = Paginator(actions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "feedback/action_list.html", {"page": page, "status": status, "statuses": ActionStatus.choices}
    )


@quality_manager_required
def action_create(request: HttpRequest) -> HttpResponse:
    initial = {"owner": request.user}
    source = request.GET.get("case", "")
    if source:
        case = ComplaintCase.objects.filter(reference=source.upper()).first()
        if case is not None:
            initial.update(
                {"case_references": case.reference, "category": case.category, "title": case.description[:80]}
            )
    form = ActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            action = corrective.action_create(
                title=data["title"],
                nonconformity=data["nonconformity"],
                owner=data["owner"],
                cases=data["case_references"],
                category=data["category"],
                survey=data["survey"],
                segment=data["segment"],
                effective_from=data.get("effective_from"),
                themes=data["themes"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Corrective action %(ref)s opened.") % {"ref": action.reference})
            return redirect("action_detail", reference=action.reference)
    return render(
        request,
        "feedback/simple_form.html",
        {"form": form, "title": _("Raise a corrective action"), "back": "action_list"},
    )


@quality_manager_required
def action_edit(request: HttpRequest, reference: str) -> HttpResponse:
    action = _get_action_for_user(request, reference)
    if action.status in corrective.FINISHED:
        messages.error(request, _("This corrective action is closed: reopen it, with the reason, before changing it."))
        return redirect("action_detail", reference=action.reference)
    # The form works on its own copy, and carries the digest of the action as it was opened: the service refuses a
    # save on top of a colleague's (and re-reads the action under a lock).
    stored = CorrectiveAction.objects.get(pk=action.pk)
    form = ActionForm(request.POST or None, instance=stored, initial={"loaded": corrective.action_edit_stamp(stored)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            corrective.action_update(
                action=action,
                cases=data["case_references"],
                themes=data["themes"],
                expected=data.get("loaded") or None,
                **{name: data[name] for name in corrective.ACTION_EDITABLE},
            )
        except EditConflict as error:
            # Told once: the form now carries the action as it is, so saving again records what was typed.
            form.data = form.data.copy()
            form.data["loaded"] = corrective.action_edit_stamp(CorrectiveAction.objects.get(pk=action.pk))
            form.add_error(None, error.messages)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Corrective action saved."))
            return redirect("action_detail", reference=action.reference)
    return render(
        request,
        "feedback/simple_form.html",
        {"form": form, "title": _("Edit corrective action"), "back": "action_list"},
    )


@staff_required
def action_detail(request: HttpRequest, reference: str) -> HttpResponse:
    action = _get_action_for_user(request, reference)
    language = request.LANGUAGE_CODE
    context = {
        "action": action,
        "cases": action.cases.select_related("category"),
        "items": action.items.select_related("owner"),
        "reviews": action.reviews.select_related("reviewer"),
        "is_qm": is_quality_manager(request.user),
        "containment_form": ContainmentForm(initial={"containment": action.containment}),
        "decision_form": DecisionForm(initial={"reason": action.decision_reason}),
        "root_cause_form": RootCauseForm(),
        **_analysis_context(action, request.session.pop(f"root-cause-{action.pk}", None)),
        **_evidence_context(request, action),
        "item_form": ItemForm(initial={"owner": request.user}),
        "review_form": ReviewForm(),
        "kept_decision": request.session.pop(f"decision-{action.pk}", None),
        "kept_review": request.session.pop(f"review-{action.pk}", None),
        "kept_item": request.session.pop(f"item-{action.pk}", None),
        "reopen_form": ReopenForm(),
        "trail": audit_selectors.entries_for(action),
        "verdict": (verdict := effectiveness.action_verdict(action)),
        "comparisons": verdict.comparisons,
        "window_days": effectiveness.WINDOW_DAYS,
        "follow_ups": effectiveness.resurveyed_scores(action, language),
        "changes": field_changes(action),
        "finished": action.status in corrective.FINISHED,
    }
    return render(request, "feedback/action_detail.html", context)


def _analysis_context(action: CorrectiveAction, kept: dict[str, str] | None = None) -> dict[str, Any]:
    """The method's structured record, as shown and as the form's fields: filled with what is stored, or with what
    was typed in a refused form (`kept`)."""
    method, analysis = action.root_cause_method, action.root_cause_analysis or {}
    stored_whys = list(analysis.get("whys", [])) if method == RootCauseMethod.FIVE_WHYS else []
    causes = (analysis.get("causes") or {}) if method == RootCauseMethod.FISHBONE else {}
    written = analysis if method == RootCauseMethod.EIGHT_D else {}
    labels = dict(rootcause.DISCIPLINES)
    shown = {
        "whys": stored_whys,
        "fishbone": rootcause.fishbone_rows(analysis) if causes else [],
        "eight_d": [(labels[k], written.get(k, "")) for k in rootcause.WRITTEN_DISCIPLINES] if written else [],
    }
    if kept is not None:
        typed = rootcause.analysis_from_post(kept)
        return {
            **shown,
            "why_rows": typed["whys"],
            "fish_rows": [(key, label, "\n".join(typed["causes"][key])) for key, label in rootcause.FISHBONE],
            "d_rows": [(key, labels[key], typed[key]) for key in rootcause.WRITTEN_DISCIPLINES],
            "rc": {
                "method": kept.get("method", ""),
                "root_cause": kept.get("root_cause", ""),
                "similar": kept.get("similar", ""),
                "similar_possible": {"yes": True, "no": False}.get(kept.get("similar_possible", "")),
            },
        }
    return {
        **shown,
        "why_rows": stored_whys + [{"why": "", "because": ""}] * (rootcause.MAX_WHYS - len(stored_whys)),
        "fish_rows": [(key, label, "\n".join(causes.get(key, []))) for key, label in rootcause.FISHBONE],
        "d_rows": [(key, labels[key], written.get(key, "")) for key in rootcause.WRITTEN_DISCIPLINES],
        "rc": {
            "method": method,
            "root_cause": action.root_cause,
            "similar": action.similar_nonconformities,
            "similar_possible": action.similar_possible,
        },
    }


def _may_attach(request: HttpRequest, action: CorrectiveAction) -> bool:
    try:
        policy.action_check_evidence(request.user, action)
    except PermissionDenied:
        return False
    return True


def _evidence_context(request: HttpRequest, action: CorrectiveAction) -> dict[str, Any]:
    files = list(action.evidence.select_related("uploaded_by"))
    step = ActionEvidence.Step
    return {
        "investigation_files": [f for f in files if f.step == step.INVESTIGATION],
        "effectiveness_files": [f for f in files if f.step == step.EFFECTIVENESS],
        "may_attach": _may_attach(request, action),
        "attachable_steps": [s for s in step.values if evidence.can_attach(action, s)],
    }


STEPS = {
    "containment": (ContainmentForm, lambda a, d, u: corrective.action_record_containment(action=a, **d)),
    "decision": (DecisionForm, lambda a, d, u: corrective.action_decide(action=a, **d)),
    "root-cause": (RootCauseForm, lambda a, d, u: corrective.action_record_root_cause(action=a, **d)),
    "review": (ReviewForm, lambda a, d, u: corrective.action_record_review(action=a, reviewer=u, **d)),
    "reopen": (ReopenForm, lambda a, d, u: corrective.action_reopen(action=a, **d)),
}


# Steps whose refused form is shown again as typed: a review refused for want of a justification held the
# method and the evidence, and a decision its reason.
KEPT_STEPS = ("root-cause", "decision", "review")


def _apply(
    request: HttpRequest, action: CorrectiveAction, form: Any, run: Any, success: str, keep: str = ""
) -> HttpResponse:
    """Validate a step's form, run its service, and report either outcome on the action page. With `keep`, what
    was typed in a refused form is kept in the session under that key and shown again, not lost."""
    try:
        if not form.is_valid():
            raise ValidationError([error for errors in form.errors.values() for error in errors])
        run(form.cleaned_data)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        if keep:
            request.session[keep] = {name: str(value)[:10000] for name, value in request.POST.items()}
    else:
        messages.success(request, success)
    return redirect("action_detail", reference=action.reference)


@require_POST
@quality_manager_required
def action_step(request: HttpRequest, reference: str, step: str) -> HttpResponse:
    action = _get_action_for_user(request, reference)
    if step not in STEPS:
        messages.error(request, _("Unknown step."))
        return redirect("action_detail", reference=action.reference)
    form_class, run = STEPS[step]
    keep = f"{step}-{action.pk}" if step in KEPT_STEPS else ""
    return _apply(
        request, action, form_class(request.POST), lambda data: run(action, data, request.user), _("Saved."), keep
    )


@require_POST
@staff_required
def item_add(request: HttpRequest, reference: str) -> HttpResponse:
    action = _get_action_for_user(request, reference)
    form = ItemForm(request.POST)
    if form.is_valid():
        policy.action_check_add_item(request.user, action, form.cleaned_data["owner"])
    return _apply(
        request,
        action,
        form,
        lambda data: corrective.item_add(action=action, **data),
        _("Action added."),
        f"item-{action.pk}",
    )


@require_POST
@staff_required
def item_status(request: HttpRequest, reference: str, item_id: int) -> HttpResponse:
    action = _get_action_for_user(request, reference)
    item = get_object_or_404(ActionItem, pk=item_id, action=action)
    policy.item_check_change(request.user, item)
    return _apply(
        request,
        action,
        ItemStatusForm(request.POST),
        lambda data: corrective.item_set_status(item=item, status=data["status"]),
        _("Action updated."),
    )
