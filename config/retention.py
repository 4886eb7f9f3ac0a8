"""Rows kept for a while, then removed: deleted oldest first in short statements, so that no lock is held long and a
run stopped half-way has removed only whole batches."""

from __future__ import annotations

from django.db.models import QuerySet

BATCH = 5000


def delete_in_batches(rows: QuerySet, batch: int = BATCH) -> int:
    """Delete the rows of `rows`, lowest ids first, `batch` at a time (each batch one statement, committed on its
    own outside a transaction); returns how many went."""
    removed = 0
    while True:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return removed
        removed += rows.model.objects.filter(pk__in=ids).delete()[0]
