"""Emailing one invitation link or a reminder of it (delivery.py sends many through one connection)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from surveys.campaigns.messages import invitation_message
from surveys.campaigns.smtp import smtp_temporary, smtp_words
from surveys.invitations import invitation_token
from surveys.models import Invitation


def invitation_email_send(*, invitation_id: int, reminder: bool = False, connection=None) -> str:  # type: ignore[no-untyped-def]
    """Send the invitation's link (or a reminder of it). Returns what happened: "sent", or why not.

    Idempotent: the invitation's state is checked and moved under a row lock, so a re-run task or a second worker
    never sends it twice. `connection` lets a campaign's chunk reuse one SMTP connection for many messages.
    """
    now = timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("survey", "customer", "survey__current_version", "campaign")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None:
            return "missing"
        first = (Invitation.Status.QUEUED, Invitation.Status.DEFERRED)
        expected = (Invitation.Status.SENT, Invitation.Status.OPENED) if reminder else first
        if invitation.answered_at is not None:
            return "answered"
        if invitation.status not in expected:
            return "already-sent" if not reminder else "not-remindable"
        if reminder and not _reminder_due(invitation, now):
            return "not-due"  # another run reminded it first
        customer = invitation.customer
        if customer.opted_out_at is not None:
            invitation.status, invitation.status_reason = Invitation.Status.SKIPPED, Invitation.Skip.OPTED_OUT
            invitation.save(update_fields=["status", "status_reason"])
            return "opted-out"
        if not customer.email:
            invitation.status, invitation.status_reason = Invitation.Status.SKIPPED, Invitation.Skip.INVALID_ADDRESS
            invitation.save(update_fields=["status", "status_reason"])
            return "no-address"
        token = invitation_token(invitation)
        message = invitation_message(invitation, token, reminder)
        try:
            message.send() if connection is None else connection.send_messages([message])
        except Exception as error:  # noqa: BLE001 - any refusal by the mail server is recorded on the invitation
            if reminder:
                if smtp_temporary(error):
                    return "deferred"  # the next reminder run tries again: reminders_sent did not move
                invitation.status, invitation.status_reason = Invitation.Status.FAILED, smtp_words(error)
                invitation.save(update_fields=["status", "status_reason"])
                return "failed"
            return _first_send_failed(invitation, error, now)
        if reminder:
            invitation.reminders_sent += 1
        else:
            invitation.status, invitation.sent_at, invitation.status_reason = Invitation.Status.SENT, now, ""
            invitation.attempts += 1
        invitation.last_sent_at = now
        invitation.save(
            update_fields=["status", "sent_at", "reminders_sent", "last_sent_at", "status_reason", "attempts"]
        )
    return "sent"


def retry_delay(attempts: int) -> timedelta:
    """After the n-th temporary refusal: 1, 2, 4 ... minutes, then hourly (INVITATION_RETRY_* settings)."""
    seconds = settings.INVITATION_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.INVITATION_RETRY_MAX_SECONDS))


def _first_send_failed(invitation: Invitation, error: Exception, now) -> str:  # type: ignore[no-untyped-def]
    """One invitation's first email refused: deferred with its next attempt (temporary), or failed (permanent, or
    deferred too many times), with the server's words. The task (surveys/tasks.py) asks the outbox to run it
    again at the next attempt."""
    invitation.attempts += 1
    invitation.status_reason = smtp_words(error)
    if smtp_temporary(error) and invitation.attempts < settings.INVITATION_MAX_ATTEMPTS:
        invitation.status = Invitation.Status.DEFERRED
        invitation.next_attempt_at = now + retry_delay(invitation.attempts)
        invitation.save(update_fields=["status", "status_reason", "attempts", "next_attempt_at"])
        return "deferred"
    invitation.status = Invitation.Status.FAILED
    invitation.save(update_fields=["status", "status_reason", "attempts"])
    return "failed"


def _reminder_due(invitation: Invitation, now) -> bool:  # type: ignore[no-untyped-def]
    campaign = invitation.campaign
    if campaign is None or campaign.remind_after_days is None or invitation.last_sent_at is None:
        return False
    waited = invitation.last_sent_at <= now - timedelta(days=campaign.remind_after_days)
    return waited and invitation.reminders_sent < campaign.max_reminders and invitation.expires_at > now


# Markers for what differs per message. Plain ASCII letters, so they pass URL quoting, HTML escaping and MIME
# generation unchanged and can be replaced in a rendered message's bytes too.
