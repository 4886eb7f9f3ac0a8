"""Staff pages for complaint cases: my work, the list, logging a complaint, and the case page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import staff_required, staff_users
from config.validators import parse_id
from feedback import corrective, loop, policy, workflow
from feedback.forms import AssessmentForm, AssignForm, CaseEditForm, CaseForm, TextForm, TransitionForm
from feedback.history import field_changes
from feedback.models import ActionItem, CaseStatus, Category, ComplaintCase, Severity
from insight.selectors import response_themes
from surveys.models import Response

PAGE_SIZE = 25
MY_WORK_LIMIT = 10


def _get_case_for_user(request: HttpRequest, reference: str) -> ComplaintCase:
    """The case, for anyone on the staff side (staff_required has checked the role)."""
    return get_object_or_404(
        ComplaintCase.objects.select_related(
            "customer", "category", "assignee", "response__survey", "handling_invitation"
        ),
        reference=reference.upper(),
    )


def _get_case_for_change(request: HttpRequest, reference: str) -> ComplaintCase:
    """The case, if the signed-in user may change it (feedback/policy.py); otherwise a 403 that says why."""
    case = _get_case_for_user(request, reference)
    policy.case_check_change(request.user, case)
    return case


def _flash_errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def my_work(request: HttpRequest) -> dict:
    """What is assigned to the signed-in user, overdue first (used by the home page)."""
    now = timezone.now()
    cases = workflow.cases_overdue_first(
        ComplaintCase.objects.filter(assignee=request.user, status__in=workflow.OPEN_STATUSES).select_related(
            "category", "customer"
        ),
        now,
    )
    items = sorted(
        ActionItem.objects.filter(owner=request.user, status=ActionItem.Status.OPEN)
        .exclude(action__status__in=corrective.FINISHED)
        .select_related("action"),
        key=lambda i: (not i.overdue, i.due_date),
    )
    # The most pressing first, and a bounded list: the case list holds the rest.
    return {
        "my_cases": cases[:MY_WORK_LIMIT],
        "my_items": items[:MY_WORK_LIMIT],
        "my_case_count": len(cases),
        "my_item_count": len(items),
    }


@staff_required
def case_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    cases = ComplaintCase.objects.select_related("category", "assignee", "customer").order_by("-received_at", "-id")
    status = params.get("status", "")
    if status == "open":
        cases = cases.filter(status__in=workflow.OPEN_STATUSES)
    elif status in CaseStatus.values:
        cases = cases.filter(status=status)
    category_id = parse_id(params.get("category"))
    if category_id is not None:
        cases = cases.filter(category_id=category_id)
    if params.get("severity") in Severity.values:
        cases = cases.filter(severity=params["severity"])
    assignee = params.get("assignee", "")
    if assignee == "me":
        cases = cases.filter(assignee=request.user)
    elif assignee == "none":
        cases = cases.filter(assignee__isnull=True)
    elif parse_id(assignee) is not None:
        cases = cases.filter(assignee_id=parse_id(assignee))
    if params.get("overdue") == "1":
        cases = cases.filter(workflow.overdue_q())
    query = params.get("q", "").strip()
    if query:
        cases = cases.filter(
            Q(reference__icontains=query)
            | Q(description__icontains=query)
            | Q(contact_name__icontains=query)
            | Q(customer__name__icontains=query)
        )
    page = Paginator(cases, PAGE_SIZE).get_page(params.get("page"))
    now = timezone.now()
    for case in page.object_list:
        case.overdue_step = workflow.overdue_step(case, now)
    filters = params.copy()
    filters.pop("page", None)
    context = {
        "page": page,
        "filters": filters.urlencode(),
        "params": params,
        "statuses": CaseStatus.choices,
        "severities": Severity.choices,
        "categories": Category.objects.all(),
        "users": staff_users(),
    }
    return render(request, "feedback/case_list.html", context)


@staff_required
def case_create(request: HttpRequest) -> HttpResponse:
    form = CaseForm(request.POST or None, initial={"assignee": request.user})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = workflow.case_create(actor=request.user, **data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Complaint %(ref)s logged.") % {"ref": case.reference})
            return redirect("case_detail", reference=case.reference)
    return render(request, "feedback/case_form.html", {"form": form, "title": _("Log a complaint")})


@staff_required
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case_for_user(request, reference)
    changes = field_changes(case)
    context = {
        "case": case,
        "events": case.events.select_related("actor"),
        "transitions": [(s, CaseStatus(s).label) for s in workflow.allowed_transitions(case)],
        "overdue_step": workflow.overdue_step(case),
        "assign_form": AssignForm(initial={"assignee": case.assignee}),
        "assess_form": AssessmentForm(
            initial={
                "severity": case.severity,
                "impact": case.impact,
                "complexity": case.complexity or "simple",
                "immediate_action_needed": "yes" if case.immediate_action_needed else "no",
                "immediate_action": case.immediate_action,
            }
        ),
        "changes": changes,
        "actions": case.corrective_actions.all(),
        "can_change": policy.can_change_case(request.user, case),
        "can_take": policy.can_take_case(request.user, case),
        "survey_summary": loop.response_summary(case.response, request.LANGUAGE_CODE[:2]) if case.response else "",
        "handling": _handling(case, request.LANGUAGE_CODE[:2]),
        "comment_themes": response_themes(case.response_id) if case.response_id else [],
        # What was typed in a form that was refused, shown again instead of lost.
        "kept": request.session.pop(f"transition-{case.pk}", {}),
        "kept_text": request.session.pop(f"text-{case.pk}", ""),
    }
    return render(request, "feedback/case_detail.html", context)


def _handling(case: ComplaintCase, language: str) -> dict[str, Any] | None:
    """The complaint-handling survey sent after closing, and its answer once given."""
    invitation = case.handling_invitation
    if invitation is None:
        return None
    response = Response.objects.filter(invitation=invitation).select_related("survey").first()
    return {
        "invitation": invitation,
        "response": response,
        "summary": loop.response_summary(response, language) if response else "",
    }


@staff_required
def case_edit(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case_for_change(request, reference)
    stored = ComplaintCase.objects.get(pk=case.pk)
    form = CaseEditForm(request.POST or None, instance=stored, initial={"loaded": workflow.case_edit_stamp(stored)})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("loaded") or None
        try:
            workflow.case_update(case=case, actor=request.user, expected=expected, **data)
        except workflow.EditConflict as error:
            # Told once: the form now carries the details as they are, so saving again records what was typed.
            form.data = form.data.copy()
            form.data["loaded"] = workflow.case_edit_stamp(ComplaintCase.objects.get(pk=case.pk))
            form.add_error(None, error.messages)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Case saved."))
            return redirect("case_detail", reference=case.reference)
    return render(request, "feedback/case_form.html", {"form": form, "case": case, "title": _("Edit case")})


@require_POST
@staff_required
def case_transition(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case_for_change(request, reference)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The status change was not understood. Nothing was changed."))
        return redirect("case_detail", reference=case.reference)
    try:
        workflow.case_transition(case=case, actor=request.user, **form.cleaned_data)
    except ValidationError as error:
        _flash_errors(request, error)
        # Keep what was typed: the case page re-shows it in the status form.
        request.session[f"transition-{case.pk}"] = {
            k: request.POST.get(k, "") for k in ("to_status", "customer_accepted", "note", "message", "resolution")
        }
    else:
        request.session.pop(f"transition-{case.pk}", None)
        messages.success(
            request, _("Status changed to “%(status)s”.") % {"status": CaseStatus(form.cleaned_data["to_status"]).label}
        )
    return redirect("case_detail", reference=case.reference)


@require_POST
@staff_required
def case_assess(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case_for_change(request, reference)
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The assessment was not understood. Nothing was changed."))
        return redirect("case_detail", reference=case.reference)
    try:
        workflow.case_assess(case=case, actor=request.user, **form.cleaned_data)
    except ValidationError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Initial assessment recorded."))
    return redirect("case_detail", reference=case.reference)


@require_POST
@staff_required
def case_not_accepted(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case_for_change(request, reference)
    try:
        workflow.case_record_non_acceptance(case=case, actor=request.user, reason=request.POST.get("reason", "")[:5000])
    except ValidationError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Recorded; the customer is offered recourse."))
    return redirect("case_detail", reference=case.reference)


@require_POST
@staff_required
def case_assign(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case_for_user(request, reference)
    form = AssignForm(request.POST)
    if form.is_valid():
        policy.case_check_assign(request.user, case, form.cleaned_data["assignee"])
        try:
            workflow.case_assign(case=case, assignee=form.cleaned_data["assignee"], actor=request.user)
        except ValidationError as error:
            _flash_errors(request, error)
        else:
            messages.success(request, _("Assignment saved."))
    else:
        messages.error(request, _("Choose a person from the list."))
    return redirect("case_detail", reference=case.reference)


def _text_action(request: HttpRequest, reference: str, action, success: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    case = _get_case_for_change(request, reference)
    form = TextForm(request.POST)
    text = request.POST.get("text", "")
    try:
        if not form.is_valid():
            raise ValidationError(_("Write the text (at most 5,000 characters)."))
        action(case=case, actor=request.user, text=form.cleaned_data["text"])
    except ValidationError as error:
        _flash_errors(request, error)
        request.session[f"text-{case.pk}"] = text
    else:
        messages.success(request, success)
    return redirect("case_detail", reference=case.reference)


@require_POST
@staff_required
def case_note(request: HttpRequest, reference: str) -> HttpResponse:
    return _text_action(request, reference, workflow.case_add_note, _("Note added."))


@require_POST
@staff_required
def case_message(request: HttpRequest, reference: str) -> HttpResponse:
    return _text_action(request, reference, workflow.case_message_customer, _("Message sent to the customer."))
