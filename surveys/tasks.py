"""Celery tasks of the surveys app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from surveys.mailing import invitation_email_send


# Idempotent (a sent invitation is never sent again), so acks_late redelivery after a crash is safe.
@shared_task(bind=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def invitation_email(self, invitation_id: int) -> str:  # type: ignore[no-untyped-def]
    return invitation_email_send(invitation_id=invitation_id)
