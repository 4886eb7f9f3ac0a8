"""Two requests for one customer at once (a shop's two order events in the same second): one invitation, and the
other request is recorded as skipped by the throttle. Needs PostgreSQL: the second waits on the customer's lock,
and must then see the invitation the first committed."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from surveys.invitations import invitation_request
from surveys.models import Invitation
from tests.factories import CustomerFactory, make_survey, quality_manager
from tests.helpers import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_request_that_waited_for_the_customers_lock_sees_the_invitation_made_meanwhile():
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    survey = make_survey(owner=quality_manager())
    customer = CustomerFactory()
    second: list[Invitation] = []

    def other_request() -> None:
        try:
            with transaction.atomic():
                second.append(invitation_request(survey=survey, customer_id=customer.pk)[0])
        finally:
            connections.close_all()

    with transaction.atomic():
        first, token = invitation_request(survey=survey, customer_id=customer.pk)
        thread = threading.Thread(target=other_request)
        thread.start()
        time.sleep(0.5)  # the other request is now waiting for the customer's row
        assert not second
    thread.join(timeout=30)
    assert token and first.status != Invitation.Status.SKIPPED
    assert second[0].status == Invitation.Status.SKIPPED and second[0].status_reason == Invitation.Skip.THROTTLED
    assert Invitation.objects.filter(customer=customer).exclude(status=Invitation.Status.SKIPPED).count() == 1
