"""Concurrent posts for one invitation, against real PostgreSQL: the database decides, and only one response exists."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from surveys.models import Answer, Response
from tests.factories import make_invitation
from tests.helpers import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_concurrent_posts_make_exactly_one_response():
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    invitation, token = make_invitation()
    qid = invitation.survey.current_version.questions.order_by("position").first().pk
    url = reverse("respond", args=[token])
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def post(score: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            page = client.post(url, {f"q{qid}": str(score)})
            results.append((page.status_code, page.get("Location", "")))
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(score,)) for score in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == workers
    # Every customer click ends on the thank-you page, whoever won the race.
    assert all(status == 302 and location.startswith(url + "thanks/") for status, location in results), results
    assert Response.objects.filter(invitation=invitation).count() == 1
    assert Answer.objects.filter(question_id=qid).count() == 1
