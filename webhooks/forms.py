from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Receiver URL"),
        max_length=500,
        help_text=_("An https:// address of your CRM, helpdesk or integration platform that accepts POST requests."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )


class DisableForm(forms.Form):
    reason = forms.CharField(label=_("Why (optional)"), max_length=300, required=False)
