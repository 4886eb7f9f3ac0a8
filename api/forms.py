from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import ApiKey
from config.validators import validate_one_line


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Integration"),
        max_length=100,
        validators=[validate_one_line],
        help_text=_("What will use the key, e.g. “CRM” or “Helpdesk”."),
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiKey.Scope.choices, initial=ApiKey.Scope.READ)
