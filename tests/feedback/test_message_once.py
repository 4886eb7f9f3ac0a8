"""A message staff write to a customer is emailed once, however often its outbox row or task runs: counted by
recipient at a real SMTP server (aiosmtpd on a free port)."""

import pytest
from django.db.models import F
from django.utils import translation

from feedback import notify, workflow
from feedback.models import CaseEvent
from outbox.dispatch import outbox_run
from outbox.models import OutboxMessage
from tests.factories import CustomerFactory, staff_user
from tests.integration.services import SmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    settings.EMAIL_TIMEOUT = 5
    yield server.inbox
    server.stop()


def _case():
    customer = CustomerFactory(email="mai@example.com", language="vi")
    return workflow.case_create(channel="phone", description="Giao hàng trễ", customer=customer)


def test_a_rerun_of_the_same_outbox_row_or_task_sends_nothing_more(smtp, django_capture_on_commit_callbacks):
    case = _case()
    with django_capture_on_commit_callbacks(execute=False):
        workflow.case_message_customer(case=case, actor=staff_user(), text="Chúng tôi đã giao lại hàng.")
        workflow.case_message_customer(case=case, actor=staff_user(), text="Chúng tôi đã giao lại hàng.")
    rows = list(OutboxMessage.objects.filter(task="feedback.tasks.send_customer_message").order_by("pk"))
    assert len(rows) == 2  # two messages (the same words, sent twice on purpose): two emails

    assert outbox_run(rows[0].pk) == "done"
    # The same row again, as after a lost broker message or a lease that ended with the work already done.
    OutboxMessage.objects.filter(pk=rows[0].pk).update(state="pending", running_until=None, attempts=F("attempts"))
    assert outbox_run(rows[0].pk) == "done"
    # The same task delivered twice by the broker, with the row's own arguments.
    assert notify.send_customer_message(*rows[0].args) == "already-sent"
    assert smtp.counts() == {"mai@example.com": 1}

    assert outbox_run(rows[1].pk) == "done"  # the second message is its own email
    assert notify.send_customer_message(*rows[1].args) == "already-sent"
    assert smtp.counts() == {"mai@example.com": 2}
    emailed = case.events.filter(kind=CaseEvent.Kind.EMAIL, text__startswith="message #")
    assert emailed.count() == 2
    with translation.override("vi"):
        assert {event.display_text for event in emailed} == {"thông báo → mai@example.com"}


def test_a_row_written_before_messages_carried_their_id_is_sent_once(smtp):
    case = _case()
    workflow.case_message_customer(case=case, actor=staff_user(), text="Xin lỗi quý khách.")
    assert notify.send_customer_message(case.pk, "Xin lỗi quý khách.") == "sent"  # the old two arguments
    assert notify.send_customer_message(case.pk, "Xin lỗi quý khách.") == "already-sent"
    message = case.events.get(kind=CaseEvent.Kind.MESSAGE)
    assert notify.send_customer_message(case.pk, "Xin lỗi quý khách.", message.pk) == "already-sent"
    assert smtp.counts() == {"mai@example.com": 1}
