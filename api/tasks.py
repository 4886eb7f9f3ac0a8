"""Thin Celery tasks of the API: housekeeping of the call log."""

from __future__ import annotations

from celery import shared_task


@shared_task
def api_calls_remove_old() -> int:
    from api.middleware import api_calls_remove_old as remove

    return remove()
