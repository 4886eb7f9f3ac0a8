"""The complaint-handling survey's results page (ISO 10002 9.3), for quality managers: how satisfied customers
were with the handling of their complaint, per case category and per handler, with n and intervals."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.roles import quality_manager_required
from reports.complaints import handling_results
from reports.dashboard import default_range
from reports.forms import AHEAD, EARLIEST


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        for name in ("start", "end"):
            # Beyond these the period's local bounds overflow (9999-12-31 + 1 day), and nothing was answered then.
            if data.get(name) and not EARLIEST <= data[name] <= timezone.localdate() + AHEAD:
                self.add_error(name, _("Choose a date from 2000 to one year from today."))
        if data.get("start") and data.get("end") and not self.errors and data["start"] > data["end"]:
            self.add_error("end", _("The end date must not be before the start date."))
        return data


@quality_manager_required
def handling_view(request: HttpRequest) -> HttpResponse:
    start, end = default_range()
    form = PeriodForm(request.GET or None)
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or end
    language = "en" if (get_language() or "")[:2] == "en" else "vi"
    results = handling_results(start, end, language=language, min_n=settings.REPORTS_MIN_N, other=_("Other"))
    return render(
        request,
        "reports/handling.html",
        {"form": form, "start": start, "end": end, "results": results, "min_n": settings.REPORTS_MIN_N},
    )
