"""Housekeeping: outbox rows whose task ran and the API's call log go after their keeping time, oldest first in
batches; pending and failed outbox rows, recent rows and the keys themselves stay."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from api.keys import apikey_create
from api.middleware import api_calls_remove_old
from api.models import ApiCall, ApiKey
from api.tasks import api_calls_remove_old as api_task
from config import retention
from outbox import dispatch
from outbox.models import OutboxMessage
from outbox.tasks import outbox_remove_done as outbox_task

pytestmark = pytest.mark.django_db
P = OutboxMessage.State


def _row(state: str, done_days_ago: float | None) -> OutboxMessage:
    message = dispatch.outbox_add(task="feedback.tasks.send_acknowledgement", args=[1])
    done_at = timezone.now() - timedelta(days=done_days_ago) if done_days_ago is not None else None
    OutboxMessage.objects.filter(pk=message.pk).update(state=state, done_at=done_at)
    return message


def test_done_rows_past_their_keeping_time_go_and_everything_else_stays(monkeypatch):
    keep = settings.OUTBOX_KEEP_DAYS
    old_done = [_row(P.DONE, keep + 1) for _ in range(5)]
    recent_done = _row(P.DONE, keep - 1)
    pending = _row(P.PENDING, None)
    old_failed = _row(P.FAILED, keep + 100)
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches

    assert outbox_task() == 5
    left = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert left == {recent_done.pk, pending.pk, old_failed.pk}
    assert not left & {m.pk for m in old_done}
    assert dispatch.outbox_remove_done() == 0  # a second run finds nothing


def test_the_call_log_keeps_its_days_and_the_keys_stay(qm):
    key, _secret = apikey_create(name="CRM", scope="write", actor=qm)
    now = timezone.now()
    keep = settings.API_CALL_KEEP_DAYS
    for days in (keep + 30, keep + 1, keep - 1, 0):
        ApiCall.objects.create(key=key, at=now - timedelta(days=days), method="GET", endpoint="/x", status=200,
                               duration_ms=1)  # fmt: skip
    assert api_task() == 2
    assert sorted((now - at).days for at in ApiCall.objects.values_list("at", flat=True)) == [0, keep - 1]
    assert api_calls_remove_old(now + timedelta(days=keep + 1)) == 2  # the rest, once they are old enough
    assert not ApiCall.objects.exists()
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_beat_runs_both_every_day():
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["outbox.tasks.outbox_remove_done"] == 86400.0
    assert tasks["api.tasks.api_calls_remove_old"] == 86400.0
