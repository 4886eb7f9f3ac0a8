"""Two requests with the same Idempotency-Key at the same moment (a CRM retrying on a timeout) make one invitation,
and both answers name it. Needs PostgreSQL: the second waits on the unique index until the first commits."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from api.keys import apikey_create
from surveys.models import Invitation
from tests.api.conftest import Api
from tests.factories import CustomerFactory, make_survey, quality_manager
from tests.helpers import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_concurrent_requests_with_one_key_make_one_invitation():
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    manager = quality_manager()
    survey = make_survey(owner=manager)
    customers = [CustomerFactory() for _ in range(8)]
    _key, secret = apikey_create(name="CRM", scope="write", actor=manager)
    start = threading.Barrier(8)
    answers: list[tuple[int, dict]] = []

    def ask(customer_id: int) -> None:
        try:
            client = Api(secret)
            start.wait()
            # The same key; the bodies differ for all but the first two, which must not matter to who wins.
            body = {"survey": survey.pk, "customer_id": customers[0].pk if customer_id < 2 else customers[1].pk}
            response = client.post("/api/v1/invitations/", body, **{"Idempotency-Key": "retry-1"})
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Invitation.objects.count() == 1
    made = Invitation.objects.get()
    ok = [body["id"] for status, body in answers if status in (200, 201)]
    assert set(ok) == {made.pk} and len(answers) == 8
    assert sorted(status for status, _body in answers).count(201) == 1
    assert all(status == 422 for status, body in answers if status not in (200, 201))
