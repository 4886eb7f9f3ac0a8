from __future__ import annotations

from datetime import date
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from accounts.roles import staff_users
from reports.dashboard import default_range
from reports.models import DailyRollup, QualityObjective
from surveys.models import Survey

# Far enough back for any history, near enough that a mistyped year is caught.
EARLIEST = date(2000, 1, 1)


class DashboardFilterForm(forms.Form):
    """The dashboard's filters, read from the URL so that a view can be bookmarked and shared."""

    survey = forms.ModelChoiceField(queryset=Survey.objects.none(), label=_("Survey"), empty_label=None, required=False)
    # Every filter is optional: a missing one takes its default, so a link may carry only some of them.
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    granularity = forms.ChoiceField(
        label=_("Periods"),
        choices=[("week", _("Weeks")), ("month", _("Months")), ("quarter", _("Quarters"))],
        required=False,
    )

    def __init__(self, data: Any, *, surveys: Any, segments: list[str]) -> None:
        super().__init__(data)
        self.fields["survey"].queryset = surveys
        self.fields["segment"].choices = [("", _("All segments"))] + [(s, s) for s in segments]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("The end date must not be before the start date."))
            elif start < EARLIEST:
                self.add_error("start", _("Choose a date after 2000."))
        return cleaned


def filter_values(form: DashboardFilterForm, survey: Survey | None) -> dict[str, Any]:
    """The valid filters, with defaults standing in for missing or wrong ones (their errors are shown)."""
    start, end = default_range()
    values: dict[str, Any] = {
        "survey": survey,
        "start": start,
        "end": end,
        "segment": "",
        "granularity": "month",
    }
    if form.is_bound:
        form.is_valid()
        for name in values:
            if name in form.cleaned_data and form.cleaned_data[name] not in (None, "") and name not in form.errors:
                values[name] = form.cleaned_data[name]
        if "end" in form.errors or "start" in form.errors:
            values["start"], values["end"] = start, end
    return values


def default_survey(surveys: Any) -> Survey | None:
    """The survey with the most answers in the rollups (the one a manager most likely came for)."""
    busiest = (
        DailyRollup.objects.filter(survey__in=surveys)
        .values("survey")
        .annotate(n=Sum("count"))
        .order_by("-n")
        .values_list("survey", flat=True)
        .first()
    )
    return surveys.filter(pk=busiest).first() if busiest else surveys.first()


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = QualityObjective
        fields = ["title", "metric", "target", "survey", "segment", "start", "due", "owner", "method", "active"]
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "method": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.exclude(status=Survey.Status.DRAFT)
        self.fields["owner"].queryset = staff_users()
        self.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
        self.helper = FormHelper()
        self.helper.form_tag = False


class ReviewForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    period_start = forms.DateField(label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"}))


class ReviewActionForm(forms.Form):
    description = forms.CharField(
        label=_("Action"), max_length=500, widget=forms.TextInput(attrs={"class": "form-control form-control-sm"})
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=staff_users(), widget=forms.Select(attrs={"class": "form-select form-select-sm"})
    )
    due = forms.DateField(
        label=_("Due by"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()
        self.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
