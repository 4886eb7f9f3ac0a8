"""A campaign sent through a real Celery worker and Redis to a local SMTP server (aiosmtpd)."""

import email
import socket
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller

from config.celery import app as celery_app
from surveys import campaigns
from surveys.models import Invitation
from tests.factories import CustomerFactory, make_survey
from tests.integration.test_celery_worker import worker  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.sessions = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.sessions += 1
        session.host_name = hostname
        return responses


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(port))
    monkeypatch.setenv("EMAIL_USE_TLS", "0")
    monkeypatch.setenv("TEST_SMTP_PORT", str(port))
    yield inbox
    controller.stop()


def test_campaign_reaches_the_smtp_server_once_per_customer(smtp, worker):  # noqa: F811
    # Fixture order matters: smtp sets EMAIL_HOST before the worker starts and reads its environment.
    queue, _mail_dir = worker
    for i in range(7):
        CustomerFactory(email=f"k{i}@example.com", language="vi" if i % 2 else "en")
    CustomerFactory(email="", name="No address")
    survey = make_survey(kind="nps")
    campaign = campaigns.campaign_create(survey=survey, created_by=survey.owner, name="Đợt 1")
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        campaigns.campaign_start(campaign=campaign)
        # What beat's dispatcher does every few seconds: hand the queued invitations to the worker in chunks.
        assert campaigns.invitations_dispatch() == 7
    finally:
        celery_app.conf.task_default_queue = previous
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(smtp.messages) < 7:
        time.sleep(0.2)
    time.sleep(1)
    assert sorted(m["To"] for m in smtp.messages) == sorted(f"k{i}@example.com" for i in range(7))
    assert smtp.sessions == 1  # one chunk, one SMTP connection
    message = smtp.messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/s/" in message.get_body(preferencelist=("plain",)).get_content()
    statuses = dict(campaign.invitations.values_list("customer__email", "status"))
    assert statuses[""] == Invitation.Status.SKIPPED
    assert sum(1 for s in statuses.values() if s == Invitation.Status.SENT) == 7
    campaign.refresh_from_db()
    assert campaign.status == "sent"
