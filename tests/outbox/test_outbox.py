"""The outbox: work written with the change that causes it, handed out again when lost, failing a bounded number
of times, and never a broker call inside a customer's request."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from celery.app.task import Task
from django.core.mail.backends import locmem
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config import debounce
from feedback import workflow
from feedback.models import Channel
from outbox import dispatch
from outbox.models import Heartbeat, OutboxMessage
from outbox.tasks import outbox_run
from surveys.invitations import invitation_email_now
from surveys.models import Invitation
from tests.factories import CustomerFactory, make_invitation
from tests.helpers import set_eager

pytestmark = pytest.mark.django_db
P = OutboxMessage.State


def _complaint(email: str = "hoa@example.com"):
    return workflow.case_create(
        channel=Channel.PHONE, description="Hóa đơn sai", contact_name="Hoa", contact_email=email
    )


def test_the_acknowledgement_is_stored_with_the_case_and_sent_after_commit(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = _complaint()
        row = OutboxMessage.objects.get()
        assert (row.task, row.args, row.state) == ("feedback.tasks.send_acknowledgement", [case.pk], P.PENDING)
        assert mailoutbox == []  # nothing leaves before the commit
    row.refresh_from_db()
    assert row.state == P.DONE and row.attempts == 1 and row.done_at is not None
    assert [m.to for m in mailoutbox] == [["hoa@example.com"]]
    assert Heartbeat.objects.filter(name="dispatcher").exists()


def test_a_rolled_back_change_leaves_no_work(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _complaint()
        raise RuntimeError("the request failed after the case was written")
    assert OutboxMessage.objects.count() == 0 and mailoutbox == []


def test_a_poison_task_fails_a_bounded_number_of_times_and_others_still_run(settings, mailoutbox):
    settings.OUTBOX_MAX_ATTEMPTS = 4
    poison = dispatch.outbox_add(task="feedback.tasks.send_acknowledgement", args=[987654])  # no such case
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        dispatch.outbox_dispatch()
    poison.refresh_from_db()
    assert (poison.state, poison.attempts) == (P.PENDING, 1)
    assert poison.last_error.startswith("DoesNotExist")
    assert poison.available_at == start + timedelta(seconds=30)
    good = _complaint()  # work that arrives meanwhile is not held up
    dispatch.outbox_dispatch()
    good_row = OutboxMessage.objects.get(args=[good.pk])
    assert good_row.state == P.DONE and len(mailoutbox) == 1
    at = start
    waits = []
    for _attempt in range(5):
        poison.refresh_from_db()
        if poison.state != P.PENDING:
            break
        waits.append(round((poison.available_at - at).total_seconds()))
        at = poison.available_at
        with time_machine.travel(at, tick=False):
            dispatch.outbox_dispatch()
    poison.refresh_from_db()
    assert (poison.state, poison.attempts) == (P.FAILED, 4)
    assert waits == [30, 60, 120]  # backoff doubles
    with time_machine.travel(at + timedelta(days=1), tick=False):
        assert dispatch.outbox_dispatch() == 0  # failed for good: never handed out again


def test_an_unknown_task_fails_at_once():
    row = dispatch.outbox_add(task="nowhere.tasks.nothing", args=[])
    dispatch.outbox_dispatch()
    row.refresh_from_db()
    assert (row.state, row.last_error) == (P.FAILED, "unknown task nowhere.tasks.nothing")


def test_a_message_lost_with_the_broker_is_handed_out_again_after_its_lease(settings, monkeypatch, mailoutbox):
    case = _complaint()
    set_eager(False)  # the conftest fixture restores it
    lost: list[object] = []
    monkeypatch.setattr(outbox_run, "apply_async", lambda *a, **k: lost.append(k["args"]))
    start = timezone.now()
    assert dispatch.outbox_dispatch(now=start) == 1 and lost == [[OutboxMessage.objects.get().pk]]
    assert dispatch.outbox_dispatch(now=start + timedelta(seconds=30)) == 0  # in flight: not twice
    later = start + timedelta(seconds=settings.OUTBOX_DISPATCH_LEASE_SECONDS + 1)
    assert dispatch.oldest_due_age(now=later) == pytest.approx(1, abs=0.1)  # readiness sees the lag
    assert dispatch.outbox_dispatch(now=later) == 1 and len(lost) == 2
    assert dispatch.outbox_run(lost[-1][0]) == "done"
    assert dispatch.outbox_run(lost[0][0]) == "not-pending"  # the late duplicate does nothing
    assert [m.to for m in mailoutbox] == [["hoa@example.com"]] and case.events.filter(kind="email").count() == 1


def test_a_duplicate_message_while_a_worker_runs_the_row_does_nothing(mailoutbox):
    _complaint()
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(running_until=timezone.now() + timedelta(minutes=5))
    assert dispatch.outbox_run(row.pk) == "not-pending" and mailoutbox == []


class TemporarilyRefusing(locmem.EmailBackend):
    busy = True

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        if TemporarilyRefusing.busy:
            raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (451, b"4.7.1 Greylisted, come back later")})
        return super().send_messages(messages)


def test_a_single_invitation_refused_with_451_waits_in_the_outbox_then_is_sent(settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.TemporarilyRefusing"
    TemporarilyRefusing.busy = True
    invitation, _token = make_invitation(customer=CustomerFactory(email="grey@example.com"))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        invitation_email_now(invitation=invitation)
        dispatch.outbox_dispatch()
    invitation.refresh_from_db()
    row = OutboxMessage.objects.get()
    assert invitation.status == Invitation.Status.DEFERRED
    assert invitation.status_reason == "451 4.7.1 Greylisted, come back later"
    assert row.state == P.PENDING and row.available_at == invitation.next_attempt_at == start + timedelta(minutes=1)
    TemporarilyRefusing.busy = False
    with time_machine.travel(row.available_at, tick=False):
        dispatch.outbox_dispatch()
    invitation.refresh_from_db()
    row.refresh_from_db()
    assert (invitation.status, row.state) == (Invitation.Status.SENT, P.DONE)
    assert [m.to for m in mailoutbox] == [["grey@example.com"]]


def test_a_respondent_request_never_publishes_to_the_broker(monkeypatch, django_capture_on_commit_callbacks):
    """Even with the closed loop and the rollups asking for work after the answer, the request thread makes no
    broker call: a background thread does, later (config/debounce.py)."""
    set_eager(False)
    publishes: list[str] = []
    monkeypatch.setattr(Task, "apply_async", lambda self, *a, **k: publishes.append(self.name))
    publisher = debounce._Publisher(start=False)
    monkeypatch.setattr(debounce, "_publisher", lambda: publisher)
    invitation, token = make_invitation()
    question = invitation.survey.current_version.questions.order_by("position").first()
    with django_capture_on_commit_callbacks(execute=True):
        page = Client().post(reverse("respond", args=[token]), {f"q{question.pk}": "2"})  # a detractor
    assert page.status_code == 302 and "/thanks/" in page["Location"]
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.ANSWERED
    assert publishes == []  # not one broker call in the request
    # The webhook sweep is asked for too, as a flag: the worker's sweep finds out whether anyone listens.
    asked = ["feedback.tasks.sweep_detractors", "reports.tasks.rollup_refresh", "webhooks.tasks.webhooks_sweep"]
    assert set(publisher.wanted) == set(asked)
    publisher.flush(now=1000.0)  # what the background thread does a moment later
    assert sorted(publishes) == asked
