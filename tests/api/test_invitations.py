"""Asking one survey for one customer: the link or an email, opt-out and throttle honoured, idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from api.models import IdempotencyRecord
from audit.models import AuditEntry
from customers.models import Customer
from customers.services import customer_opt_out
from outbox.models import OutboxMessage
from surveys.models import Invitation
from tests.factories import CustomerFactory, make_survey

pytestmark = pytest.mark.django_db
URL = "/api/v1/invitations/"


@pytest.fixture
def survey(qm):
    return make_survey(owner=qm)


def test_the_link_is_returned_and_opens_the_survey(api, survey, qm, client):
    customer = CustomerFactory()
    response = api.post(URL, {"survey": survey.pk, "customer_id": customer.pk, "expires_in_days": 7})
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "queued" and body["skip_reason"] is None and body["channel"] == "link"
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    path = body["link"].split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200  # the customer's page opens
    entry = AuditEntry.objects.filter(record_type="surveys.invitation", record_id=str(invitation.pk)).get()
    assert (entry.via, entry.actor_id) == ("api", qm.pk)
    assert not OutboxMessage.objects.exists() and not mail.outbox


def test_send_true_emails_the_link_from_the_outbox(api, survey, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="lan@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"survey": survey.pk, "customer_external_id": customer.external_id, "send": True})
    assert response.status_code == 201
    assert response.json()["channel"] == "email"
    assert OutboxMessage.objects.filter(task="surveys.tasks.invitation_email").count() == 1
    assert [m.to for m in mail.outbox] == [["lan@example.com"]]
    assert Invitation.objects.get().status == "sent"


def test_a_customer_is_created_on_the_fly_or_found_by_external_id(api, survey):
    body = {"survey": survey.pk, "customer": {"name": "Trần Thị B", "email": "b@example.com", "external_id": "S-9"}}
    first = api.post(URL, body).json()
    assert Customer.objects.filter(external_id="S-9", name="Trần Thị B").count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=200)):
        second = api.post(URL, body).json()
    assert Customer.objects.filter(external_id="S-9").count() == 1
    assert first["customer"] == second["customer"] and first["id"] != second["id"]


def test_opted_out_and_recently_asked_customers_are_skipped_with_the_reason(api, survey):
    opted = customer_opt_out(customer=CustomerFactory())
    response = api.post(URL, {"survey": survey.pk, "customer_id": opted.pk, "send": True})
    assert response.status_code == 201
    assert response.json() | {"id": 0} == response.json() | {
        "id": 0, "state": "skipped", "skip_reason": "opted_out", "link": None
    }  # fmt: skip
    asked = CustomerFactory()
    assert api.post(URL, {"survey": survey.pk, "customer_id": asked.pk}).json()["state"] == "queued"
    again = api.post(URL, {"survey": make_survey().pk, "customer_id": asked.pk}).json()
    assert (again["state"], again["skip_reason"], again["link"]) == ("skipped", "throttled", None)
    nomail = CustomerFactory(email="")
    assert api.post(URL, {"survey": survey.pk, "customer_id": nomail.pk, "send": True}).json()["skip_reason"] == (
        "invalid_address"
    )
    assert not mail.outbox


def test_the_same_idempotency_key_and_body_give_the_same_invitation(api, survey):
    customer = CustomerFactory()
    body = {"survey": survey.pk, "customer_id": customer.pk}
    first = api.post(URL, body, **{"Idempotency-Key": "order-1001"})
    second = api.post(URL, body, **{"Idempotency-Key": "order-1001"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Invitation.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_refused_422(api, survey):
    customer = CustomerFactory()
    api.post(URL, {"survey": survey.pk, "customer_id": customer.pk}, **{"Idempotency-Key": "k"})
    other = api.post(URL, {"survey": survey.pk, "customer_id": customer.pk, "send": True}, **{"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "unprocessable"
    assert Invitation.objects.count() == 1


def test_a_failed_request_leaves_its_idempotency_key_free(api, survey, qm):
    from surveys.building import survey_close

    customer = CustomerFactory()
    survey_close(survey=survey)
    body = {"survey": survey.pk, "customer_id": customer.pk}
    assert api.post(URL, body, **{"Idempotency-Key": "k2"}).status_code == 400
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "survey"),
        ({"survey": "x", "customer_id": 1}, "survey"),
        ({"survey": 999999, "customer_id": "{customer}"}, "survey"),
        ({"survey": "{survey}"}, "non_field_errors"),
        ({"survey": "{survey}", "customer_id": 999999}, "customer_id"),
        ({"survey": "{survey}", "customer_id": "{customer}", "customer_external_id": "E"}, "non_field_errors"),
        ({"survey": "{survey}", "customer_id": "{customer}", "expires_in_days": 0}, "expires_in_days"),
        ({"survey": "{survey}", "customer": {"name": "a\r\nBcc: x@example.com"}}, "customer.name"),
        ({"survey": "{survey}", "customer": {"name": "A", "email": "not-an-address"}}, "customer.email"),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_changes_nothing(api, survey, body, field):
    customer = CustomerFactory()
    filled = {k: (int(v.format(survey=survey.pk, customer=customer.pk)) if isinstance(v, str) and "{" in v else v)
              for k, v in body.items()}  # fmt: skip
    counts = (Invitation.objects.count(), Customer.objects.count(), AuditEntry.objects.count())
    response = api.post(URL, filled)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    if field == "non_field_errors":
        assert error["fields"] == {} or "non_field_errors" in error["fields"]
    else:
        assert field in error["fields"], error
    assert (Invitation.objects.count(), Customer.objects.count(), AuditEntry.objects.count()) == counts


def test_not_json_is_refused(api, survey):
    response = api.client.post(URL, "survey=1", content_type="application/x-www-form-urlencoded",
                               headers=api.headers)  # fmt: skip
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
    broken = api.client.post(URL, "{not json", content_type="application/json", headers=api.headers)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "parse_error"


def test_messages_follow_accept_language(survey, write_key):
    from tests.api.conftest import Api

    vi = Api(write_key[1], language="vi").post(URL, {"survey": survey.pk, "customer_id": 999999})
    en = Api(write_key[1], language="en").post(URL, {"survey": survey.pk, "customer_id": 999999})
    assert en.json()["error"]["fields"]["customer_id"] == ["No customer has this id."]
    assert vi.json()["error"]["fields"]["customer_id"][0] != "No customer has this id."
    assert Api(None, language="vi").get("/api/v1/customers/").json()["error"]["message"].startswith("Gửi")


@pytest.mark.parametrize(
    ("body", "field", "vi", "en"),
    [
        ({"survey": "x", "customer_id": 1}, "survey", "Cần một số nguyên hợp lệ.", "A valid integer is required."),
        ({"survey": 2**64, "customer_id": 1}, "survey", "phải nhỏ hơn hoặc bằng", "less than or equal to"),
        ({"survey": 1, "customer_id": 1, "send": "maybe"}, "send", "true hoặc false", "valid boolean"),
        ({"survey": 1, "customer": {"name": "A\u0000"}}, "customer.name", "ký tự NUL", "Null characters"),
        ([1], "non_field_errors", "Dữ liệu không hợp lệ", "Expected a dictionary"),
    ],
)
def test_field_messages_follow_accept_language_too(write_key, body, field, vi, en):
    """REST framework's own Vietnamese catalogue has 21 strings: a Vietnamese error named its fields in English."""
    from tests.api.conftest import Api

    answers = {lang: Api(write_key[1], language=lang).post(URL, body).json()["error"] for lang in ("vi", "en")}
    texts = {lang: " ".join([error["message"], *error["fields"].get(field, [])]) for lang, error in answers.items()}
    assert vi in texts["vi"] and en not in texts["vi"], texts["vi"]
    assert en in texts["en"], texts["en"]


def test_the_invitation_state_is_read_back(api, read_api, survey):
    made = api.post(URL, {"survey": survey.pk, "customer_id": CustomerFactory().pk}).json()
    read = read_api.get(f"{URL}{made['id']}/").json()
    assert read["state"] == "queued" and read["link"] is None
    assert read_api.get(f"{URL}999999/").status_code == 404
