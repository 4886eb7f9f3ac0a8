from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import staff_users
from config.forms import ModelMultipleChoiceField
from config.validators import validate_one_line
from customers.models import Customer
from feedback import rootcause
from feedback.models import (
    ActionEvidence,
    ActionItem,
    CaseStatus,
    Category,
    Channel,
    ComplaintCase,
    Complexity,
    CorrectiveAction,
    EffectivenessReview,
    Impact,
    RootCauseMethod,
    Severity,
    TimeLimit,
)
from insight.models import Theme
from surveys.models import Language, Survey


class _Crispy:
    def _crispy(self) -> None:
        self.helper = FormHelper()
        self.helper.form_tag = False


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


def _categories() -> Any:
    return Category.objects.filter(active=True)


class CaseForm(_Crispy, forms.Form):
    """Logging a complaint taken by phone, email or in person: one page, the usual answers preselected."""

    channel = forms.ChoiceField(
        label=_("Received by"), choices=[c for c in Channel.choices if c[0] != "survey"], initial=Channel.PHONE
    )
    customer = forms.CharField(
        label=_("Existing customer"),
        required=False,
        max_length=254,
        help_text=_("Their email address or external ID, if they are a known customer."),
    )
    contact_name = forms.CharField(label=_("Name"), required=False, max_length=200, validators=[validate_one_line])
    contact_phone = forms.CharField(label=_("Phone"), required=False, max_length=40, validators=[validate_one_line])
    contact_email = forms.EmailField(label=_("Email"), required=False)
    language = forms.ChoiceField(label=_("Customer's language"), choices=Language.choices, initial=Language.VI)
    description = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    remedy_sought = forms.CharField(
        label=_("What the customer asks for"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    product = forms.CharField(
        label=_("Product or service"), required=False, max_length=200, validators=[validate_one_line]
    )
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none(), required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices, initial=Impact.ONE)
    assignee = UserChoiceField(label=_("Assign to"), queryset=staff_users().none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()
        self.fields["assignee"].queryset = staff_users()
        self._crispy()

    def clean_customer(self) -> Customer | None:
        key = self.cleaned_data["customer"].strip()
        if not key:
            return None
        matches = list(Customer.objects.filter(Q(email__iexact=key) | Q(external_id=key))[:2])
        if len(matches) != 1:
            raise ValidationError(_("No single customer has this email address or external ID."))
        return matches[0]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            not data.get("customer")
            and not any(data.get(f) for f in ("contact_name", "contact_phone", "contact_email"))
            and not self.errors.get("customer")
        ):
            raise ValidationError(_("Give the customer, or at least a name, a phone number or an email address."))
        return data


class CaseEditForm(_Crispy, forms.ModelForm):
    # The details as they were when the form was opened (workflow.case_edit_stamp): two people editing at once.
    loaded = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    class Meta:
        model = ComplaintCase
        fields = [
            "product",
            "category",
            "severity",
            "impact",
            "description",
            "remedy_sought",
            "contact_name",
            "contact_phone",
            "contact_email",
            "language",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "remedy_sought": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()
        self._crispy()


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=CaseStatus.choices)
    note = forms.CharField(
        label=_("Internal note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    message = forms.CharField(
        label=_("Message to the customer"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    resolution = forms.CharField(
        label=_("Resolution"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    customer_accepted = forms.TypedChoiceField(
        label=_("Did the customer accept the resolution?"),
        required=False,
        coerce=lambda v: v == "yes",
        empty_value=None,
        choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
    )


class AssessmentForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)
    complexity = forms.ChoiceField(label=_("Complexity"), choices=Complexity.choices)
    immediate_action_needed = forms.TypedChoiceField(
        label=_("Is immediate action needed?"),
        coerce=lambda v: v == "yes",
        choices=[("no", _("No")), ("yes", _("Yes"))],
        widget=forms.RadioSelect,
    )
    immediate_action = forms.CharField(
        label=_("Immediate action"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class AssignForm(forms.Form):
    assignee = UserChoiceField(label=_("Assign to"), queryset=staff_users().none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()


class PublicComplaintForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200, validators=[validate_one_line])
    email = forms.EmailField(
        label=_("Your email"), required=False, help_text=_("We use it to confirm receipt and tell you what we decide.")
    )
    phone = forms.CharField(label=_("Your phone"), required=False, max_length=40, validators=[validate_one_line])
    product = forms.CharField(
        label=_("Product or service concerned"), required=False, max_length=200, validators=[validate_one_line]
    )
    category = forms.ModelChoiceField(label=_("Topic"), queryset=Category.objects.none(), required=False)
    description = forms.CharField(label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000)
    remedy_sought = forms.CharField(
        label=_("What would you like us to do?"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # A field people never see: bots fill it in. No CAPTCHA stands in a customer's way.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args: Any, language: str = "vi", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()
        self.fields["category"].label_from_instance = lambda c: c.name(language)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("email") and not data.get("phone") and not self.errors:
            raise ValidationError(_("Give an email address or a phone number so that we can answer you."))
        return data


class CategoryForm(_Crispy, forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name_vi", "name_en", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._crispy()


class TimeLimitForm(forms.ModelForm):
    class Meta:
        model = TimeLimit
        fields = ["acknowledge_hours", "respond_hours", "close_hours"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ack, respond, close = (data.get(f) for f in self.Meta.fields)
        if None not in (ack, respond, close) and not (0 < ack <= respond <= close):
            raise ValidationError(_("Each limit must be at least one hour and no shorter than the step before it."))
        return data


TimeLimitFormSet = forms.modelformset_factory(TimeLimit, form=TimeLimitForm, extra=0)


class ActionForm(_Crispy, forms.ModelForm):
    # The action as it was when the form was opened (corrective.action_edit_stamp): two people editing at once.
    loaded = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    case_references = forms.CharField(
        label=_("Complaint cases"),
        required=False,
        max_length=2000,
        help_text=_("References separated by commas, e.g. CMP-2026-000123."),
    )
    themes = ModelMultipleChoiceField(
        label=_("Comment themes it addresses"),
        queryset=Theme.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their share of comments is compared before and after the date the action took effect."),
    )

    class Meta:
        model = CorrectiveAction
        fields = ["title", "nonconformity", "owner", "category", "survey", "segment", "effective_from"]
        widgets = {
            "nonconformity": forms.Textarea(attrs={"rows": 4}),
            "effective_from": forms.DateInput(attrs={"type": "date"}),
        }
        field_classes = {"owner": UserChoiceField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()
        self.fields["survey"].queryset = Survey.objects.order_by("-created_at")
        self.fields["effective_from"].help_text = _(
            "The date the action took effect: complaint and detractor rates are compared before and after it."
        )
        if self.instance.pk:
            self.fields["themes"].initial = list(self.instance.themes.values_list("pk", flat=True))
        if self.instance.pk:
            self.fields["case_references"].initial = ", ".join(self.instance.cases.values_list("reference", flat=True))
        self._crispy()

    def clean_case_references(self) -> list[ComplaintCase]:
        refs = [r.strip().upper() for r in self.cleaned_data["case_references"].split(",") if r.strip()]
        cases = list(ComplaintCase.objects.filter(reference__in=refs))
        missing = sorted(set(refs) - {c.reference for c in cases})
        if missing:
            raise ValidationError(_("No case has the reference %(refs)s.") % {"refs": ", ".join(missing)})
        return cases


class ContainmentForm(forms.Form):
    containment = forms.CharField(
        label=_("Correction or containment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(forms.Form):
    needed = forms.TypedChoiceField(
        label=_("Is action needed to remove the cause?"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class RootCauseForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=RootCauseMethod.choices)
    # Optional here: with the five whys, the chain's last "because" stands for it (corrective.py decides).
    root_cause = forms.CharField(
        label=_("Root cause"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )
    # Not required by the form: the service refuses the step without an answer, with its own message.
    similar_possible = forms.ChoiceField(
        label=_("Could similar nonconformities occur elsewhere?"),
        required=False,
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )
    similar = forms.CharField(
        label=_("Similar nonconformities that exist or could occur"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    update_risks = forms.BooleanField(label=_("Update risks and opportunities"), required=False)
    qms_change = forms.BooleanField(label=_("Change to the quality management system needed"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["similar_possible"] = {"yes": True, "no": False}.get(data.get("similar_possible") or "")
        # The method's own fields (why_1 …, fish_people …, d0 …) are read as posted; feedback/rootcause.py checks
        # them in the service, so every caller gets the same rules.
        data["analysis"] = rootcause.analysis_from_post(self.data)
        return data


class EvidenceForm(forms.Form):
    step = forms.ChoiceField(label=_("Step"), choices=ActionEvidence.Step.choices)
    file = forms.FileField(label=_("File"))
    description = forms.CharField(
        label=_("What it shows"), required=False, max_length=300, validators=[validate_one_line]
    )


class ItemForm(forms.Form):
    description = forms.CharField(label=_("Action"), max_length=500)
    owner = UserChoiceField(label=_("Owner"), queryset=staff_users().none())
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()


class ItemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)


class ReviewForm(forms.Form):
    method = forms.CharField(label=_("How effectiveness was checked"), max_length=300)
    evidence = forms.CharField(label=_("Evidence"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))
    reviewed_on = forms.DateField(
        label=_("Review date"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    result = forms.ChoiceField(label=_("Result"), choices=EffectivenessReview.Result.choices, widget=forms.RadioSelect)
    justification = forms.CharField(
        label=_("Justification (when the data do not show it effective)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it reopened?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the audit trail and shown on this page."),
    )


WEEKDAYS = [
    ("1", _("Monday")),
    ("2", _("Tuesday")),
    ("3", _("Wednesday")),
    ("4", _("Thursday")),
    ("5", _("Friday")),
    ("6", _("Saturday")),
    ("7", _("Sunday")),
]


class CalendarForm(_Crispy, forms.Form):
    work_start = forms.TimeField(label=_("Working day starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    work_end = forms.TimeField(label=_("Working day ends"), widget=forms.TimeInput(attrs={"type": "time"}))
    working_days = forms.MultipleChoiceField(
        label=_("Working days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    escalate_managers_after = forms.IntegerField(
        label=_("Escalate to quality managers after (working hours overdue)"), min_value=0, max_value=2000
    )
    escalate_top_after = forms.IntegerField(
        label=_("Escalate to top management after (working hours overdue)"), min_value=1, max_value=5000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._crispy()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("work_start"), data.get("work_end")
        if start and end and start >= end:
            self.add_error("work_end", _("The working day must end after it starts."))
        managers, top = data.get("escalate_managers_after"), data.get("escalate_top_after")
        if managers is not None and top is not None and top <= managers:
            self.add_error("escalate_top_after", _("Top management comes after the quality managers: give more hours."))
        return data


class HolidayForm(_Crispy, forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name_vi = forms.CharField(label=_("Name (Vietnamese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._crispy()
