from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.roles import staff_users
from reports.dashboard import default_range
from reports.models import DailyRollup, QualityObjective
from reports.records import InputTopic, OutputKind
from surveys.models import Survey

# Far enough back for any history, near enough that a mistyped year is caught; and no date beyond a year from now
# (nothing can have been answered then, and year 9999 would overflow the day arithmetic).
EARLIEST = date(2000, 1, 1)
AHEAD = timedelta(days=366)
DATE_FIELDS = ("start", "end", "baseline_start", "baseline_end")


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
    baseline_start = forms.DateField(label=_("Control limits from"), required=False)
    baseline_end = forms.DateField(label=_("Control limits to"), required=False)

    def __init__(self, data: Any, *, surveys: Any, segments: list[str]) -> None:
        super().__init__(data)
        self.fields["survey"].queryset = surveys
        self.fields["survey"].label_from_instance = lambda survey: survey.title(_language())
        self.fields["segment"].choices = [("", _("All segments"))] + [(s, s) for s in segments]

    def full_clean(self) -> None:
        # An id no database column can hold (a 30-digit number) is a wrong choice like any other, not a crash.
        raw = self.data.get("survey") if self.is_bound else None
        if raw not in (None, "") and (not str(raw).isascii() or not str(raw).isdigit() or len(str(raw)) > 18):
            self.data = self.data.copy()
            self.data["survey"] = "invalid"
        super().full_clean()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        latest = timezone.localdate() + AHEAD
        for name in DATE_FIELDS:
            value = cleaned.get(name)
            if value and not EARLIEST <= value <= latest:
                self.add_error(name, _("Choose a date from 2000 to one year from today."))
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and "start" not in self.errors and "end" not in self.errors and start > end:
            self.add_error("end", _("The end date must not be before the start date."))
        low, high = cleaned.get("baseline_start"), cleaned.get("baseline_end")
        if bool(low) != bool(high) and not self.errors.get("baseline_end") and not self.errors.get("baseline_start"):
            self.add_error("baseline_end", _("Give both dates of the control limits' periods, or neither."))
        elif low and high and low > high:
            self.add_error("baseline_end", _("The end date must not be before the start date."))
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
        "baseline_start": None,
        "baseline_end": None,
    }
    if form.is_bound:
        form.is_valid()
        for name in values:
            if name in form.cleaned_data and form.cleaned_data[name] not in (None, "") and name not in form.errors:
                values[name] = form.cleaned_data[name]
        if "end" in form.errors or "start" in form.errors:
            values["start"], values["end"] = start, end
        if "baseline_end" in form.errors or "baseline_start" in form.errors:
            values["baseline_start"] = values["baseline_end"] = None
    return values


def shown_form(form: DashboardFilterForm, values: dict[str, Any], *, surveys: Any, segments: list[str]) -> Any:
    """The filter bar as drawn: the values the figures use (defaults included), with the errors of what was asked
    — so a link with only ?survey=N shows "Months" when the charts are monthly."""
    data = {k: (v.pk if k == "survey" and v is not None else v) for k, v in values.items() if v not in (None, "")}
    shown = DashboardFilterForm(data, surveys=surveys, segments=segments)
    shown.is_valid()
    if form.is_bound:
        for name, errors in form.errors.items():
            shown._errors.setdefault(name, shown.error_class()).extend(errors)
    return shown


def _language() -> str:
    return "en" if (get_language() or "")[:2] == "en" else "vi"


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
        fields = [
            "title", "metric", "target", "survey", "segment", "start", "due", "owner", "method", "resources", "active"
        ]  # fmt: skip
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "method": forms.Textarea(attrs={"rows": 3}),
            "resources": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.exclude(status=Survey.Status.DRAFT)
        self.fields["survey"].label_from_instance = lambda survey: survey.title(_language())
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


SMALL = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}


def _people(form: forms.Form, *names: str) -> None:
    for name in names:
        form.fields[name].queryset = staff_users()
        form.fields[name].label_from_instance = lambda user: user.get_full_name() or user.get_username()


class ReviewMeetingForm(forms.Form):
    chair = forms.ModelChoiceField(label=_("Chair"), queryset=staff_users(), widget=forms.Select(attrs=SELECT))
    attendees = forms.CharField(
        label=_("Attendees"), max_length=2000, widget=forms.Textarea(attrs={**SMALL, "rows": 3}),
        help_text=_("Names and roles, one a line."),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people(self, "chair")


class ReviewInputForm(forms.Form):
    topic = forms.ChoiceField(label=_("Input"), choices=InputTopic.choices, widget=forms.Select(attrs=SELECT))
    text = forms.CharField(
        label=_("What was found"), max_length=5000, widget=forms.Textarea(attrs={**SMALL, "rows": 2})
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=staff_users(), widget=forms.Select(attrs=SELECT))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people(self, "owner")


class ReviewOutputForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=OutputKind.choices, widget=forms.Select(attrs=SELECT))
    description = forms.CharField(label=_("Output"), max_length=2000, widget=forms.Textarea(attrs={**SMALL, "rows": 2}))
    owner = forms.ModelChoiceField(
        label=_("Action owner"), queryset=staff_users(), required=False, widget=forms.Select(attrs=SELECT)
    )
    due = forms.DateField(
        label=_("Action due by"), required=False, widget=forms.DateInput(attrs={**SMALL, "type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people(self, "owner")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if bool(cleaned.get("owner")) != bool(cleaned.get("due")) and not self.errors:
            self.add_error("due", _("An action needs both an owner and a due date (or neither)."))
        return cleaned


class AnalysisForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    conclusion = forms.CharField(
        label=_("Conclusion"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What these figures show, and what follows from them."),
    )  # fmt: skip


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        for name in ("start", "end"):
            value = cleaned.get(name)
            if value and not EARLIEST <= value <= timezone.localdate() + AHEAD:
                self.add_error(name, _("Choose a date from 2000 to one year from today."))
        if start and end and start > end and not self.errors:
            self.add_error("end", _("The end date must not be before the start date."))
        return cleaned


class OutputActionForm(forms.Form):
    """Makes an output of the review an action: who and by when."""

    owner = forms.ModelChoiceField(label=_("Action owner"), queryset=staff_users(), widget=forms.Select(attrs=SELECT))
    due = forms.DateField(label=_("Action due by"), widget=forms.DateInput(attrs={**SMALL, "type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people(self, "owner")
