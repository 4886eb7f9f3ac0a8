"""Delivery of invitations as a state machine with time: queued → sending (claimed, with a lease) → sent /
deferred (temporary refusal, retried with backoff) → failed (permanent, with the server's words). The dispatcher
hands out chunks; each chunk goes over one reused SMTP connection. Reminders and expiry too. Every step records its
outcome on the invitations, so each periodic task can run twice, or after a crash, and only do what is undone."""

from __future__ import annotations

import contextlib
import smtplib
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from surveys.campaigns.mailing import invitation_email_send, retry_delay
from surveys.campaigns.messages import campaign_templates
from surveys.campaigns.smtp import courier_for, smtp_temporary, smtp_words
from surveys.invitations import invitation_token
from surveys.models import Campaign, Invitation

S, Skip = Invitation.Status, Invitation.Skip
CHUNK = 200
# States in which an invitation still awaits an answer (or its email): past the expiry they become expired.
WAITING = (S.QUEUED, S.DEFERRED, S.SENT, S.OPENED)
# The reason of an invitation whose lease ran out too often: the worker sending it kept stopping.
WORKER_STOPPED = "worker-stopped"


def request_dispatch() -> None:
    from config.debounce import Debounced
    from surveys.tasks import invitations_dispatch

    Debounced(invitations_dispatch, 1.0).request()


# States in which an invitation of a sending campaign still has delivery work ahead.
UNDELIVERED = (S.QUEUED, S.SENDING, S.DEFERRED)
DISPATCH_LIMIT = 100_000  # invitations handed out per dispatcher run (500 chunk messages)


def _lease() -> timedelta:
    return timedelta(seconds=settings.INVITATION_SEND_LEASE_SECONDS)


def invitations_dispatch(now: datetime | None = None) -> int:
    """Beat, every few seconds: the delivery state machine's clock. Returns how many invitations it handed out.

    - sending past its lease (the worker was killed or lost): queued again — sent again, so a crash between the
      server's 250 and our record costs a duplicate, never a loss — or failed after the last attempt;
    - deferred whose next attempt has come: queued again;
    - queued and not handed out (or handed out a lease ago, the message lost with Redis): sent to workers in
      chunks, each invitation leased so the next run does not hand it out twice;
    - a campaign with nothing queued, sending or deferred: sent.
    """
    from surveys.tasks import campaign_send_chunk

    now = now or timezone.now()
    sending = list(Campaign.objects.filter(status=Campaign.Status.SENDING).values_list("pk", flat=True))
    if not sending:
        return 0
    ours = Invitation.objects.filter(campaign_id__in=sending)
    ended = ours.filter(status=S.SENDING, lease_until__lt=now)
    ended.filter(attempts__gte=settings.INVITATION_MAX_ATTEMPTS).update(
        status=S.FAILED, status_reason=WORKER_STOPPED, lease_until=None
    )
    ended.update(status=S.QUEUED, lease_until=None)
    ours.filter(status=S.DEFERRED, next_attempt_at__lte=now).update(status=S.QUEUED, lease_until=None)
    with transaction.atomic():
        due = list(
            ours.filter(status=S.QUEUED)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:DISPATCH_LIMIT]
        )
        Invitation.objects.filter(pk__in=due).update(lease_until=now + _lease())
    # Published after the leases commit: a worker that starts a chunk at once must not find its rows still locked
    # (it would skip them as handled by someone else, and they would wait for the lease to end).
    chunks = [due[i : i + CHUNK] for i in range(0, len(due), CHUNK)]
    for number, chunk in enumerate(chunks):
        try:
            campaign_send_chunk.apply_async(args=[chunk])
        except Exception:
            # The broker is away: what was not handed out is due again at the next run.
            rest = [pk for later in chunks[number:] for pk in later]
            Invitation.objects.filter(pk__in=rest, status=S.QUEUED).update(lease_until=None)
            raise
    handed = len(due)
    _finish_campaigns_by_id(sending)
    return handed


