"""Rows kept for a while, then removed: deleted oldest first in short statements, so that no lock is held long and a
run stopped half-way has removed only whole batches."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

BATCH = 5000


def kept_since(days: int, now: datetime | None = None) -> datetime:
    """The oldest moment a row kept `days` days is still kept at."""
    return (now or timezone.now()) - timedelta(days=days)


def delete_in_batches(rows: QuerySet, batch: int | None = None) -> int:
    """Delete the rows of `rows`, lowest ids first, `batch` (BATCH) at a time, each batch one statement (committed
    on its own when called outside a transaction); returns how many went."""
    size = batch or BATCH
    removed = 0
    while True:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return removed
        removed += rows.model.objects.filter(pk__in=ids).delete()[0]
