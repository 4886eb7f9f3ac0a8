"""Form fields shared by every app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from config.validators import parse_id


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's field, with each submitted id read by parse_id first.

    Django checks the values by querying with them, and SQLite raises OverflowError on an integer beyond 64 bits
    ("1" * 25 in a POST was a 500 page); a single ModelChoiceField is safe on Django 5.2, this one is not. A value
    that is no id is refused as "not one of the available choices", in the reader's language, before any query.
    Use this class for every model multiple-choice field (tests/config/test_forms.py walks the forms for it)."""

    def _check_values(self, value: Iterable[Any]) -> QuerySet[Any]:
        if self.to_field_name in (None, "pk", "id"):
            for pk in value:
                if parse_id(str(pk)) is None:
                    raise ValidationError(
                        self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                    )
        return super()._check_values(value)
