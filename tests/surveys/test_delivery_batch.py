"""Accepted messages are recorded as sent in batches (surveys/campaigns/delivery.py): one UPDATE per batch, not per
message. A worker that dies between the server's 250 and the batch's write leaves a duplicate of each message of
that batch, sent again once the lease ends, and never a loss."""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys import campaigns
from surveys.campaigns import delivery
from surveys.models import Campaign, Invitation
from tests.factories import CustomerFactory, make_survey

pytestmark = pytest.mark.django_db
S = Invitation.Status


class WorkerKilled(BaseException):
    """kill -9: nothing after it runs, no handler catches it."""


def _campaign(n: int) -> Campaign:
    for i in range(n):
        CustomerFactory(email=f"b{i}@example.com")
    survey = make_survey(kind="nps")
    campaign = campaigns.campaign_create(survey=survey, created_by=survey.owner, name="Lô")
    campaigns.campaign_build(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    return campaign


def _received() -> Counter:
    return Counter(recipient for message in mail.outbox for recipient in message.to)


def test_sent_is_recorded_once_per_batch():
    campaign = _campaign(120)
    ids = list(campaign.invitations.order_by("pk").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        outcomes = campaigns.send_chunk(ids)
    assert outcomes == {"sent": 120}
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "surveys_invitation"')]
    # the claim, then one write per batch of SENT_BATCH (120 = 50 + 50 + 20), not 120
    assert len(writes) <= 1 + -(-120 // delivery.SENT_BATCH), writes
    assert set(campaign.invitations.values_list("status", flat=True)) == {S.SENT}
    assert _received() == {f"b{i}@example.com": 1 for i in range(120)}


def test_a_worker_killed_before_the_batch_is_written_duplicates_that_batch_never_loses(monkeypatch, settings):
    campaign = _campaign(120)
    ids = list(campaign.invitations.order_by("pk").values_list("pk", flat=True))
    real_flush = delivery._Delivery.flush
    flushes = []

    def flush_then_die(self):  # the second batch's 250s were read; the worker dies before writing them
        if self.accepted:
            flushes.append(len(self.accepted))
            if len(flushes) >= 2:  # and nothing after it is written either (no finally runs on kill -9)
                raise WorkerKilled
        real_flush(self)

    monkeypatch.setattr(delivery._Delivery, "flush", flush_then_die)
    with pytest.raises(WorkerKilled):
        campaigns.send_chunk(ids)
    monkeypatch.setattr(delivery._Delivery, "flush", real_flush)
    lost_batch = flushes[1]
    assert lost_batch == delivery.SENT_BATCH
    assert campaign.invitations.filter(status=S.SENT).count() == delivery.SENT_BATCH  # the first batch
    assert campaign.invitations.filter(status=S.SENDING).count() == 120 - delivery.SENT_BATCH  # claimed, unrecorded

    lease = timedelta(seconds=settings.INVITATION_SEND_LEASE_SECONDS)
    with time_machine.travel(timezone.now() + lease + timedelta(seconds=1), tick=False):
        campaigns.invitations_dispatch()  # the lease ended: queued again and sent (in-process here)
    counts = _received()
    assert set(counts) == {f"b{i}@example.com" for i in range(120)}  # nobody lost
    assert max(counts.values()) == 2  # at most one extra copy of a message
    assert sum(n - 1 for n in counts.values()) == lost_batch  # only the batch whose write was lost
    assert set(campaign.invitations.values_list("status", flat=True)) == {S.SENT}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
