"""Quality managers' pages: the dashboard, objectives, exports and the management review."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import is_quality_manager, quality_manager_required
from config.validators import parse_id
from feedback.history import field_changes
from insight.pipeline import catch_up_embedded
from reports import alerts, dashboard, drivers, exports, objectives, stats, themes
from reports.forms import (
    DashboardFilterForm,
    ObjectiveForm,
    default_survey,
    filter_values,
    shown_form,
)
from reports.models import AlertSettings, ExportJob, QualityObjective
from surveys.models import Survey


def _surveys():  # type: ignore[no-untyped-def]
    # Drafts have no answers; closed surveys keep their history.
    return Survey.objects.exclude(status=Survey.Status.DRAFT).order_by("status", "-id")  # active first


@quality_manager_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    surveys = _surveys()
    if not surveys.exists():
        return render(request, "reports/dashboard.html", {"empty": True})
    survey_id = parse_id(request.GET.get("survey"))
    chosen = surveys.filter(pk=survey_id).first() if survey_id is not None else None
    fallback = default_survey(surveys)
    segments = dashboard.segments_of(chosen or fallback)
    asked = DashboardFilterForm(request.GET or None, surveys=surveys, segments=segments)
    values = filter_values(asked, fallback)
    filters = dashboard.Filters(**values)
    form = shown_form(asked, values, surveys=surveys, segments=segments)
    target = objectives.headline_target(filters.survey, filters.segment)
    board = dashboard.dashboard_build(filters, target=float(target) if target is not None else None)
    goals = [
        (objective, objectives.objective_progress(objective))
        for objective in QualityObjective.objects.filter(active=True, survey=filters.survey)[:5]
    ]
    catch_up_embedded()
    insight = themes.theme_board(filters, language=_page_language(), chosen=request.GET.get("theme", ""))
    board.figures.update(insight["figures"])
    search = request.GET.get("q", "").strip()[:200]
    comments = dashboard.comments_page(
        filters, search=search, page=request.GET.get("page", 1), headlines=board.headlines
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "filter_errors": asked.is_bound and bool(asked.errors),
            "board": board,
            "comments": comments,
            "search": search,
            "extra": query.urlencode(),
            "min_n": dashboard.min_n(),
            "goals": goals,
            "survey_title": filters.survey.title(get_language()[:2]),
            "insight": insight,
        },
    )


@quality_manager_required
def alert_settings(request: HttpRequest) -> HttpResponse:
    """Which Western Electric rules send an email, with the false alarms each choice costs on a stable process."""
    current = AlertSettings.load()
    if request.method == "POST":
        chosen = [int(r) for r in request.POST.getlist("rules") if r in {"1", "2", "3", "4"}]
        try:
            alerts.alert_settings_save(email_rules=chosen)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Alert settings saved."))
            return redirect("alert_settings")
    rules = [
        {
            "number": number,
            "every": round(1 / stats.false_alarm_rate({number})),
            "email": number in current.email_rules,
        }
        for number in stats.RULES
    ]
    emailed = stats.false_alarm_rate(set(current.email_rules))
    context = {
        "rules": rules,
        # Weekly checks; only rises of the detractor share are emailed, about half of the flagged weeks.
        "emailed_weeks": round(2 / emailed) if emailed else None,
        "page_every": round(1 / stats.false_alarm_rate(set(stats.RULES))),
    }
    return render(request, "reports/alert_settings.html", context)


def _page_language() -> str:
    return "en" if (get_language() or "").startswith("en") else "vi"


# Bootstrap intervals take about a second on a few thousand responses: a finished analysis is kept this long.
DRIVERS_CACHE_SECONDS = 600


@quality_manager_required
def drivers_view(request: HttpRequest) -> HttpResponse:
    surveys = _surveys()
    if not surveys.exists():
        return render(request, "reports/drivers.html", {"empty": True})
    fallback = default_survey(surveys)
    form = DashboardFilterForm(request.GET or None, surveys=surveys, segments=[])
    values = filter_values(form, fallback)
    survey, start, end = values["survey"], values["start"], values["end"]
    language = _page_language()
    newest = survey.responses.order_by("-pk").values_list("pk", flat=True).first() or 0
    # created_at: a survey id reused after a restore (or in tests) never meets another survey's cached analysis.
    key = f"drivers:{survey.pk}:{survey.created_at.isoformat()}:{start}:{end}:{newest}:{language}"
    analysis = cache.get(key)
    if analysis is None:
        analysis = drivers.survey_drivers(survey, start, end, language=language)
        cache.set(key, analysis, DRIVERS_CACHE_SECONDS)
    figures = {}
    if analysis is not None and analysis.enough:
        figures["importance-performance"] = themes.importance_performance(analysis)
    if not request.GET:
        form = DashboardFilterForm(
            {"survey": survey.pk, "start": start, "end": end, "granularity": "month"}, surveys=surveys, segments=[]
        )
    context = {"form": form, "survey": survey, "analysis": analysis, "figures": figures, "start": start, "end": end}
    return render(request, "reports/drivers.html", context)


def _get_objective_for_user(request: HttpRequest, pk: int) -> QualityObjective:
    if not is_quality_manager(request.user):
        raise PermissionDenied
    return get_object_or_404(QualityObjective.objects.select_related("survey", "owner"), pk=pk)


@quality_manager_required
def objective_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(QualityObjective.objects.select_related("survey", "owner"), 25).get_page(request.GET.get("page"))
    rows = [(objective, objectives.objective_progress(objective)) for objective in page]
    return render(request, "reports/objective_list.html", {"page": page, "rows": rows})


@quality_manager_required
def objective_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    objective = _get_objective_for_user(request, pk) if pk else None
    initial = {} if objective else {"owner": request.user, "start": timezone.localdate().replace(month=1, day=1)}
    form = ObjectiveForm(request.POST or None, instance=objective, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            saved = objectives.objective_save(objective=objective or QualityObjective(), **fields)
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages_)
        else:
            messages.success(request, _("Objective saved."))
            return redirect("objective_detail", saved.pk)
    title = _("Edit objective") if objective else _("New quality objective")
    return render(request, "reports/objective_form.html", {"form": form, "title": title, "objective": objective})


@quality_manager_required
def objective_detail(request: HttpRequest, pk: int) -> HttpResponse:
    objective = _get_objective_for_user(request, pk)
    context = {
        "objective": objective,
        "progress": objectives.objective_progress(objective),
        "changes": field_changes(objective),
    }
    return render(request, "reports/objective_detail.html", context)


def _get_export_for_user(request: HttpRequest, pk: int) -> ExportJob:
    if not is_quality_manager(request.user):
        raise PermissionDenied
    return get_object_or_404(ExportJob.objects.select_related("survey"), pk=pk)


@require_POST
@quality_manager_required
def export_new(request: HttpRequest) -> HttpResponse:
    surveys = _surveys()
    # Any segment name may be exported (it is only compared with the customers' segments).
    form = DashboardFilterForm(request.POST, surveys=surveys, segments=[request.POST.get("segment", "")[:100]])
    fmt = request.POST.get("format", ExportJob.Format.CSV)
    if not form.is_valid() or fmt not in ExportJob.Format.values or not form.cleaned_data.get("survey"):
        messages.error(request, _("The export could not start: the filters were not valid. Choose them again."))
        return redirect("dashboard")
    values = filter_values(form, form.cleaned_data["survey"])
    job = exports.export_create(
        user=request.user,
        survey=values["survey"],
        start=values["start"],
        end=values["end"],
        segment=values["segment"],
        fmt=fmt,
        language=get_language()[:2],
    )
    return redirect("export_detail", job.pk)


@quality_manager_required
def export_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(ExportJob.objects.select_related("survey", "created_by"), 25).get_page(request.GET.get("page"))
    return render(request, "reports/export_list.html", {"page": page, "keep_days": settings.EXPORT_KEEP_DAYS})


@quality_manager_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_export_for_user(request, pk)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"status": job.status, "progress": job.progress, "rows": job.rows})
    return render(request, "reports/export_detail.html", {"job": job})


@quality_manager_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_export_for_user(request, pk)
    path = exports.export_dir() / job.file_name if job.file_name else None
    if job.status != ExportJob.Status.DONE or path is None or not path.exists():
        raise Http404(_("This export is not available (not finished, or already deleted)."))
    # The name says what the file holds: survey, period and the segment filter (two exports of one period, the
    # whole survey and one segment, had the same name and could not be told apart once downloaded).
    segment = f"-{slugify(job.segment) or 'segment'}" if job.segment else ""
    filename = f"lang-nghe-{job.survey.pk}-{job.start:%Y%m%d}-{job.end:%Y%m%d}{segment}.{job.format}"
    content_type = "text/csv; charset=utf-8" if job.format == "csv" else XLSX_TYPE
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=content_type)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
