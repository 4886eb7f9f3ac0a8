"""Quality managers' pages for the management review (ISO 9001 9.3), analysis snapshots (9.1.3) and the 9.1.2
evidence pack. Every change goes through a service (reports.review, reports.review_records, reports.analysis)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import (
    can_read_reviews,
    is_quality_manager,
    is_top_management,
    quality_manager_required,
    review_reader_required,
)
from config.validators import parse_id
from reports import analysis as analysis_service
from reports import dashboard
from reports import review as review_service
from reports import review_records as records
from reports.forms import (
    AnalysisForm,
    DashboardFilterForm,
    OutputActionForm,
    PeriodForm,
    ReviewActionForm,
    ReviewForm,
    ReviewInputForm,
    ReviewMeetingForm,
    ReviewOutputForm,
    filter_values,
)
from reports.models import AnalysisSnapshot, ManagementReview, ReviewAction, ReviewOutput
from reports.pack import pack_pdf, pack_view
from reports.pack_records import analysis_lines


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "vi"


def _get_review_for_user(request: HttpRequest, pk: int) -> ManagementReview:
    if not can_read_reviews(request.user):
        raise PermissionDenied
    return get_object_or_404(ManagementReview.objects.select_related("signed_by", "prepared_by", "chair"), pk=pk)


@review_reader_required
def review_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and not is_quality_manager(request.user):
        raise PermissionDenied  # top management reads and signs; quality managers prepare
    today = timezone.localdate()
    form = ReviewForm(
        request.POST or None,
        initial={"period_start": today.replace(month=1, day=1), "period_end": today,
                 "title": _("Management review %(year)s") % {"year": today.year}},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            review = review_service.review_create(prepared_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("review_detail", review.pk)
    page = Paginator(ManagementReview.objects.select_related("signed_by"), 25).get_page(request.GET.get("page"))
    return render(request, "reports/review_list.html", {"page": page, "form": form})


FORMS = {"add_action": ReviewActionForm, "meeting": ReviewMeetingForm, "add_input": ReviewInputForm,
         "add_output": ReviewOutputForm, "output_action": OutputActionForm}  # fmt: skip


@review_reader_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review_for_user(request, pk)
    op = request.POST.get("op") if request.method == "POST" else None
    if op is not None and op != "sign" and not is_quality_manager(request.user):
        raise PermissionDenied  # top management signs; the review is prepared by quality managers
    forms = {
        name: form(request.POST if op == name else None, initial=_initial(review, name, request))
        for name, form in FORMS.items()
    }
    if request.method == "POST":
        try:
            done = _review_post(request, review, forms)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            done = True
        if done:
            return redirect("review_detail", review.pk)
    inputs = review_service.review_inputs(review)
    cited = set(review.analyses.values_list("pk", flat=True))
    context = {
        "review": review,
        "pack": pack_view(review, inputs, _language()),
        "forms": forms,
        "can_sign": is_top_management(request.user),
        "editable": not review.locked and is_quality_manager(request.user),
        "outputs": review.outputs.prefetch_related("actions"),
        "citable": AnalysisSnapshot.objects.exclude(pk__in=cited).order_by("-created_at")[:50],
        "cited": AnalysisSnapshot.objects.filter(pk__in=cited),
    }
    return render(request, "reports/review_detail.html", context)


def _initial(review: ManagementReview, name: str, request: HttpRequest) -> dict:
    if name == "meeting":
        return {"chair": review.chair_id, "attendees": review.attendees}
    return {"owner": request.user.pk} if name == "add_input" else {}


def _review_post(request: HttpRequest, review: ManagementReview, forms: dict) -> bool:
    """Apply one change to a draft review; False when a form must be shown again with its errors."""
    op = request.POST.get("op")
    if op in forms:
        form = forms[op]
        if not form.is_valid():
            return False
        data = form.cleaned_data
        if op == "add_action":
            review_service.review_add_action(review=review, **data)
        elif op == "meeting":
            records.review_save_meeting(review=review, **data)
        elif op == "add_input":
            records.review_add_input(review=review, **data)
        elif op == "output_action":
            output = get_object_or_404(ReviewOutput, pk=parse_id(request.POST.get("output")), review=review)
            records.output_to_action(output=output, **data)
        else:
            records.review_add_output(review=review, **data)
        messages.success(request, _("Saved."))
    elif op == "decisions":
        review_service.review_save_decisions(review=review, decisions=request.POST.get("decisions", "")[:20000])
        messages.success(request, _("Decisions saved."))
    elif op == "action_done":
        action = get_object_or_404(ReviewAction, pk=parse_id(request.POST.get("action")), review=review)
        review_service.review_action_done(action=action, done=request.POST.get("done") == "1")
    elif op in ("cite", "uncite"):
        analysis = get_object_or_404(AnalysisSnapshot, pk=parse_id(request.POST.get("analysis")))
        records.review_cite_analysis(review=review, analysis=analysis, cited=op == "cite")
    elif op == "sign":
        review_service.review_sign(review=review, user=request.user)
        messages.success(request, _("The review is signed off; its figures are kept as they are now."))
    return True


@review_reader_required
def review_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review_for_user(request, pk)
    view = pack_view(review, review_service.review_inputs(review), _language())
    response = HttpResponse(pack_pdf(review, view), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="management-review-{review.pk}.pdf"'
    return response


@require_POST
@quality_manager_required
def analysis_new(request: HttpRequest) -> HttpResponse:
    """Save the dashboard view (its filters come with the form) as an analysis snapshot."""
    surveys = dashboard_surveys()
    asked = DashboardFilterForm(request.POST, surveys=surveys, segments=[request.POST.get("segment", "")[:100]])
    form = AnalysisForm(request.POST)
    if not asked.is_valid() or not asked.cleaned_data.get("survey") or not form.is_valid():
        messages.error(request, _("The analysis was not saved: give it a title and a conclusion."))
        return redirect(f"{_dashboard_url()}?{request.POST.urlencode()}" if asked.is_valid() else _dashboard_url())
    values = filter_values(asked, asked.cleaned_data["survey"])
    snapshot = analysis_service.analysis_save(
        filters=dashboard.Filters(**values), user=request.user, **form.cleaned_data
    )
    messages.success(request, _("The analysis is saved as a record."))
    return redirect("analysis_detail", snapshot.pk)


def _dashboard_url() -> str:
    from django.urls import reverse

    return reverse("dashboard")


def dashboard_surveys():  # type: ignore[no-untyped-def]
    from surveys.models import Survey

    return Survey.objects.exclude(status=Survey.Status.DRAFT)


@quality_manager_required
def analysis_list(request: HttpRequest) -> HttpResponse:
    rows = AnalysisSnapshot.objects.select_related("survey", "created_by")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(request, "reports/analysis_list.html", {"page": page})


@quality_manager_required
def analysis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    snapshot = get_object_or_404(AnalysisSnapshot.objects.select_related("survey", "created_by"), pk=pk)
    lines = analysis_lines(analysis_service.analysis_summary(snapshot), _language())
    reviews = snapshot.reviews.all()
    return render(request, "reports/analysis_detail.html", {"snapshot": snapshot, "lines": lines, "reviews": reviews})


def _period(request: HttpRequest) -> tuple[PeriodForm, tuple[date, date] | None]:
    today = timezone.localdate()
    form = PeriodForm(request.GET or None, initial={"start": today.replace(month=1, day=1), "end": today})
    if form.is_bound and form.is_valid():
        return form, (form.cleaned_data["start"], form.cleaned_data["end"])
    return form, None


@quality_manager_required
def evidence_view(request: HttpRequest) -> HttpResponse:
    from reports.evidence import evidence_inputs
    from reports.evidence import evidence_view as lines

    form, period = _period(request)
    view = lines(evidence_inputs(*period), _language()) if period else None
    return render(request, "reports/evidence.html", {"form": form, "view": view, "query": request.GET.urlencode()})


@quality_manager_required
def evidence_pdf(request: HttpRequest) -> HttpResponse:
    from reports.evidence import evidence_inputs
    from reports.evidence import evidence_pdf as build

    form, period = _period(request)
    if period is None and form.is_bound:
        messages.error(request, _("Choose the period of the evidence pack."))
        return redirect("evidence")
    if period is None:  # no period asked: the year so far
        period = (form.initial["start"], form.initial["end"])
    response = HttpResponse(build(evidence_inputs(*period), _language()), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="evidence-9-1-2-{period[0]:%Y%m%d}-{period[1]:%Y%m%d}.pdf"'
    return response