def send_chunk(invitation_ids: list[int], *, reminder: bool = False) -> dict[str, int]:
    """Send (or remind) these invitations over one SMTP connection. Already-handled ones are left alone."""
    if reminder:
        outcomes: dict[str, int] = {}
        connection = get_connection()
        connection.open()
        try:
            for invitation_id in invitation_ids:
                outcome = invitation_email_send(invitation_id=invitation_id, reminder=True, connection=connection)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        finally:
            connection.close()
        return outcomes
    outcomes = _send_first(invitation_ids)
    _finish_campaigns(invitation_ids)
    return outcomes


def _send_first(invitation_ids: list[int]) -> dict[str, int]:
    """The bulk path: claim the queued ones with a lease, send them over one connection, record each outcome as
    soon as the server gives it.

    Claiming (queued → sending) under row locks makes a re-run or a second worker skip them: each is emailed at
    most once per attempt. Each outcome is written right after the server's reply, so a worker killed mid-chunk
    leaves only unrecorded what the server had not answered or what we had not written yet: at most the message
    whose 250 was just read and, with pipelining, the one in flight behind it. The dispatcher re-queues them when
    the lease ends, so the worst case is a duplicate of those (at most two per crash), never a loss
    (tests/integration/test_delivery_faults.py). A temporary refusal (4xx, refused connection, timeout, dropped
    connection) defers with backoff; a permanent one (5xx) fails with the server's words.
    """
    now = timezone.now()
    with transaction.atomic():
        invitations = list(
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=invitation_ids, status=S.QUEUED)
            .select_related("customer", "survey")
            .order_by("pk")
        )
        Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
            status=S.SENDING, claimed_at=now, lease_until=now + _lease(), attempts=F("attempts") + 1
        )
    for invitation in invitations:
        invitation.attempts += 1
    outcomes: dict[str, int] = {}
    if len(invitations) < len(invitation_ids):
        outcomes["already-sent"] = len(invitation_ids) - len(invitations)
    if not invitations:
        return outcomes
    delivery = _Delivery(invitations, outcomes)
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 - unreachable server: the whole chunk waits for its next attempt
        delivery.defer_rest(error)
        return outcomes
    try:
        delivery.send_all(connection)
    except Exception as error:
        if not _connection_lost(error):
            raise  # the lease ends and the dispatcher re-queues what is left
        delivery.defer_rest(error)  # what the server had not answered, and what was not sent yet
    finally:
        with contextlib.suppress(OSError):  # the connection may already be gone
            connection.close()
    return outcomes


