"""Housekeeping: webhook deliveries whose retrying ended long ago go with their attempts and events; waiting ones,
recent ones and a delivery sent again lately stay."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config import retention
from webhooks.delivery import webhooks_remove_old
from webhooks.events import events_record
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.tasks import webhooks_remove_old as task

pytestmark = pytest.mark.django_db
D = WebhookDelivery.State


def _delivery(number: int, state: str, ended_days_ago: float) -> WebhookDelivery:
    events_record([("case.opened", f"case-event:{number}", {"reference": f"CMP-{number}"})])
    delivery = WebhookDelivery.objects.get(event__subject=f"case-event:{number}")
    ended = timezone.now() - timedelta(days=ended_days_ago)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state, give_up_at=ended, created_at=ended - timedelta(days=1)
    )
    WebhookEvent.objects.filter(pk=delivery.event_id).update(created_at=ended - timedelta(days=1))
    WebhookAttempt.objects.create(delivery=delivery, outcome="ok" if state == D.DELIVERED else "http", status_code=200)
    return delivery


def test_ended_deliveries_past_their_keeping_time_go_with_their_attempts_and_events(endpoint, monkeypatch):
    keep = settings.WEBHOOK_KEEP_DAYS
    old = [_delivery(n, D.DELIVERED, keep + 1) for n in range(3)] + [_delivery(9, D.FAILED, keep + 40)]
    recent = _delivery(10, D.DELIVERED, keep - 1)
    waiting = _delivery(11, D.PENDING, keep + 5)  # an endpoint disabled for weeks: still to be sent
    # Made long ago but sent again from the page yesterday: its retrying ended a day ago.
    resent = _delivery(12, D.DELIVERED, 1)
    WebhookDelivery.objects.filter(pk=resent.pk).update(created_at=timezone.now() - timedelta(days=keep + 60))
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches

    assert task() == 4 * 3  # each delivery, its attempt and its event
    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {recent.pk, waiting.pk, resent.pk}
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {d.event_id for d in (recent, waiting, resent)}
    assert not WebhookAttempt.objects.filter(delivery_id__in=[d.pk for d in old]).exists()
    assert WebhookAttempt.objects.count() == 3
    assert webhooks_remove_old() == 0  # a second run finds nothing
    # Once old enough, the rest goes too, except what still waits.
    assert webhooks_remove_old(timezone.now() + timedelta(days=keep + 2)) == 2 * 3
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_beat_runs_it_every_day():
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["webhooks.tasks.webhooks_remove_old"] == 86400.0
