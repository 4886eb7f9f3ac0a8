"""Celery tasks of the surveys app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from outbox.dispatch import RunLater
from surveys.campaigns import invitation_email_send
from surveys.models import Invitation


# Run through the outbox (invitations.invitation_email_now). Idempotent: a sent invitation is never sent again.
@shared_task
def invitation_email(invitation_id: int) -> str:
    outcome = invitation_email_send(invitation_id=invitation_id)
    if outcome == "deferred":  # the server said "later": the outbox runs this again at the invitation's next try
        invitation = Invitation.objects.get(pk=invitation_id)
        assert invitation.next_attempt_at is not None
        raise RunLater(invitation.next_attempt_at, invitation.status_reason)
    return outcome


# No task-level retries: every SMTP outcome is recorded on the invitations (deferred with its next attempt, or
# failed with the server's words), and the dispatcher hands out again whatever is due or whose lease ran out.
# A short hard limit, below the invitation lease, so a stuck chunk ends before the dispatcher re-queues its rows.
@shared_task(soft_time_limit=240, time_limit=300)
def campaign_send_chunk(invitation_ids: list[int], reminder: bool = False) -> dict[str, int]:
    from surveys.campaigns import send_chunk

    return send_chunk(invitation_ids, reminder=reminder)


@shared_task
def invitations_dispatch() -> int:
    from surveys.campaigns import invitations_dispatch as run

    return run()


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


# Run through the outbox (public.contact_claim_create), which retries a failure with backoff. Idempotent: a claim
# is mailed once (mailed_at, under a row lock).
@shared_task
def contact_claim_email(claim_id: int) -> str:
    from surveys.public import contact_claim_email_send

    return contact_claim_email_send(claim_id=claim_id)
