"""Thin Celery tasks: the rollup refresh (requested after responses, and run by beat)."""

from __future__ import annotations

from celery import shared_task

from reports import rollup


# acks_late + idempotent: a refresh killed half-way rolls back and the next one redoes it.
@shared_task
def rollup_refresh() -> int:
    return rollup.rollup_refresh()
