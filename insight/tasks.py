"""Thin Celery tasks for insight: the sweep of new comments, the recompute after a theme-list change, and the
rollup refresh after a staff correction or an erasure (the sweep and the recompute refresh the rollups themselves)."""

from __future__ import annotations

from celery import shared_task

from insight import pipeline


# Idempotent: each answer has at most one analysis; a run killed half-way is redone by the next.
@shared_task
def comments_sweep() -> int:
    return pipeline.comments_sweep()


@shared_task
def comments_recompute() -> int:
    return pipeline.comments_recompute()


@shared_task
def rollups_refresh() -> int:
    from insight import rollups

    return rollups.rollups_refresh()
