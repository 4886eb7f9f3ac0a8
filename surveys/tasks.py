"""Celery tasks of the surveys app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from surveys.mailing import invitation_email_send


# Idempotent (a sent invitation is never sent again), so acks_late redelivery after a crash is safe.
@shared_task(bind=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def invitation_email(self, invitation_id: int) -> str:  # type: ignore[no-untyped-def]
    return invitation_email_send(invitation_id=invitation_id)


@shared_task(bind=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def campaign_send_chunk(self, invitation_ids: list[int], reminder: bool = False) -> dict[str, int]:  # type: ignore[no-untyped-def]
    # Idempotent per invitation (its state is checked under a lock), so a retried chunk sends only what is left.
    from surveys.campaigns import send_chunk

    return send_chunk(invitation_ids, reminder=reminder)


@shared_task
def campaigns_start_due() -> int:
    from surveys.campaigns import campaigns_start_due as run

    return run()


@shared_task
def send_reminders() -> int:
    from surveys.campaigns import send_reminders as run

    return run()


@shared_task
def expire_invitations() -> int:
    from surveys.campaigns import expire_invitations as run

    return run()


@shared_task
def reconcile_stopped_sends() -> int:
    from surveys.campaigns import reconcile_stopped_sends as run

    return run()


@shared_task(bind=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def contact_claim_email(self, claim_id: int) -> str:  # type: ignore[no-untyped-def]
    # Idempotent: a claim is mailed once (mailed_at, under a row lock).
    from surveys.public import contact_claim_email_send

    return contact_claim_email_send(claim_id=claim_id)
