"""The closed loop opens a sweep batch's cases together: the same records as one case at a time, in a number of
statements that does not grow with the batch (a backlog after an outage is seconds of work, not minutes)."""

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from audit.verify import chain_break, record_breaks
from config import debounce
from feedback import loop, schedule, workflow
from feedback.models import CaseEvent, ComplaintCase
from outbox.dispatch import outbox_dispatch
from outbox.models import OutboxMessage
from tests.factories import CustomerFactory, make_survey, quality_manager
from tests.feedback.test_loop import answer
from tests.helpers import require, set_eager
from webhooks.models import WebhookEvent
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def unswept(monkeypatch, django_capture_on_commit_callbacks):
    """Answer without the sweep the answers ask for (as while Redis is away): `unswept(survey, score)`."""
    monkeypatch.setattr(debounce, "_publisher", lambda: debounce._Publisher(start=False))

    def give(survey, score, comment="", customer=None):
        set_eager(False)
        try:
            return answer(survey, score, comment, customer=customer, capture=django_capture_on_commit_callbacks)
        finally:
            set_eager(True)

    return give


def test_a_batch_of_cases_has_every_record_one_case_would(unswept, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    owner = quality_manager()
    endpoint_create(url="http://127.0.0.1:9/hook", events=["case.opened"], actor=owner)
    survey = make_survey(kind="nps", owner=owner)
    detractors = [unswept(survey, score, f"Chờ lâu {score}") for score in (0, 3, 6, 2, 5)]
    unswept(survey, 9)
    unswept(survey, 10)
    with django_capture_on_commit_callbacks(execute=False):  # the acknowledgements leave below
        assert loop.sweep() == 5

    cases = list(ComplaintCase.objects.order_by("reference"))
    assert {c.response.invitation_id for c in cases} == {i.pk for i in detractors}
    numbers = [int(c.reference.rsplit("-", 1)[1]) for c in cases]
    assert numbers == list(range(numbers[0], numbers[0] + 5))  # one reference range, no gaps
    ack_hours, respond_hours, close_hours = workflow.time_limits("medium")
    for case in cases:
        assert case.assignee == owner and case.channel == "survey" and case.status == "received"
        assert case.description.startswith("Chờ lâu")
        assert case.acknowledge_due == schedule.due_after(case.received_at, ack_hours)
        assert case.close_due == schedule.due_after(case.received_at, close_hours)
        assert case.history.count() == 1
        kinds = sorted(case.events.values_list("kind", flat=True))
        assert kinds == ["assigned", "created"]
    entries = AuditEntry.objects.filter(record_type="feedback.complaintcase", action="create")
    assert sorted(entries.values_list("record_id", flat=True)) == sorted(str(c.pk) for c in cases)
    assert chain_break() is None and record_breaks() == []
    # One acknowledgement each, through the outbox, and one case.opened webhook event each, keyed by its timeline line.
    acks = OutboxMessage.objects.filter(task="feedback.tasks.send_acknowledgements")
    assert sorted(pk for a in acks for pk in a.args[0]) == sorted(c.pk for c in cases)
    created = CaseEvent.objects.filter(kind="created").values_list("pk", flat=True)
    assert set(WebhookEvent.objects.filter(type="case.opened").values_list("subject", flat=True)) == {
        f"case-event:{pk}" for pk in created
    }
    mail.outbox.clear()
    outbox_dispatch()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.customer.email for c in cases)
    assert set(ComplaintCase.objects.values_list("status", flat=True)) == {"acknowledged"}
    # The acknowledged state, set together, is on each case's timeline, history, audit trail and webhooks.
    for case in cases:
        assert list(case.events.filter(kind="status").values_list("from_status", "to_status")) == [
            ("received", "acknowledged")
        ]
        assert case.history.count() == 2
    assert AuditEntry.objects.filter(record_type="feedback.complaintcase", action="acknowledge").count() == 5
    assert chain_break() is None and record_breaks() == []


def _sweep_statements(unswept, survey, count):
    for _ in range(count):
        unswept(survey, 1, "Tệ")
    with CaptureQueriesContext(connection) as queries:
        assert loop.sweep() == count
    return len(queries)


def test_the_statements_of_a_sweep_do_not_grow_with_its_cases(unswept):
    survey = make_survey(kind="csat")
    few = _sweep_statements(unswept, survey, 3)
    many = _sweep_statements(unswept, survey, 30)
    assert many <= few  # the first sweep also makes the year's reference counter
    assert ComplaintCase.objects.count() == 33


