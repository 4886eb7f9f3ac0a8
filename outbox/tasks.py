"""Thin Celery tasks of the outbox: the dispatcher (beat, and asked for after commits) and one row's run."""

from __future__ import annotations

from celery import shared_task

from outbox import dispatch


@shared_task
def outbox_dispatch() -> int:
    return dispatch.outbox_dispatch()


@shared_task
def outbox_run(message_id: int) -> str:
    return dispatch.outbox_run(message_id)


@shared_task
def outbox_remove_done() -> int:
    return dispatch.outbox_remove_done()
