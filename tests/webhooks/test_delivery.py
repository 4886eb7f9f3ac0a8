"""Events reach a real receiver, signed so that an independent implementation verifies them, and retried."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from feedback import workflow
from tests.factories import CustomerFactory, make_invitation, make_survey
from webhooks.delivery import backoff, webhooks_send
from webhooks.events import sweep
from webhooks.models import WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db


def answer(survey, score, capture, customer=None):
    invitation, token = make_invitation(survey=survey, customer=customer or CustomerFactory())
    q1 = survey.current_version.questions.order_by("position").first()
    with capture(execute=True):
        Client().post(reverse("respond", args=[token]), {f"q{q1.pk}": str(score)})
    return invitation


def test_a_detractor_answer_reaches_the_receiver_signed(endpoint, receiver, django_capture_on_commit_callbacks):
    survey = make_survey(kind="nps")
    customer = CustomerFactory(external_id="CRM-77")
    answer(survey, 3, django_capture_on_commit_callbacks, customer=customer)
    types = sorted(json.loads(r.body)["type"] for r in receiver.received)
    # The closed loop opened a case too (then acknowledged it by email): those events come from the case's own
    # transactions.
    assert types == ["case.opened", "case.status_changed", "response.detractor", "response.submitted"]
    for request in receiver.received:
        # The receiver's view: a Standard Webhooks library with the secret shown at creation accepts it.
        payload = Webhook(endpoint.secret).verify(request.body, request.headers)
        assert request.headers["webhook-id"].startswith("msg_")
    detractor = next(json.loads(r.body) for r in receiver.received if b"response.detractor" in r.body)
    assert detractor["data"]["customer"] == {"id": customer.pk, "external_id": "CRM-77"}
    assert detractor["data"]["detractor_answers"][0]["score"] == 3
    assert "email" not in json.dumps(detractor)  # nobody's address leaves in a webhook
    assert payload["type"] and payload["timestamp"]
    assert WebhookDelivery.objects.filter(state="delivered").count() == 4
    assert WebhookAttempt.objects.filter(outcome="ok", status_code=200).count() == 4
    # Each delivery shows its own attempt's time and status code (written for the whole batch in one statement).
    for delivery in WebhookDelivery.objects.all():
        attempt = delivery.attempt_log.get()
        assert (delivery.delivered_at, delivery.last_status_code, delivery.attempts) == (attempt.at, 200, 1)


def test_a_tampered_body_or_another_secret_fails_verification(endpoint, receiver, django_capture_on_commit_callbacks):
    from standardwebhooks.webhooks import WebhookVerificationError

    answer(make_survey(kind="nps"), 9, django_capture_on_commit_callbacks)
    request = receiver.received[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"9", b"0"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)


def test_the_signature_matches_the_spec_written_out(endpoint, receiver, django_capture_on_commit_callbacks):
    import base64
    import hashlib
    import hmac

    answer(make_survey(kind="csat"), 5, django_capture_on_commit_callbacks)
    request = receiver.received[0]
    key = base64.b64decode(endpoint.secret.split("_", 1)[1])
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == expected


def test_case_status_changes_and_closing_are_delivered(endpoint, receiver, qm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = workflow.case_create(channel="phone", description="Hỏng", contact_name="K")
    for status in ("acknowledged", "investigating"):
        with django_capture_on_commit_callbacks(execute=True):
            case = workflow.case_transition(case=case, to_status=status, actor=qm)
    with django_capture_on_commit_callbacks(execute=True):
        case = workflow.case_transition(case=case, to_status="responded", actor=qm, message="Đã sửa")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_transition(case=case, to_status="closed", actor=qm, customer_accepted=True)
    bodies = [json.loads(r.body) for r in receiver.received]
    assert [b["type"] for b in bodies] == ["case.opened"] + ["case.status_changed"] * 4 + ["case.closed"]
    assert bodies[-1]["data"]["reference"] == case.reference and bodies[-1]["data"]["customer_accepted"] is True
    assert [b["data"]["to_status"] for b in bodies[1:5]] == ["acknowledged", "investigating", "responded", "closed"]


def test_a_failed_case_change_leaves_no_delivery(endpoint, qm):
    case = workflow.case_create(channel="phone", description="x", contact_name="K")
    before = WebhookDelivery.objects.count()
    with pytest.raises(Exception):  # noqa: B017, PT011 - a refused transition
        workflow.case_transition(case=case, to_status="closed", actor=qm)
    assert WebhookDelivery.objects.count() == before


def test_backoff_grows_with_jitter_and_stops_at_an_hour(settings):
    assert timedelta(seconds=22) <= backoff(1) <= timedelta(seconds=38)
    assert timedelta(seconds=90) <= backoff(3) <= timedelta(seconds=150)
    assert backoff(30) <= timedelta(hours=1.25)
    assert len({backoff(5) for _ in range(20)}) > 1  # jittered: many retries do not fall on the same second


def test_a_failing_receiver_is_retried_with_backoff_then_the_delivery_fails(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.status = 503
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            workflow.case_create(channel="phone", description="x", contact_name="K")
        delivery = WebhookDelivery.objects.get()
        assert delivery.attempts == 1 and delivery.state == "pending"
        gaps = []
        while delivery.state == "pending":
            previous = timezone.now()
            clock.move_to(delivery.next_attempt_at)
            gaps.append((delivery.next_attempt_at - previous).total_seconds())
            webhooks_send()
            delivery.refresh_from_db()
        assert delivery.state == "failed"
        # 30 s, 1, 2, 4 ... minutes, jittered, then hourly, until a day after the event.
        assert 20 <= gaps[0] <= 40 and 40 <= gaps[1] <= 80 and max(gaps) <= 1.25 * 3600
        assert timezone.now() - start >= timedelta(hours=24)
        assert 20 <= delivery.attempts <= 40
    attempt = WebhookAttempt.objects.filter(delivery=delivery).first()
    assert attempt.status_code == 503 and "Service unavailable" in attempt.excerpt and attempt.outcome == "http"


def test_a_receiver_down_for_an_hour_gets_every_event_when_it_returns(endpoint, receiver, qm):
    start = timezone.now()
    receiver.stop()
    with time_machine.travel(start, tick=False) as clock:
        cases = [workflow.case_create(channel="phone", description=f"{n}", contact_name="K") for n in range(5)]
        for minute in range(0, 61, 5):
            clock.move_to(start + timedelta(minutes=minute))
            webhooks_send()
        assert receiver.received == []
        receiver.start()  # the same port again
        clock.move_to(start + timedelta(hours=2, minutes=30))
        webhooks_send()
    references = sorted(json.loads(r.body)["data"]["reference"] for r in receiver.received)
    assert references == sorted(c.reference for c in cases)
    assert WebhookDelivery.objects.filter(state="delivered").count() == 5
    # While it was down, one attempt per round was made, not one per delivery.
    assert WebhookAttempt.objects.filter(outcome="unreachable").count() < 5 * 13


def test_a_response_committed_late_is_found_by_the_full_sweep(endpoint, receiver):
    """A quick sweep looks past the newest response examined; a response with a smaller id that committed later
    (its transaction began earlier) is caught by the full sweep beat runs."""
    from tests.factories import make_response
    from webhooks.models import WebhookEvent, WebhookSettings

    survey = make_survey(kind="nps")
    late, newer = make_response(survey, 9), make_response(survey, 10)
    WebhookSettings.objects.update_or_create(pk=1, defaults={"response_examined": newer.pk})
    assert sweep(full=False) == 0
    assert sweep(full=True) == 2  # both were unsettled; `newer` is made now too, once
    assert sweep(full=True) == 0
    assert set(WebhookEvent.objects.values_list("subject", flat=True)) == {
        f"response:{late.pk}",
        f"response:{newer.pk}",
    }
    assert len(receiver.received) == 2


def test_a_new_endpoint_gets_responses_from_now_on_not_the_history(qm, receiver, private_ok):
    from tests.factories import make_response
    from webhooks.services import endpoint_create

    survey = make_survey(kind="nps")
    old = [make_response(survey, 9) for _ in range(3)]  # e.g. demo data or an import, before anyone listened
    endpoint_create(url=receiver.url, events=["response.submitted"], actor=qm)
    new = make_response(survey, 8)
    assert sweep() == 1
    assert [json.loads(r.body)["data"]["response_id"] for r in receiver.received] == [new.pk]
    assert old
