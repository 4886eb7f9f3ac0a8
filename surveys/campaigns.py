"""Campaigns: a survey sent to an audience, in chunks over reused SMTP connections, with throttling, reminders and
expiry. Every step records its outcome on the invitations, so each periodic task can run twice, or after a crash,
and only do what is still undone."""

from __future__ import annotations

import contextlib
import smtplib
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db import connection as db
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from surveys.invitations import invitation_token, new_salt, token_for_salt
from surveys.mailing import (
    SMTP_CLOSED,
    SMTP_REFUSED,
    SMTP_TIMEOUT,
    campaign_templates,
    courier_for,
    invitation_email_send,
    retry_delay,
    smtp_temporary,
    smtp_words,
)
from surveys.models import Campaign, Customer, Invitation, Survey, hash_token

S, Skip = Invitation.Status, Invitation.Skip
CHUNK = 200
# States in which an invitation still awaits an answer (or its email): past the expiry they become expired.
WAITING = (S.QUEUED, S.DEFERRED, S.SENT, S.OPENED)


def _valid_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def audience(campaign: Campaign) -> QuerySet[Customer]:
    customers = Customer.objects.filter(erased_at__isnull=True)
    keys = [line.strip() for line in campaign.audience_list.splitlines() if line.strip()]
    if keys:
        customers = customers.filter(Q(email__in=[k.lower() for k in keys]) | Q(external_id__in=keys))
    if campaign.segment:
        customers = customers.filter(segment=campaign.segment)
    if campaign.language:
        customers = customers.filter(language=campaign.language)
    if campaign.customer_type:
        customers = customers.filter(customer_type=campaign.customer_type)
    return customers.order_by("id")


@transaction.atomic
def campaign_create(
    *, survey: Survey, created_by: AbstractBaseUser, name: str, send_at: datetime | None = None, **options: Any
) -> Campaign:
    if survey.status != Survey.Status.ACTIVE:
        raise ValidationError(_("Activate the survey before sending it."))
    campaign = Campaign(
        survey=survey, created_by=created_by, name=name.strip(), send_at=send_at or timezone.now(), **options
    )
    campaign.full_clean(exclude=["created_by", "survey"])
    campaign.save()
    audit_record(campaign, action="create")
    return campaign


def _throttled_customers(customer_ids: list[int], now: datetime) -> set[int]:
    """Customers invited (not skipped) to any survey within the throttle window; reminders do not count."""
    since = now - timedelta(days=settings.INVITATION_THROTTLE_DAYS)
    return set(
        Invitation.objects.filter(customer_id__in=customer_ids, created_at__gte=since)
        .exclude(status=S.SKIPPED)
        .values_list("customer_id", flat=True)
    )


def _skip_reasons(campaign: Campaign, now: datetime) -> list[tuple[int, str]]:
    """(customer id, skip reason or "") for each customer of the campaign's audience, in id order."""
    customers = list(audience(campaign).values_list("id", "email", "opted_out_at"))
    # By a list of ids, not a join on the audience: a join planned on a freshly imported customer table (no
    # statistics yet) took minutes; the list's lookups by index take about 1.5 s per 100,000.
    ids = [c[0] for c in customers]
    throttled = _throttled_customers(ids, now)
    already = set(
        Invitation.objects.filter(survey=campaign.survey, customer_id__in=ids)
        .exclude(status=S.SKIPPED)
        .values_list("customer_id", flat=True)
    )
    reasons = []
    for customer_id, email, opted_out_at in customers:
        reason = ""
        if opted_out_at is not None:
            reason = Skip.OPTED_OUT
        elif not email or not _valid_email(email):
            reason = Skip.INVALID_ADDRESS
        elif customer_id in already:
            reason = Skip.DUPLICATE
        elif customer_id in throttled:
            reason = Skip.THROTTLED
        reasons.append((customer_id, str(reason)))
    return reasons


def campaign_audience_preview(*, survey: Survey, now: datetime | None = None, **filters: Any) -> dict[str, Any]:
    """What sending with these filters would do, before anything is written: how many customers match, how many
    would be invited, and how many skipped for each reason (the same rules as campaign_build)."""
    campaign = Campaign(survey=survey, **filters)
    reasons = _skip_reasons(campaign, now or timezone.now())
    skipped: dict[str, int] = defaultdict(int)
    for _customer_id, reason in reasons:
        if reason:
            skipped[str(Skip(reason).label)] += 1
    unfiltered = not any(filters.get(k) for k in ("segment", "language", "customer_type", "audience_list"))
    return {
        "matched": len(reasons),
        "invited": len(reasons) - sum(skipped.values()),
        "skipped": dict(skipped),
        "unfiltered": unfiltered,
    }


