"""The one-row tables that serialise a background job (a watermark and its lock): take the row, or step aside.

A sweep (the closed loop's, the rollups') locks its row for each batch so that two never do the same work. Waiting
for that lock kept a worker child idle for up to the lock timeout while another sweep ran, and under load after an
outage both children of a worker sat in sweeps, one waiting, while rollups and acknowledgements queued behind
them. A sweep that finds the row taken now returns at once; the one that holds it carries on, and the caller asks
for another run later so that nothing arriving at the end of the running one is left for beat.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def lock_or_none(model: type[M]) -> M | None:
    """Row 1 of `model`, locked until the end of the transaction; None when another transaction holds it.
    Must be called inside `transaction.atomic()`. Where the database has no row locks (SQLite), always the row."""
    row = model.objects.select_for_update(skip_locked=True).filter(pk=1).first()
    if row is None and not model.objects.filter(pk=1).exists():
        model.objects.get_or_create(pk=1)
        row = model.objects.select_for_update(skip_locked=True).filter(pk=1).first()
    return row


def again_later(request) -> None:  # type: ignore[no-untyped-def]
    """Ask for another run, unless tasks run in-process (there the holder is this very process's caller)."""
    from config.celery import app

    if not app.conf.task_always_eager:
        request()
