"""Quality managers register, edit, disable and enable endpoints, see the secret once, and re-send deliveries."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditEntry
from feedback import workflow
from webhooks.delivery import webhooks_send
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def entries(endpoint):
    return list(
        AuditEntry.objects.filter(record_type="webhooks.webhookendpoint", record_id=str(endpoint.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_a_quality_manager_registers_an_endpoint_and_sees_the_secret_once(qm_client, receiver, private_ok):
    assert "Chưa có điểm nhận webhook nào" in qm_client.get(reverse("webhook_list")).content.decode()
    page = qm_client.post(
        reverse("webhook_create"),
        {"url": receiver.url, "description": "CRM", "events": ["case.opened", "response.detractor"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    html = page.content.decode()
    assert (
        endpoint.secret in html
        and endpoint.secret.startswith("whsec_")
        and page["Cache-Control"] == "private, no-store"
    )
    assert endpoint.events == ["response.detractor", "case.opened"]
    # Never again: neither the detail page nor the list shows it.
    assert endpoint.secret not in qm_client.get(reverse("webhook_detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in qm_client.get(reverse("webhook_list")).content.decode()
    assert entries(endpoint) == ["create"]
    audit = AuditEntry.objects.get(record_type="webhooks.webhookendpoint")
    assert endpoint.secret not in json.dumps(audit.changes)


def test_a_private_address_is_refused_with_a_clear_message(qm_client):
    page = qm_client.post(reverse("webhook_create"), {"url": "http://127.0.0.1:8000/x", "events": ["case.opened"]})
    assert page.status_code == 200 and "địa chỉ loopback" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()
    page = qm_client.post(reverse("webhook_create"), {"url": "https://example.org/x", "events": []})
    assert page.status_code == 200 and not WebhookEndpoint.objects.exists()


def test_edit_roll_disable_enable_are_audited(qm_client, endpoint, receiver, django_capture_on_commit_callbacks):
    old = endpoint.secret
    page = qm_client.post(reverse("webhook_roll_secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in page.content.decode()
    qm_client.post(
        reverse("webhook_edit", args=[endpoint.pk]),
        {"url": receiver.url, "description": "Helpdesk", "events": ["case.opened"]},
    )
    qm_client.post(reverse("webhook_toggle", args=[endpoint.pk]), {"reason": "Bảo trì CRM"})
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == "Bảo trì CRM"
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_create(channel="phone", description="x", contact_name="K")
    assert receiver.received == []  # disabled: nothing is made for it
    with django_capture_on_commit_callbacks(execute=True):
        qm_client.post(reverse("webhook_toggle", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.description == "Helpdesk" and endpoint.events == ["case.opened"]
    assert entries(endpoint) == ["create", "roll_secret", "update", "disable", "enable"]
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_create(channel="phone", description="y", contact_name="K")
    # Signed with the rolled secret.
    Webhook(endpoint.secret).verify(receiver.received[0].body, receiver.received[0].headers)


def test_a_delivery_is_re_sent_from_its_page(qm_client, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_create(channel="phone", description="x", contact_name="K")
    delivery = WebhookDelivery.objects.get()
    page = qm_client.get(reverse("webhook_delivery", args=[delivery.pk])).content.decode()
    assert delivery.message_id in page and "200" in page
    with django_capture_on_commit_callbacks(execute=True):
        qm_client.post(reverse("webhook_resend", args=[delivery.pk]))
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.message_id] * 2
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.state == "delivered"
    assert entries(endpoint)[-1] == "resend"
    detail = qm_client.get(reverse("webhook_detail", args=[endpoint.pk]) + "?state=delivered").content.decode()
    assert "Khiếu nại được mở" in detail


def test_an_endpoint_failing_for_a_day_is_disabled_and_managers_are_emailed(
    endpoint, receiver, qm, mailoutbox, django_capture_on_commit_callbacks
):
    from webhooks.services import endpoint_enable

    receiver.stop()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            first = workflow.case_create(channel="phone", description="x", contact_name="K")
        for hour in range(1, 26):
            clock.move_to(start + timedelta(hours=hour))
            with django_capture_on_commit_callbacks(execute=True):
                if hour == 12:
                    later = workflow.case_create(channel="phone", description="y", contact_name="K")
                webhooks_send()
            endpoint.refresh_from_db()
            if not endpoint.active:
                break
        assert not endpoint.active and endpoint.auto_disabled and 24 <= hour <= 25
        assert len(mailoutbox) == 1 and mailoutbox[0].to == [qm.email]
        assert "Đã tắt điểm nhận webhook" in mailoutbox[0].subject and endpoint.url in mailoutbox[0].body
        assert entries(endpoint)[-1] == "disable"
        # The first event was tried for its whole day and failed (it can be re-sent); the later one waits, and
        # reaches the receiver once it is back and the endpoint enabled again.
        assert WebhookDelivery.objects.get(event__subject__endswith=str(first.events.first().pk)).state == "failed"
        receiver.start()
        with django_capture_on_commit_callbacks(execute=True):
            endpoint_enable(endpoint=endpoint, actor=qm)
    assert [json.loads(r.body)["data"]["reference"] for r in receiver.received] == [later.reference]


def test_an_endpoint_whose_one_delivery_failed_for_its_whole_day_is_disabled(
    endpoint, receiver, qm, mailoutbox, django_capture_on_commit_callbacks
):
    # One event, tried from a moment after it was made until its day ended: every attempt failed, yet the last
    # one came a little less than a day after the first failure, so the endpoint stayed enabled and nobody was
    # told (until some later event failed once, which then disabled it at its first attempt).
    receiver.stop()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        workflow.case_create(channel="phone", description="x", contact_name="K")  # no send on commit here
        clock.move_to(start + timedelta(seconds=2))
        delivery = WebhookDelivery.objects.get()
        while delivery.state == "pending":
            with django_capture_on_commit_callbacks(execute=True):
                webhooks_send()
            delivery.refresh_from_db()
            clock.move_to(max(delivery.next_attempt_at, timezone.now()))
        endpoint.refresh_from_db()
        assert delivery.state == "failed" and not endpoint.active and endpoint.auto_disabled
        assert len(mailoutbox) == 1 and mailoutbox[0].to == [qm.email]


def test_one_success_resets_the_failure_clock(endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.status = 500
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            workflow.case_create(channel="phone", description="x", contact_name="K")
        clock.move_to(start + timedelta(hours=20))
        receiver.status = 200
        with django_capture_on_commit_callbacks(execute=True):
            workflow.case_create(channel="phone", description="y", contact_name="K")
        endpoint.refresh_from_db()
        assert endpoint.failing_since is None and endpoint.last_success_at == start + timedelta(hours=20)
        receiver.status = 500
        clock.move_to(start + timedelta(hours=30))
        with django_capture_on_commit_callbacks(execute=True):
            workflow.case_create(channel="phone", description="z", contact_name="K")
    endpoint.refresh_from_db()
    # Failing again, but counted from hour 30, not from the first failure: still enabled.
    assert endpoint.active and endpoint.failing_since == start + timedelta(hours=30)


def test_lists_keep_a_fixed_number_of_queries(qm_client, endpoint, django_assert_max_num_queries):
    from webhooks.events import events_record

    events_record([("case.opened", f"case-event:{n}", {"n": n}) for n in range(30)])
    with django_assert_max_num_queries(12):
        qm_client.get(reverse("webhook_detail", args=[endpoint.pk]))
    with django_assert_max_num_queries(12):
        qm_client.get(reverse("webhook_list"))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_webhook_delivery_groups_durations_and_attempts(qm_client, endpoint, language):
    """Durations and attempt counts as the reader's language writes them (they were shown bare: "12345")."""
    from webhooks.models import EventType, WebhookAttempt, WebhookEvent

    event = WebhookEvent.objects.create(type=EventType.values[0], subject="x")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, attempts=1234, give_up_at=timezone.now())
    WebhookAttempt.objects.create(delivery=delivery, outcome="ok", status_code=200, duration_ms=12345)
    duration, attempts = {"vi": ("12.345", "1.234"), "en": ("12,345", "1,234")}[language]
    page = qm_client.get(reverse("webhook_delivery", args=[delivery.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert f">{duration}</td>" in page.content.decode()
    listing = qm_client.get(reverse("webhook_detail", args=[endpoint.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert f">{attempts}</td>" in listing.content.decode()