@pytest.mark.django_db(transaction=True)
def test_a_case_opened_meanwhile_by_another_worker_leaves_the_others_opened(unswept, monkeypatch):
    """Between the sweep's check and its insert, another worker (its own connection) opens and commits the case of
    one response: the batch's insert fails on the one-case-per-response rule, and the others are opened one by one;
    nothing is opened twice and nothing is lost."""
    require(connection.vendor == "postgresql", "two writers at once need PostgreSQL (set DATABASE_URL)")
    from feedback.models import ComplaintSettings

    ComplaintSettings.load()  # as in any installation (a migration makes it; this test's database was emptied)
    survey = make_survey(kind="nps")
    for score in (1, 2, 3, 4):
        unswept(survey, score, customer=CustomerFactory())
    original = workflow.case_create_many
    raced: list[int] = []

    def other_worker(response_id):
        try:
            assert loop.case_from_response(response_id) == "created"
        finally:
            connection.close()

    def racing(drafts):
        if not raced and len(drafts) > 1:
            raced.append(drafts[0]["response"].pk)
            thread = threading.Thread(target=other_worker, args=(raced[0],))
            thread.start()
            thread.join(timeout=30)
        return original(drafts)

    monkeypatch.setattr(workflow, "case_create_many", racing)
    assert loop.sweep() == 3
    assert ComplaintCase.objects.count() == 4
    assert ComplaintCase.objects.filter(response_id=raced[0]).count() == 1
    assert chain_break() is None
    assert loop.case_from_response(raced[0]) == "exists"


def test_one_failing_acknowledgement_does_not_hold_up_the_others(unswept, monkeypatch):
    """The mail server refuses one address: the others of the batch are sent and acknowledged; the batch is run
    again later, sends only the one left, and nothing twice."""
    from feedback import notify

    survey = make_survey(kind="nps")
    for score in (1, 2, 3):
        unswept(survey, score, customer=CustomerFactory())
    assert loop.sweep() == 3
    cases = list(ComplaintCase.objects.select_related("customer").order_by("pk"))
    refused = cases[1].customer.email
    original = notify._send

    def send(template, context, language, to, connection=None):
        if to == [refused]:
            raise OSError("550 5.1.1 mailbox unavailable")
        return original(template, context, language, to, connection)

    monkeypatch.setattr(notify, "_send", send)
    mail.outbox.clear()
    with pytest.raises(OSError, match="mailbox unavailable"):
        notify.send_acknowledgements([c.pk for c in cases])
    assert sorted(m.to[0] for m in mail.outbox) == sorted([cases[0].customer.email, cases[2].customer.email])
    statuses = dict(ComplaintCase.objects.values_list("pk", "status"))
    assert [statuses[c.pk] for c in cases] == ["acknowledged", "received", "acknowledged"]

    monkeypatch.setattr(notify, "_send", original)
    outcome = notify.send_acknowledgements([c.pk for c in cases])
    assert outcome == {cases[0].pk: "already-sent", cases[1].pk: "sent", cases[2].pk: "already-sent"}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.customer.email for c in cases)  # one each
    assert set(ComplaintCase.objects.values_list("status", flat=True)) == {"acknowledged"}


def test_a_worker_lost_after_the_email_leaves_the_case_acknowledged_on_the_next_run(unswept):
    """The email's record was written, then the worker died before the cases' state: the next run of the row sends
    nothing again and acknowledges the case."""
    from feedback import notify
    from feedback.models import CaseEvent

    survey = make_survey(kind="nps")
    unswept(survey, 0)
    unswept(survey, 1)
    assert loop.sweep() == 2
    first, second = ComplaintCase.objects.select_related("customer").order_by("pk")
    CaseEvent.objects.create(case=first, kind="email", text=f"acknowledgement → {first.email}")  # the crash point
    mail.outbox.clear()
    assert notify.send_acknowledgements([first.pk, second.pk]) == {first.pk: "already-sent", second.pk: "sent"}
    assert [m.to for m in mail.outbox] == [[second.email]]
    assert set(ComplaintCase.objects.values_list("status", flat=True)) == {"acknowledged"}


def test_a_quick_sweep_starts_past_what_was_examined_and_beats_full_sweep_catches_late_commits(unswept):
    """Answers ask for quick sweeps, which look only past the newest response examined; an answer that committed
    late with a smaller id (here: one below the examined mark, with no case) is opened by beat's full sweep."""
    from feedback.models import ComplaintSettings
    from feedback.tasks import sweep_detractors

    survey = make_survey(kind="nps")
    late = unswept(survey, 2)
    assert loop.sweep(full=False) == 1
    assert ComplaintSettings.load().loop_examined == late.response.pk
    unswept(survey, 3)
    config = ComplaintSettings.load()
    config.loop_examined += 1  # as if a quick sweep had examined the newest answer before it committed
    config.save()
    assert sweep_detractors() == 0  # the task as answers ask for it: quick
    assert ComplaintCase.objects.count() == 1
    assert sweep_detractors(full=True) == 1  # as beat runs it
    assert ComplaintCase.objects.count() == 2
