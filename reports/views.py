"""The quality manager's satisfaction dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import quality_manager_required
from reports import dashboard
from reports.forms import DashboardFilterForm, default_survey, filter_values
from surveys.models import Survey


def _surveys():  # type: ignore[no-untyped-def]
    # Drafts have no answers; closed surveys keep their history.
    return Survey.objects.exclude(status=Survey.Status.DRAFT).order_by("status", "-id")  # active first


@quality_manager_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    surveys = _surveys()
    if not surveys.exists():
        return render(request, "reports/dashboard.html", {"empty": True})
    chosen = surveys.filter(pk=request.GET.get("survey")).first() if request.GET.get("survey", "").isdigit() else None
    fallback = default_survey(surveys)
    segments = dashboard.segments_of(chosen or fallback)
    form = DashboardFilterForm(request.GET or None, surveys=surveys, segments=segments)
    values = filter_values(form, fallback)
    filters = dashboard.Filters(**values)
    if not request.GET:
        form = DashboardFilterForm(
            {**{k: v for k, v in values.items() if k != "survey"}, "survey": filters.survey.pk},
            surveys=surveys,
            segments=segments,
        )
    board = dashboard.dashboard_build(filters)
    search = request.GET.get("q", "").strip()[:200]
    comments = dashboard.comments_page(filters, search=search, page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "board": board,
            "comments": comments,
            "search": search,
            "extra": query.urlencode(),
            "min_n": dashboard.min_n(),
        },
    )
