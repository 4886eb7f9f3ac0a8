from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import ModelMultipleChoiceField
from insight.models import Sentiment, Theme


class ThemeForm(forms.Form):
    name_vi = forms.CharField(label=_("Name (Vietnamese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    examples = forms.CharField(
        label=_("Example phrases"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One a line, in Vietnamese or English: what a customer might write about this theme."),
    )
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("name_vi", "name_en", "examples"):
            if any(ord(c) < 32 and c not in "\r\n\t" for c in data.get(name, "")):
                self.add_error(name, _("Control characters are not allowed."))
        return data


class CorrectionForm(forms.Form):
    themes = ModelMultipleChoiceField(
        label=_("Themes"),
        queryset=Theme.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked if the comment is about none of them."),
    )
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), choices=[("", _("As the model read it")), *Sentiment.choices], required=False
    )
