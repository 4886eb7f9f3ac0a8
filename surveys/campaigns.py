"""Campaigns: a survey sent to an audience, in chunks over reused SMTP connections, with throttling, reminders and
expiry. Every step records its outcome on the invitations, so each periodic task can run twice, or after a crash,
and only do what is still undone."""

from __future__ import annotations

import contextlib
import smtplib
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
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from surveys.invitations import invitation_token, new_salt, token_for_salt
from surveys.mailing import campaign_templates, courier_for, invitation_email_send
from surveys.models import Campaign, Customer, Invitation, Survey, hash_token

S, Skip = Invitation.Status, Invitation.Skip
CHUNK = 200
# States in which an invitation still awaits an answer.
WAITING = (S.QUEUED, S.SENT, S.OPENED)


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
    """Build the invitations and hand their sending to workers in chunks, once the transaction commits."""
    from surveys.tasks import campaign_send_chunk

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
        queued = list(campaign.invitations.filter(status=S.QUEUED).order_by("id").values_list("id", flat=True))
        chunks = [queued[i : i + CHUNK] for i in range(0, len(queued), CHUNK)]
        transaction.on_commit(lambda: [campaign_send_chunk.delay(chunk) for chunk in chunks])
        if not chunks:
            campaign.status, campaign.finished_at = Campaign.Status.SENT, now
            campaign.save(update_fields=["status", "finished_at"])


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
    """The bulk path: claim the queued ones in one statement, send them over one connection, record in bulk.

    Claiming (queued → sending) under row locks makes a re-run or a second worker skip them: at most once. The
    connection is opened before claiming, and a connection lost mid-chunk puts the unsent ones back in the queue
    before the task's retry, so an unreachable server delays a chunk and loses nothing. A worker killed mid-chunk
    leaves its claimed invitations "sending", visible on the campaign page.
    """
    connection = get_connection()
    connection.open()
    with transaction.atomic():
        invitations = list(
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=invitation_ids, status=S.QUEUED)
            .select_related("customer", "survey")
            .order_by("pk")
        )
        Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(
            status=S.SENDING, claimed_at=timezone.now()
        )
    outcomes = (
        {"already-sent": len(invitation_ids) - len(invitations)} if len(invitations) < len(invitation_ids) else {}
    )
    sent: list[int] = []
    skipped: list[tuple[int, str]] = []
    failed: list[tuple[int, str]] = []
    unsent: list[int] = []
    templates = campaign_templates()
    courier = courier_for(connection)

    def settle(results: list[tuple[int, Exception | None]]) -> None:
        for pk, error in results:
            if error is None:
                sent.append(pk)
            else:  # the server refused this message: its words are recorded on the invitation
                failed.append((pk, str(error)[:300]))

    try:
        for invitation in invitations:
            customer = invitation.customer
            if customer.opted_out_at is not None or not customer.email:
                skipped.append((invitation.pk, Skip.OPTED_OUT if customer.opted_out_at else Skip.INVALID_ADDRESS))
                continue
            token = invitation_token(invitation)
            wire = templates.wire(invitation, token) if courier else None
            try:
                if courier is not None and wire is not None:
                    courier.send(invitation.pk, wire[0], customer.email, wire[1])
                else:  # file and test backends, or a message the prepared bytes cannot carry
                    if courier:
                        courier.finish()
                    connection.send_messages([templates.message(invitation, token)])
                    sent.append(invitation.pk)
            except Exception as error:
                if _connection_lost(error):
                    raise
                failed.append((invitation.pk, str(error)[:300]))
            if courier:
                settle(courier.settled())
        if courier:
            courier.finish()
            settle(courier.settled())
    except Exception as error:
        if _connection_lost(error):
            # What the server had not answered, and what was not sent yet, go back in the queue for the retry.
            settle(courier.settled() if courier else [])
            handled = set(sent) | {pk for pk, _reason in failed} | {pk for pk, _reason in skipped}
            unsent = [i.pk for i in invitations if i.pk not in handled]
        raise
    finally:
        with contextlib.suppress(OSError):  # the connection may already be gone
            connection.close()
        now = timezone.now()
        Invitation.objects.filter(pk__in=sent).update(status=S.SENT, sent_at=now, last_sent_at=now)
        _record_with_reasons(S.SKIPPED, skipped)
        _record_with_reasons(S.FAILED, failed)
        Invitation.objects.filter(pk__in=unsent, status=S.SENDING).update(status=S.QUEUED)
    if failed:
        outcomes["failed"] = len(failed)
    if sent:
        outcomes["sent"] = len(sent)
    if skipped:
        outcomes["skipped"] = len(skipped)
    return outcomes


def _record_with_reasons(status: str, outcomes: list[tuple[int, str]]) -> None:
    """One UPDATE per distinct reason, not per invitation (a chunk's skips share one or two reasons)."""
    by_reason: dict[str, list[int]] = defaultdict(list)
    for pk, reason in outcomes:
        by_reason[reason].append(pk)
    for reason, pks in by_reason.items():
        Invitation.objects.filter(pk__in=pks).update(status=status, status_reason=reason)


def _connection_lost(error: Exception) -> bool:
    """A dropped or broken connection (retry the rest later), as opposed to a refusal of one message."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _finish_campaigns(invitation_ids: list[int]) -> None:
    campaign_ids = set(Invitation.objects.filter(pk__in=invitation_ids).values_list("campaign_id", flat=True))
    for campaign in Campaign.objects.filter(pk__in=campaign_ids - {None}, status=Campaign.Status.SENDING):
        if not campaign.invitations.filter(status=S.QUEUED).exists():
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


# Longer than any chunk can take: a task is killed after CELERY_TASK_TIME_LIMIT (15 minutes by default).
STOPPED_AFTER = timedelta(minutes=30)
WORKER_STOPPED = "worker-stopped"


def reconcile_stopped_sends(now: datetime | None = None) -> int:
    """Beat: invitations claimed by a worker that stopped before recording them (killed, machine lost) are marked
    failed. Whether their email left is unknown; sending again could send it twice, so a person decides (a new
    link from the customer's page)."""
    now = now or timezone.now()
    return Invitation.objects.filter(status=S.SENDING, claimed_at__lt=now - STOPPED_AFTER).update(
        status=S.FAILED, status_reason=WORKER_STOPPED
    )


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
    audience_size = sum(counts.values())
    answered = counts.get(S.ANSWERED, 0)
    opened = counts.get(S.OPENED, 0) + answered
    expired = counts.get(S.EXPIRED, 0)
    sent = counts.get(S.SENT, 0) + opened + expired
    return {
        "audience": audience_size,
        "queued": counts.get(S.QUEUED, 0),
        "sent": sent,
        "opened": opened,
        "answered": answered,
        "expired": expired,
        "failed": counts.get(S.FAILED, 0),
        "failures": [
            _("The sending worker stopped; whether this email left is unknown.") if reason == WORKER_STOPPED else reason
            for reason in failed
        ],  # fmt: skip
        "skipped": {str(Skip(reason).label): n for reason, n in skipped.items() if reason in Skip.values},
        "skipped_total": counts.get(S.SKIPPED, 0),
        "response_rate": round(100 * answered / sent, 1) if sent else None,
        "progress": round(100 * (audience_size - counts.get(S.QUEUED, 0)) / audience_size) if audience_size else 100,
    }