@transaction.atomic
def campaign_build(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Create the campaign's invitations: queued, or skipped with the reason. Safe to call again."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.invitations.exists():
        return 0
    now = now or timezone.now()
    rows = []
    for customer_id, reason in _skip_reasons(campaign, now):
        salt = new_salt()
        status = S.SKIPPED if reason else S.QUEUED
        rows.append((customer_id, salt, hash_token(token_for_salt(salt)), str(status), str(reason)))
    _insert_invitations(campaign, now, now + timedelta(days=campaign.expiry_days), rows)
    return len(rows)


def _insert_invitations(campaign: Campaign, now: datetime, expires: datetime, rows: list[tuple[Any, ...]]) -> None:
    """Rows of (customer id, token salt, token hash, status, reason). On PostgreSQL one INSERT per 20,000 rows
    from arrays: making a model object per row and Django's preparing of each value took most of 100,000
    invitations' 24 s."""
    if db.vendor != "postgresql":
        Invitation.objects.bulk_create(
            (
                Invitation(
                    survey_id=campaign.survey_id,
                    customer_id=customer_id,
                    campaign=campaign,
                    created_by_id=campaign.created_by_id,
                    token_salt=salt,
                    token_hash=token_hash,
                    created_at=now,
                    expires_at=expires,
                    status=status,
                    status_reason=reason,
                )
                for customer_id, salt, token_hash, status, reason in rows
            ),
            batch_size=5000,
        )
        return
    statement = (
        # Reviewed (bandit B608): the model's table name only; every value is a parameter.
        f"INSERT INTO {Invitation._meta.db_table} (survey_id, campaign_id, created_by_id, created_at, expires_at, "  # noqa: S608  # nosec B608
        "reminders_sent, customer_id, token_salt, token_hash, status, status_reason) "
        "SELECT %s, %s, %s, %s, %s, 0, * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])"
    )
    with db.cursor() as cursor:
        for start in range(0, len(rows), 20_000):
            columns = [list(column) for column in zip(*rows[start : start + 20_000], strict=True)]
            cursor.execute(statement, [campaign.survey_id, campaign.pk, campaign.created_by_id, now, expires, *columns])


def campaign_start(*, campaign: Campaign, now: datetime | None = None) -> None:
    """Build the invitations, queued in the database: the dispatcher (invitations_dispatch, run by beat and asked
    for once this commits) hands them to workers in chunks. Nothing here waits on the broker."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != Campaign.Status.SCHEDULED:
            return
        built = campaign_build(campaign=campaign, now=now)
        # One entry for the campaign's invitations, not one per invitation: they are the campaign's rows.
        audit_record(campaign, action="start", actor=None, extra={"invitations": [None, built]})
        campaign.status, campaign.started_at = Campaign.Status.SENDING, now
        campaign.save(update_fields=["status", "started_at"])
        if not campaign.invitations.filter(status=S.QUEUED).exists():
            campaign.status, campaign.finished_at = Campaign.Status.SENT, now
            campaign.save(update_fields=["status", "finished_at"])
        else:
            transaction.on_commit(request_dispatch)


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


def campaigns_start_due(now: datetime | None = None) -> int:
    """Beat: start every scheduled campaign whose time has come."""
    now = now or timezone.now()
    due = list(Campaign.objects.filter(status=Campaign.Status.SCHEDULED, send_at__lte=now))
    for campaign in due:
        campaign_start(campaign=campaign, now=now)
    return len(due)


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
WORKER_STOPPED = "worker-stopped"


def reason_text(reason: str) -> str:
    """A failure or deferral reason as a person reads it: the server's own words, or ours in their language."""
    ours = {
        WORKER_STOPPED: _("The sending worker stopped on the last attempt; whether this email left is unknown."),
        SMTP_TIMEOUT: _("The mail server did not answer in time."),
        SMTP_REFUSED: _("The mail server refused the connection."),
        SMTP_CLOSED: _("The mail server closed the connection."),
    }
    return str(ours.get(reason, reason))


def campaign_cancel(*, campaign: Campaign) -> None:
    if campaign.status != Campaign.Status.SCHEDULED:
        raise ValidationError(_("Only a campaign that has not started can be cancelled."))
    campaign.status = Campaign.Status.CANCELLED
    campaign.save(update_fields=["status"])
    audit_record(campaign, action="cancel", extra={"status": [Campaign.Status.SCHEDULED, campaign.status]})


def funnel(campaign: Campaign) -> dict[str, Any]:
    """Audience → sent → opened → answered, with skips and failures by reason, and the response rate."""
    counts = dict(campaign.invitations.values_list("status").annotate(n=Count("id")))
    skipped = dict(campaign.invitations.filter(status=S.SKIPPED).values_list("status_reason").annotate(n=Count("id")))
    failed = campaign.invitations.filter(status=S.FAILED).values_list("status_reason", flat=True)[:5]
    deferred = campaign.invitations.filter(status=S.DEFERRED).order_by("next_attempt_at")
    next_deferred = deferred.values_list("next_attempt_at", "status_reason").first()
    audience_size = sum(counts.values())
    answered = counts.get(S.ANSWERED, 0)
    opened = counts.get(S.OPENED, 0) + answered
    expired = counts.get(S.EXPIRED, 0)
    sent = counts.get(S.SENT, 0) + opened + expired
    waiting = sum(counts.get(state, 0) for state in UNDELIVERED)
    return {
        "audience": audience_size,
        "queued": counts.get(S.QUEUED, 0),
        "sending": counts.get(S.SENDING, 0),
        "deferred": counts.get(S.DEFERRED, 0),
        # Queued again after a try: deferred ones whose time came, or re-queued after a stopped worker.
        "retrying": campaign.invitations.filter(status__in=(S.QUEUED, S.SENDING), attempts__gt=0).count(),
        "next_attempt": next_deferred[0] if next_deferred else None,
        "deferred_reason": reason_text(next_deferred[1]) if next_deferred else "",
        "sent": sent,
        "opened": opened,
        "answered": answered,
        "expired": expired,
        "failed": counts.get(S.FAILED, 0),
        "failures": [reason_text(reason) for reason in failed],
        "skipped": {str(Skip(reason).label): n for reason, n in skipped.items() if reason in Skip.values},
        "skipped_total": counts.get(S.SKIPPED, 0),
        "response_rate": round(100 * answered / sent, 1) if sent else None,
        "progress": round(100 * (audience_size - waiting) / audience_size) if audience_size else 100,
    }