class _Delivery:
    """One chunk's messages and the record of each outcome (see _send_first)."""

    def __init__(self, invitations: list[Invitation], outcomes: dict[str, int]) -> None:
        self.invitations = {i.pk: i for i in invitations}
        self.open = set(self.invitations)  # claimed, outcome not yet recorded
        self.outcomes = outcomes
        self.renewed = time.monotonic()

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def _update(self, pk: int, **fields: Any) -> None:
        self.open.discard(pk)
        Invitation.objects.filter(pk=pk, status=S.SENDING).update(lease_until=None, **fields)

    def sent(self, pk: int) -> None:
        now = timezone.now()
        self._update(pk, status=S.SENT, sent_at=now, last_sent_at=now, status_reason="", next_attempt_at=None)
        self._count("sent")

    def refused(self, pk: int, error: Exception) -> None:
        invitation = self.invitations[pk]
        words = smtp_words(error)
        if smtp_temporary(error) and invitation.attempts < settings.INVITATION_MAX_ATTEMPTS:
            later = timezone.now() + retry_delay(invitation.attempts)
            self._update(pk, status=S.DEFERRED, status_reason=words, next_attempt_at=later)
            self._count("deferred")
        else:
            self._update(pk, status=S.FAILED, status_reason=words)
            self._count("failed")

    def skipped(self, pk: int, reason: str) -> None:
        self._update(pk, status=S.SKIPPED, status_reason=reason)
        self._count("skipped")

    def defer_rest(self, error: Exception) -> None:
        for pk in sorted(self.open):
            self.refused(pk, error)

    def renew(self) -> None:
        """Keep the lease of what is still ours while the chunk runs (a slow server must not look like a crash)."""
        if time.monotonic() - self.renewed < settings.INVITATION_SEND_LEASE_SECONDS / 3:
            return
        self.renewed = time.monotonic()
        Invitation.objects.filter(pk__in=self.open, status=S.SENDING).update(lease_until=timezone.now() + _lease())

    def settle(self, results: list[tuple[int, Exception | None]]) -> None:
        for pk, error in results:
            if error is None:
                self.sent(pk)
            else:
                self.refused(pk, error)

    def send_all(self, connection: Any) -> None:
        templates = campaign_templates()
        courier = courier_for(connection)
        for invitation in self.invitations.values():
            self.renew()
            customer = invitation.customer
            if customer.opted_out_at is not None or not customer.email:
                self.skipped(invitation.pk, Skip.OPTED_OUT if customer.opted_out_at else Skip.INVALID_ADDRESS)
                continue
            token = invitation_token(invitation)
            wire = templates.wire(invitation, token) if courier else None
            try:
                if courier is not None and wire is not None:
                    courier.send(invitation.pk, wire[0], customer.email, wire[1])
                else:  # file and test backends, or a message the prepared bytes cannot carry
                    if courier:
                        courier.finish()
                        self.settle(courier.settled())
                    connection.send_messages([templates.message(invitation, token)])
                    self.sent(invitation.pk)
            except Exception as error:
                if _connection_lost(error):
                    if courier:
                        self.settle(courier.settled())
                    raise
                self.refused(invitation.pk, error)
            if courier:
                self.settle(courier.settled())
        if courier:
            courier.finish()
            self.settle(courier.settled())


def _connection_lost(error: Exception) -> bool:
    """A dropped or broken connection (retry the rest later), as opposed to a refusal of one message."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _finish_campaigns(invitation_ids: list[int]) -> None:
    campaign_ids = set(Invitation.objects.filter(pk__in=invitation_ids).values_list("campaign_id", flat=True))
    _finish_campaigns_by_id(list(campaign_ids - {None}))


def _finish_campaigns_by_id(campaign_ids: list[int]) -> None:
    """A campaign is sent only when none of its invitations is queued, sending or deferred."""
    for campaign in Campaign.objects.filter(pk__in=campaign_ids, status=Campaign.Status.SENDING):
        if not campaign.invitations.filter(status__in=UNDELIVERED).exists():
            Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
                status=Campaign.Status.SENT, finished_at=timezone.now()
            )


def reminders_due(now: datetime | None = None) -> list[int]:
    """Invitations to remind now: unanswered, unexpired, the campaign's wait passed, below its reminder limit."""
    now = now or timezone.now()
    due = []
    candidates = (
        Invitation.objects.filter(
            status__in=(S.SENT, S.OPENED),
            expires_at__gt=now,
            campaign__remind_after_days__isnull=False,
            customer__opted_out_at__isnull=True,
        )
        .select_related("campaign")
        .only("id", "last_sent_at", "reminders_sent", "campaign__remind_after_days", "campaign__max_reminders")
    )
    for invitation in candidates.iterator(chunk_size=2000):
        campaign = invitation.campaign
        wait = timedelta(days=campaign.remind_after_days)
        last = invitation.last_sent_at
        if invitation.reminders_sent < campaign.max_reminders and last is not None and last <= now - wait:
            due.append(invitation.pk)
    return due


def send_reminders(now: datetime | None = None) -> int:
    from surveys.tasks import campaign_send_chunk

    due = reminders_due(now)
    for i in range(0, len(due), CHUNK):
        campaign_send_chunk.delay(due[i : i + CHUNK], reminder=True)
    return len(due)


def expire_invitations(now: datetime | None = None) -> int:
    """Beat: mark invitations past their expiry. Their links already stop working on their own."""
    now = now or timezone.now()
    return Invitation.objects.filter(status__in=WAITING, expires_at__lte=now).update(status=S.EXPIRED)


# The reason recorded when a worker stopped mid-send on an invitation's last attempt.
