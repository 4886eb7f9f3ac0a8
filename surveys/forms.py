from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.validators import validate_one_line
from customers.models import Customer
from surveys.models import Campaign, Question, Survey
from surveys.scoring import CHOICE_KINDS, QuestionKind, SurveyKind


class _Crispy:
    def _helper(self) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        return helper


class SurveyCreateForm(_Crispy, forms.Form):
    kind = forms.ChoiceField(label=_("What does this survey measure?"), choices=SurveyKind.choices)
    title_vi = forms.CharField(label=_("Title (Vietnamese)"), max_length=200, validators=[validate_one_line])
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, validators=[validate_one_line])
    intro_vi = forms.CharField(
        label=_("Introduction (Vietnamese)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    intro_en = forms.CharField(
        label=_("Introduction (English)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    with_comment = forms.BooleanField(
        label=_("Add a question asking for the reason of the score"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self._helper()


class SurveyEditForm(_Crispy, forms.ModelForm):
    class Meta:
        model = Survey
        fields = [
            "title_vi",
            "title_en",
            "intro_vi",
            "intro_en",
            "closed_loop",
            "nps_detractor_max",
            "csat_detractor_max",
            "ces_detractor_min",
            # The plan (ISO 10004): purpose, scope, population, method and channel, frequency, sample target.
            "plan_purpose",
            "plan_scope",
            "plan_population",
            "plan_method",
            "plan_frequency",
            "plan_sample_target",
        ]
        widgets = {
            "intro_vi": forms.Textarea(attrs={"rows": 2}),
            "intro_en": forms.Textarea(attrs={"rows": 2}),
            "plan_purpose": forms.Textarea(attrs={"rows": 2}),
            "plan_scope": forms.Textarea(attrs={"rows": 2}),
            "plan_population": forms.Textarea(attrs={"rows": 2}),
        }
        # These thresholds decide which answers open a case, nothing else: every figure (NPS, detractor share,
        # effectiveness, review pack) counts the standard bands (scoring.DETRACTOR_BANDS). Saying so beside the
        # field keeps a quality manager from expecting "detractor up to 7" to move the NPS.
        help_texts = {
            "nps_detractor_max": _(
                "Answers up to this score open a case. The NPS and every detractor figure count 0–6, "
                "whatever is set here."
            ),
            "csat_detractor_max": _(
                "Answers up to this score open a case. Every dissatisfied figure counts 1–2, whatever is set here."
            ),
            "ces_detractor_min": _(
                "Answers from this score open a case. Every high-effort figure counts 6–7, whatever is set here."
            ),
        }

    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=500,
        help_text=_("Kept in the audit trail with the version the change applies to."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self._helper()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The closed loop's thresholds stay on their fixed scales (NPS 0–10, CSAT 1–5, CES 1–7).
        bounds = {"nps_detractor_max": (0, 9), "csat_detractor_max": (1, 4), "ces_detractor_min": (2, 7)}
        for name, (low, high) in bounds.items():
            value = data.get(name)
            if value is not None and not low <= value <= high:
                self.add_error(name, _("Choose a value from %(low)s to %(high)s.") % {"low": low, "high": high})
        return data


class QuestionForm(_Crispy, forms.Form):
    kind = forms.ChoiceField(label=_("Question type"), choices=QuestionKind.choices)
    text_vi = forms.CharField(label=_("Question (Vietnamese)"), max_length=500, required=False)
    text_en = forms.CharField(label=_("Question (English)"), max_length=500, required=False)
    required = forms.BooleanField(label=_("An answer is required"), required=False, initial=True)
    choices_vi = forms.CharField(
        label=_("Options (Vietnamese), one per line"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("For single and multiple choice questions."),
    )
    choices_en = forms.CharField(
        label=_("Options (English), one per line, in the same order"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    scale_min = forms.IntegerField(
        label=_("Lowest value"),
        required=False,
        min_value=0,
        max_value=10,
        help_text=_("For rating questions. NPS, CSAT and CES scales are fixed."),
    )
    scale_max = forms.IntegerField(label=_("Highest value"), required=False, min_value=1, max_value=10)
    show_if_min = forms.IntegerField(
        label=_("Ask only after a score from"),
        required=False,
        min_value=0,
        max_value=10,
        help_text=_(
            "A follow-up: asked only when the score question above it gets a score in this range, e.g. 0 to 6 "
            "for NPS detractors, 9 to 10 for promoters. Leave both empty to always ask."
        ),
    )
    show_if_max = forms.IntegerField(label=_("to"), required=False, min_value=0, max_value=10)

    # Which fields belong to which question types; the others are hidden (by the server, and live by question.js).
    KIND_FIELDS = {
        "choices": (("choices_vi", "choices_en"), sorted(CHOICE_KINDS)),
        "scale": (("scale_min", "scale_max"), [QuestionKind.RATING.value]),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self._helper()
        kind = self.chosen_kind()
        groups = []
        for name, (fields, kinds) in self.KIND_FIELDS.items():
            attrs = {"data_kinds": " ".join(kinds), "css_id": f"fields-{name}"}
            if kind not in kinds:
                attrs["hidden"] = "hidden"
            groups.append(Div(*fields, **attrs))
        follow_up = Div("show_if_min", "show_if_max", css_class="follow-up-range")
        self.helper.layout = Layout("kind", "text_vi", "text_en", "required", *groups, follow_up)

    def chosen_kind(self) -> str:
        """The type the form is showing: what was posted, else the initial one; NPS for a new question."""
        raw = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        return raw if raw in QuestionKind.values else QuestionKind.NPS.value

    @classmethod
    def initial_for(cls, question: Question) -> dict[str, Any]:
        return {
            "kind": question.kind,
            "text_vi": question.text_vi,
            "text_en": question.text_en,
            "required": question.required,
            "choices_vi": "\n".join(c.get("vi", "") for c in question.choices),
            "choices_en": "\n".join(c.get("en", "") for c in question.choices),
            "scale_min": question.scale_min if question.kind == QuestionKind.RATING else None,
            "scale_max": question.scale_max if question.kind == QuestionKind.RATING else None,
            "show_if_min": question.show_if_min,
            "show_if_max": question.show_if_max,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") in CHOICE_KINDS:
            vi = [line.strip() for line in (data.get("choices_vi") or "").splitlines()]
            en = [line.strip() for line in (data.get("choices_en") or "").splitlines()]
            if vi and en and len([v for v in vi if v]) != len([e for e in en if e]):
                raise ValidationError(_("Give the same number of options in both languages, one per line."))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        vi = [line.strip() for line in (data.get("choices_vi") or "").splitlines() if line.strip()]
        en = [line.strip() for line in (data.get("choices_en") or "").splitlines() if line.strip()]
        count = max(len(vi), len(en))
        choices = [{"vi": vi[i] if i < len(vi) else "", "en": en[i] if i < len(en) else ""} for i in range(count)]
        return {
            "kind": data["kind"],
            "text_vi": data.get("text_vi") or "",
            "text_en": data.get("text_en") or "",
            "required": bool(data.get("required")),
            "choices": choices,
            "scale_min": data.get("scale_min"),
            "scale_max": data.get("scale_max"),
            "show_if_min": data.get("show_if_min"),
            "show_if_max": data.get("show_if_max"),
        }


class InvitationForm(_Crispy, forms.Form):
    customer = forms.CharField(
        label=_("Customer"),
        max_length=254,
        help_text=_("The customer's email address or external ID."),
    )
    expires_in_days = forms.IntegerField(label=_("Link valid for (days)"), min_value=1, max_value=365, initial=30)
    send_email = forms.BooleanField(label=_("Email the link to the customer now"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = self._helper()

    def clean_customer(self) -> Customer:
        key = self.cleaned_data["customer"].strip()
        matches = list(Customer.objects.filter(Q(email__iexact=key) | Q(external_id=key))[:2])
        if not matches:
            raise ValidationError(_("No customer has this email address or external ID."))
        if len(matches) > 1:
            raise ValidationError(_("Several customers share this email address: use the external ID."))
        return matches[0]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        customer = data.get("customer")
        if data.get("send_email") and isinstance(customer, Customer) and not customer.email:
            self.add_error("send_email", _("This customer has no email address."))
        return data


class CampaignForm(_Crispy, forms.ModelForm):
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to send now."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "segment",
            "language",
            "customer_type",
            "audience_list",
            "send_at",
            "expiry_days",
            "remind_after_days",
            "max_reminders",
        ]
        widgets = {"audience_list": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "segment": _("Leave the filters empty to send to every customer."),
            "audience_list": _("Optional: emails or external IDs, one per line; only these customers are invited."),
            "remind_after_days": _("Leave empty for no reminders."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._helper_set()

    def _helper_set(self) -> None:
        self.helper = self._helper()
        # Suggest the segments customers have (a <datalist> on the page), while allowing any text.
        self.fields["segment"].widget.attrs["list"] = "segment-options"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not 1 <= (data.get("expiry_days") or 0) <= 365:
            self.add_error("expiry_days", _("A link can stay valid for 1 to 365 days."))
        remind = data.get("remind_after_days")
        if remind is not None and not 1 <= remind < (data.get("expiry_days") or 0):
            self.add_error("remind_after_days", _("Remind after at least one day, and before the links expire."))
        if not 0 <= (data.get("max_reminders") or 0) <= 5:
            self.add_error("max_reminders", _("Send at most 5 reminders."))
        return data
