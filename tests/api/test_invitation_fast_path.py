"""The invitation request's fast path (bench/api.py) keeps what a user of the API sees: the same answer, the same
call log, the same idempotency promise, the same audit trail, in fewer statements. Each shortcut is held to the plain
version it replaces."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import keys
from api.models import ApiCall, IdempotencyRecord
from api.serializers import (
    InvitationRequestSerializer,
    InvitationSerializer,
    invitation_data,
    plain_invitation_request,
)
from audit.models import AuditEntry
from audit.trail import audit_deferred, audit_record
from customers.services import customer_opt_out
from surveys import fastpath
from surveys.building import survey_close
from surveys.invitations import _ask_rows_plain, invitation_create, invitation_link, token_for_salt
from surveys.models import Invitation
from tests.factories import CustomerFactory, make_survey
from tests.helpers import require

pytestmark = pytest.mark.django_db
URL = "/api/v1/invitations/"


@pytest.fixture
def survey(qm):
    return make_survey(owner=qm)


def _serializer_body(invitation: Invitation, link: str | None) -> dict:
    return dict(InvitationSerializer(invitation, context={"links": {invitation.pk: link} if link else {}}).data)


def test_the_answer_is_what_the_serializer_gives(survey, qm):
    asked, token = invitation_create(survey=survey, customer=CustomerFactory(), created_by=qm)
    link = invitation_link(token)
    assert invitation_data(asked, link=link) == _serializer_body(asked, link)
    asked.sent_at = timezone.now()
    asked.answered_at = timezone.now() + timedelta(minutes=3)
    assert invitation_data(asked, link=None) == _serializer_body(asked, None)
    skipped = Invitation.objects.create(
        survey=survey, customer=CustomerFactory(), token_hash="x" * 64, status=Invitation.Status.SKIPPED,
        status_reason=Invitation.Skip.THROTTLED, expires_at=timezone.now(),
    )  # fmt: skip
    assert invitation_data(skipped, link=None) == _serializer_body(skipped, None)
    assert invitation_data(skipped, link=None)["skip_reason"] == "throttled"


@pytest.mark.parametrize(
    "body",
    [
        {"survey": 3, "customer_id": 9},
        {"survey": 3, "customer_id": 9, "send": True},
        {"survey": 3, "customer_id": 9, "send": False, "expires_in_days": 365},
        {"survey": 3, "customer_id": 9, "expires_in_days": 1},
    ],
)
def test_the_plain_shape_is_checked_as_the_serializer_checks_it(body):
    serializer = InvitationRequestSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    assert plain_invitation_request(body) == dict(serializer.validated_data)


@pytest.mark.parametrize(
    "body",
    [
        {"survey": True, "customer_id": 9},  # a JSON boolean is no id
        {"survey": "3", "customer_id": 9},  # a string the serializer may accept: its call
        {"survey": 3.0, "customer_id": 9},
        {"survey": 0, "customer_id": 9},
        {"survey": 3, "customer_id": 2**63},
        {"survey": 3, "customer_id": 9, "send": "true"},
        {"survey": 3, "customer_id": 9, "expires_in_days": None},
        {"survey": 3, "customer_id": 9, "expires_in_days": 366},
        {"survey": 3, "customer_id": 9, "customer_external_id": "E"},
        {"survey": 3, "customer_external_id": "E"},
        {"survey": 3},
        [{"survey": 3, "customer_id": 9}],
    ],
)
def test_any_other_shape_is_left_to_the_serializer(body):
    assert plain_invitation_request(body) is None


def test_each_request_is_logged_once_with_its_status(api, write_key, survey):
    customer = CustomerFactory()
    body = {"survey": survey.pk, "customer_id": customer.pk}
    statuses = [
        api.post(URL, body, **{"Idempotency-Key": "o-1"}).status_code,  # made
        api.post(URL, body, **{"Idempotency-Key": "o-1"}).status_code,  # replayed
        api.post(URL, {**body, "send": True}, **{"Idempotency-Key": "o-1"}).status_code,  # another body
        api.post(URL, {"survey": survey.pk, "customer_id": 999999}).status_code,  # no such customer
        api.post(URL, {"survey": survey.pk, "customer_id": CustomerFactory().pk}).status_code,  # no key
    ]
    assert statuses == [201, 200, 422, 400, 201]
    calls = list(ApiCall.objects.order_by("id").values_list("key_id", "method", "endpoint", "status"))
    assert calls == [(write_key[0].pk, "POST", "/api/v1/invitations/", s) for s in statuses]
    assert all(call.duration_ms >= 0 for call in ApiCall.objects.all())


def test_a_failed_write_makes_nothing_and_the_call_is_still_logged(api, survey, monkeypatch):
    def broken(*args):
        raise OperationalError("the database went away")

    # The last statement (the audit entry, the idempotency record and the call's log row) fails.
    customer = CustomerFactory()
    monkeypatch.setattr("audit.trail._store", broken)
    entries = AuditEntry.objects.count()
    response = api.post(URL, {"survey": survey.pk, "customer_id": customer.pk}, **{"Idempotency-Key": "x"})
    assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
    assert not Invitation.objects.exists() and not IdempotencyRecord.objects.exists()
    assert AuditEntry.objects.count() == entries  # the invitation's entry went with it
    assert list(ApiCall.objects.values_list("endpoint", "status")) == [("/api/v1/invitations/", 503)]


def test_a_retry_after_the_survey_closed_gets_the_first_answer(api, survey):
    customer = CustomerFactory()
    body = {"survey": survey.pk, "customer_id": customer.pk}
    first = api.post(URL, body, **{"Idempotency-Key": "late-retry"})
    survey_close(survey=survey)
    again = api.post(URL, body, **{"Idempotency-Key": "late-retry"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = api.post(URL, {**body, "expires_in_days": 3}, **{"Idempotency-Key": "late-retry"})
    assert other.status_code == 422
    assert api.post(URL, body, **{"Idempotency-Key": "new"}).status_code == 400  # closed: no new invitation
    assert Invitation.objects.count() == IdempotencyRecord.objects.count() == 1


def test_a_retry_for_a_customer_who_opted_out_since_gets_the_first_answer(api, survey):
    customer = CustomerFactory()
    body = {"survey": survey.pk, "customer_id": customer.pk}
    first = api.post(URL, body, **{"Idempotency-Key": "k"}).json()
    customer_opt_out(customer=customer)
    again = api.post(URL, body, **{"Idempotency-Key": "k"}).json()
    assert again == first and again["state"] == "queued"
    assert Invitation.objects.count() == 1


def test_the_trail_stays_verifiable_and_names_the_api(api, survey, qm):
    made = [
        api.post(URL, {"survey": survey.pk, "customer_id": CustomerFactory().pk}, **{"Idempotency-Key": f"v-{i}"})
        for i in range(3)
    ]
    opted = customer_opt_out(customer=CustomerFactory())
    made.append(api.post(URL, {"survey": survey.pk, "customer_id": opted.pk}))
    ids = [str(r.json()["id"]) for r in made]
    entries = AuditEntry.objects.filter(record_type="surveys.invitation", record_id__in=ids).order_by("seq")
    assert [(e.record_id, e.action, e.via, e.actor_id) for e in entries] == [(i, "create", "api", qm.pk) for i in ids]
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115  # raises when the chain is broken


def test_the_key_is_marked_used_at_most_once_a_minute(api, write_key, survey):
    key = write_key[0]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.post(URL, {"survey": survey.pk, "customer_id": CustomerFactory().pk})
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        api.post(URL, {"survey": survey.pk, "customer_id": CustomerFactory().pk})
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api.get(f"{URL}1/")
    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(seconds=61)


def test_deferred_entries_are_appended_at_the_end_or_not_at_all(survey, qm):
    customer = CustomerFactory()
    before = AuditEntry.objects.count()
    with transaction.atomic(), audit_deferred():
        entry = audit_record(customer, action="update", extra={"note": ["a", "b"]})
        assert entry is not None and entry.pk is None and AuditEntry.objects.count() == before
    assert AuditEntry.objects.count() == before + 1 and entry.pk is not None and entry.seq is not None
    with pytest.raises(ValueError, match="stop"), transaction.atomic(), audit_deferred():
        audit_record(customer, action="update", extra={"note": ["b", "c"]})
        raise ValueError("stop")
    assert AuditEntry.objects.count() == before + 1
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.django_db(transaction=True)
def test_deferring_needs_a_transaction():
    with pytest.raises(RuntimeError), audit_deferred():
        pass


def test_a_plain_invitation_request_runs_few_statements(api, survey):
    api.post(URL, {"survey": survey.pk, "customer_id": CustomerFactory().pk})  # the key's last-used time is written
    customer = CustomerFactory()
    with CaptureQueriesContext(connection) as queries:
        response = api.post(URL, {"survey": survey.pk, "customer_id": customer.pk}, **{"Idempotency-Key": "q"})
    assert response.status_code == 201
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    if connection.vendor == "postgresql":
        # The customer (locked) and survey; the throttle, read after the lock (tests/api/test_throttle_race.py);
        # the invitation; the chain's head; the entry, the head's update, the idempotency record and the call's log
        # row. And the key, unless Redis's version stamp says the one checked at the first call still holds.
        key_read = [s for s in statements if "api_apikey" in s]
        assert len(key_read) == (0 if shared_cache() else 1), statements
        assert len(statements) == 5 + len(key_read), statements
    else:
        # The ORM's path reads the key's maker's groups (is the maker still a quality manager?) with a statement of
        # its own; PostgreSQL's reads them with the key.
        assert len(statements) <= 11, statements


def shared_cache() -> bool:
    from config import ratelimit

    return ratelimit._redis() is not None


# PostgreSQL's shortcuts against the ORM versions they replace.


def test_the_key_lookup_reads_what_the_orm_reads(write_key, qm):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    key, secret = write_key
    fast, plain = keys._key_with_creator(keys.hash_secret(secret)), keys._key_with_creator_plain(key.key_hash)
    assert fast is not None and plain is not None
    fields = [f.attname for f in type(key)._meta.concrete_fields]
    assert [getattr(fast, f) for f in fields] == [getattr(plain, f) for f in fields]
    user_fields = [f.attname for f in type(qm)._meta.concrete_fields]
    assert [getattr(fast.created_by, f) for f in user_fields] == [getattr(plain.created_by, f) for f in user_fields]
    assert keys._key_with_creator("0" * 64) is None


def test_the_request_rows_are_what_the_orm_reads(survey, qm):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    now = timezone.now()
    since = now - timedelta(days=30)
    fresh, asked, skipped_only, long_ago = (CustomerFactory() for _ in range(4))
    invitation_create(survey=survey, customer=asked)
    Invitation.objects.create(
        survey=survey, customer=skipped_only, token_hash="s" * 64, status=Invitation.Status.SKIPPED,
        expires_at=now,
    )  # fmt: skip
    invitation_create(survey=survey, customer=long_ago, now=now - timedelta(days=31))
    for customer, throttled in ((fresh, False), (asked, True), (skipped_only, False), (long_ago, False)):
        with transaction.atomic():
            fast = fastpath.ask_rows(customer_id=customer.pk, survey_id=survey.pk, since=since)
            plain = _ask_rows_plain(customer_id=customer.pk, survey_id=survey.pk, since=since)
        assert fast is not None and plain is not None
        assert fast[2] is plain[2] is throttled
        for fast_row, plain_row in zip(fast[:2], plain[:2], strict=True):
            fields = [f.attname for f in type(plain_row)._meta.concrete_fields]
            assert [getattr(fast_row, f) for f in fields] == [getattr(plain_row, f) for f in fields]
    with transaction.atomic():
        assert fastpath.ask_rows(customer_id=999999, survey_id=survey.pk, since=since) is None
        assert fastpath.ask_rows(customer_id=fresh.pk, survey_id=999999, since=since) is None


def test_the_link_in_the_answer_opens_the_survey(api, survey, client):
    body = api.post(URL, {"survey": survey.pk, "customer_id": CustomerFactory().pk}).json()
    invitation = Invitation.objects.get(pk=body["id"])
    assert body["link"] == invitation_link(token_for_salt(invitation.token_salt))
    assert client.get("/" + body["link"].split("://", 1)[1].split("/", 1)[1]).status_code == 200


def test_the_limit_is_counted_in_one_round_trip_and_its_window_expires(settings):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from config import ratelimit

    backend = caches["default"]
    require(isinstance(backend, RedisCache), "needs Redis (REDIS_URL)")
    name = ratelimit._key("test-window", "198.51.100.9")
    client = backend._cache.get_client(write=True)
    client.delete(backend.make_and_validate_key(name))
    assert [ratelimit.hit("test-window", "198.51.100.9", limit=2, window=30) for _ in range(3)] == [True, True, False]
    assert 0 < client.ttl(backend.make_and_validate_key(name)) <= 30  # the window ends: no count lives forever
    assert backend.get(name) == 3  # the cache reads the count back, so over() sees it
    assert ratelimit.over("test-window", "198.51.100.9", limit=2)
    assert not ratelimit.over("test-window", "198.51.100.9", limit=3)


def test_rows_written_together_read_back_as_saved_ones(write_key, survey):
    from config.sqlrows import insert_together

    invitation, _token = invitation_create(survey=survey, customer=CustomerFactory())
    at = timezone.now()
    together = [
        IdempotencyRecord(key=write_key[0], idempotency_key="t", body_hash="b" * 64, invitation=invitation),
        ApiCall(key=write_key[0], at=at, method="POST", endpoint="/api/v1/invitations/", status=201, duration_ms=4),
    ]
    saved = [
        IdempotencyRecord(key=write_key[0], idempotency_key="s", body_hash="b" * 64, invitation=invitation),
        ApiCall(key=write_key[0], at=at, method="POST", endpoint="/api/v1/invitations/", status=201, duration_ms=4),
    ]
    insert_together(together)
    for row in saved:
        row.save()
    records = list(IdempotencyRecord.objects.order_by("idempotency_key").values("key", "body_hash", "invitation"))
    assert records[0] == records[1] and IdempotencyRecord.objects.count() == 2
    calls = list(ApiCall.objects.values("key", "at", "method", "endpoint", "status", "duration_ms"))
    assert len(calls) == 2 and calls[0] == calls[1]


def test_an_invitation_may_be_inserted_without_save(survey, qm):
    from django.db.models import Model, signals

    # If either changes, invitations must go back to save(): surveys/invitations._invitation_insert skips both.
    assert Invitation.save is Model.save
    assert not any(s.has_listeners(Invitation) for s in (signals.pre_save, signals.post_save))
    customer = CustomerFactory()
    fast, _token = invitation_create(survey=survey, customer=customer, created_by=qm)
    plain = Invitation.objects.create(
        survey=survey, customer=customer, created_by=qm, token_hash="p" * 64, token_salt=fast.token_salt,
        channel=fast.channel, created_at=fast.created_at, expires_at=fast.expires_at,
    )  # fmt: skip
    fields = [f.attname for f in Invitation._meta.concrete_fields if f.attname not in ("id", "token_hash")]
    stored = Invitation.objects.get(pk=fast.pk)
    assert [getattr(stored, f) for f in fields] == [getattr(plain, f) for f in fields]
    assert [getattr(stored, f) for f in fields] == [getattr(fast, f) for f in fields]
    assert fast._state.db == plain._state.db and not fast._state.adding
