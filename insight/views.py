"""Staff pages for themes: the list and its editing (quality managers), a theme's comments and corrections
(staff and quality managers), and the suggested themes from the comments that fit none."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import quality_manager_required, staff_required
from config.formatting import number
from config.validators import parse_day
from insight import clusters, pipeline, selectors, services
from insight.forms import CorrectionForm, ThemeForm
from insight.models import CommentInsight, CommentTheme, Theme
from surveys.models import Survey


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "vi"


@quality_manager_required
def theme_list(request: HttpRequest) -> HttpResponse:
    pipeline.catch_up_embedded()
    themes = Theme.objects.order_by("-active", "name_en")
    counts = dict(CommentTheme.objects.values_list("theme_id").annotate(n=Count("id")).order_by())
    rows = [(t, t.name(_language()), counts.get(t.pk, 0)) for t in themes]
    return render(request, "insight/theme_list.html", {"rows": rows, "pending": pipeline.pending_counts()})


@require_POST
@quality_manager_required
def theme_seed(request: HttpRequest) -> HttpResponse:
    added = services.themes_seed_starter()
    messages.success(
        request,
        ngettext("%(n)s starter theme added.", "%(n)s starter themes added.", added) % {"n": number(added)},
    )
    return redirect("theme_list")


@quality_manager_required
def theme_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    theme = get_object_or_404(Theme, pk=pk) if pk else None
    initial = (
        {"name_vi": theme.name_vi, "name_en": theme.name_en, "examples": theme.examples, "active": theme.active}
        if theme
        else {"active": True, "examples": request.GET.get("examples", "")[:5000]}
    )
    form = ThemeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if theme:
                services.theme_update(
                    theme=theme,
                    name_vi=data["name_vi"],
                    name_en=data["name_en"],
                    examples=data["examples"],
                    active=data["active"],
                )
            else:
                services.theme_create(name_vi=data["name_vi"], name_en=data["name_en"], examples=data["examples"])
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Theme saved. Every comment will be read again with the new list."))
            return redirect("theme_list")
    title = _("Edit theme") if theme else _("New theme")
    return render(request, "insight/theme_form.html", {"form": form, "title": title, "theme": theme})


@staff_required
def theme_comments(request: HttpRequest, pk: int) -> HttpResponse:
    theme = get_object_or_404(Theme, pk=pk)
    survey_id = int(request.GET["survey"]) if request.GET.get("survey", "").isdigit() else None
    survey = Survey.objects.filter(pk=survey_id).first() if survey_id else None
    start, end = parse_day(request.GET.get("start")), parse_day(request.GET.get("end"))
    rows = selectors.theme_comments(theme=theme, survey_id=survey.pk if survey else None, start=start, end=end)
    page = selectors.page_of(rows, request.GET.get("page", 1))
    extra = "&".join(
        f"{k}={v}"
        for k, v in (("survey", survey.pk if survey else ""), ("start", start or ""), ("end", end or ""))
        if v
    )
    context = {
        "theme": theme,
        "name": theme.name(_language()),
        "survey": survey,
        "start": start,
        "end": end,
        "page": page,
        "extra": extra,
        "here": request.get_full_path(),
    }
    return render(request, "insight/theme_comments.html", context)


@staff_required
def comment_correct(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(CommentInsight.objects.select_related("answer", "survey"), pk=pk)
    back = request.POST.get("next") or request.GET.get("next") or reverse("theme_list")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = reverse("theme_list")
    current = list(comment.themes.values_list("theme_id", flat=True))
    form = CorrectionForm(request.POST or None, initial={"themes": current})
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_correct(
                comment=comment,
                themes=form.cleaned_data["themes"],
                sentiment=form.cleaned_data["sentiment"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Correction saved. It is kept and teaches the next model."))
            return redirect(back)
    return render(request, "insight/comment_correct.html", {"comment": comment, "form": form, "back": back})


@quality_manager_required
def theme_suggestions(request: HttpRequest) -> HttpResponse:
    pipeline.catch_up_embedded()
    suggestions = clusters.suggest(selectors.unthemed_comments(clusters.LIMIT))
    rows = [(s, "\n".join(text for _pk, text in s.examples)) for s in suggestions]
    return render(request, "insight/suggestions.html", {"rows": rows, "limit": clusters.LIMIT})
