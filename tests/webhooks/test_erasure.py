"""An erased customer's words leave the webhook log: what is stored to be sent (or sent again) holds them no more."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from customers.services import customer_erase
from tests.factories import CustomerFactory, make_invitation, make_survey
from webhooks.delivery import body_of
from webhooks.events import sweep
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.services import delivery_resend

pytestmark = pytest.mark.django_db

COMMENT = "Nhân viên Trần Thị Mai ở quầy 3 rất thô lỗ"


def answer_with_comment(survey, customer, score, comment, capture):
    invitation, token = make_invitation(survey=survey, customer=customer)
    questions = list(survey.current_version.questions.order_by("position"))
    text = next(q for q in questions if q.kind == "text")
    with capture(execute=True):
        Client().post(reverse("respond", args=[token]), {f"q{questions[0].pk}": str(score), f"q{text.pk}": comment})
    return invitation


def test_erasing_a_customer_removes_their_comments_and_external_id_from_stored_events(
    endpoint, receiver, qm, django_capture_on_commit_callbacks
):
    survey = make_survey(kind="nps")
    erased, other = CustomerFactory(external_id="CRM-1"), CustomerFactory(external_id="CRM-2")
    receiver.reply = f"received: {COMMENT}".encode()  # a receiver that quotes what it got in its answer
    answer_with_comment(survey, erased, 2, COMMENT, django_capture_on_commit_callbacks)
    sweep()
    receiver.reply = None
    answer_with_comment(survey, other, 3, "Giao hàng chậm", django_capture_on_commit_callbacks)
    sweep()
    assert WebhookAttempt.objects.filter(excerpt__contains=COMMENT).exists()
    theirs = WebhookEvent.objects.filter(data__customer__id=erased.pk)
    assert COMMENT in json.dumps([e.data for e in theirs], ensure_ascii=False)  # the receiver got it at the time
    assert theirs.count() >= 3  # submitted, detractor, and the case the closed loop opened

    customer_erase(customer=erased, actor=qm, reason="Thư của khách ngày 3/5")

    stored = json.dumps([e.data for e in WebhookEvent.objects.all()], ensure_ascii=False)
    assert COMMENT not in stored
    assert "CRM-1" not in stored
    for event in WebhookEvent.objects.filter(data__customer__id=erased.pk):
        assert event.data["customer"] == {"id": erased.pk, "external_id": None}
        for answer in event.data.get("answers", []) + event.data.get("detractor_answers", []):
            assert answer["text"] is None
    # Scores stay (the erasure keeps them, anonymous), and another customer's events are untouched.
    detractor = WebhookEvent.objects.get(type="response.detractor", data__customer__id=erased.pk)
    assert detractor.data["detractor_answers"][0]["score"] == 2
    assert "Giao hàng chậm" in stored and "CRM-2" in stored
    assert not WebhookAttempt.objects.filter(excerpt__contains=COMMENT).exists()
    assert WebhookAttempt.objects.filter(excerpt__startswith="received: ").exists()  # the rest of the answer stays

    # Sending one of their deliveries again sends the erased version.
    delivery = WebhookDelivery.objects.filter(event__type="response.submitted", event__data__customer__id=erased.pk)
    resent = delivery_resend(delivery=delivery.get(), actor=qm)
    assert COMMENT.encode() not in body_of(resent.event)
