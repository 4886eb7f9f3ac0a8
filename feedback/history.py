"""Field-by-field change lists from django-simple-history, for the case and corrective-action pages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from feedback.rootcause import analysis_summary


def _readable(field: Any, value: Any) -> str:
    """A stored value as a person reads it: labels for choices, names for links, local dates, yes/no."""
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(field, models.JSONField):
        # The root-cause record is a dict; its Python form ("{'whys': [...]}") means nothing to a reader.
        return (analysis_summary(value) if isinstance(value, dict) else "") or "—"
    if isinstance(field, models.ManyToManyField):
        target = field.related_model
        ids = [row.get(target._meta.model_name) for row in value if isinstance(row, dict)]
        return ", ".join(str(obj) for obj in target.objects.filter(pk__in=ids)) or "—"
    if field.is_relation:
        obj = field.related_model.objects.filter(pk=value).first()
        return str(obj) if obj is not None else "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal | float):
        return formats.localize(value)
    return str(value)


def field_changes(instance: models.Model, limit: int = 200) -> list[dict[str, Any]]:
    """Every recorded change of every field, oldest first: when, who, which field, before and after."""
    records = list(instance.history.select_related("history_user").order_by("history_date")[:limit])
    changes = []
    for newer, older in zip(records[1:], records[:-1], strict=False):
        for change in newer.diff_against(older).changes:
            field = instance._meta.get_field(change.field)
            changes.append(
                {
                    "at": newer.history_date,
                    "who": newer.history_user,
                    "field": getattr(field, "verbose_name", change.field),
                    "old": _readable(field, change.old),
                    "new": _readable(field, change.new),
                }
            )
    return changes
