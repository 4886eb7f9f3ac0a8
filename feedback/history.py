"""Field-by-field change lists from django-simple-history, for the case and corrective-action pages."""

from __future__ import annotations

from typing import Any

from django.db import models


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
                    "old": change.old,
                    "new": change.new,
                }
            )
    return changes
