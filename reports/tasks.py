"""Thin Celery tasks: the rollup refresh (requested after responses, and run by beat)."""

from __future__ import annotations

from celery import shared_task

from reports import rollup


# acks_late + idempotent: a refresh killed half-way rolls back and the next one redoes it.
@shared_task
def rollup_refresh() -> int:
    return rollup.rollup_refresh()


@shared_task
def alerts_check() -> int:
    # Beat, every ten minutes: on fresh rollups; idempotent, each event is recorded and emailed once.
    from reports.alerts import alerts_check as check

    rollup.rollup_refresh()
    return check()


@shared_task(bind=True, max_retries=3, retry_backoff=True, autoretry_for=(OSError,))
def export_run(self, job_id: int) -> str:  # type: ignore[no-untyped-def]
    from reports.exports import export_run as run

    return run(job_id)


@shared_task
def exports_remove_old() -> int:
    from reports.exports import exports_remove_old as run

    return run()
