"""PostgreSQL's one-statement submit, outside any test transaction, as gunicorn runs it."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from surveys import building, fastpath
from surveys.models import Answer, Response
from tests.factories import make_invitation
from tests.helpers import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def calls(monkeypatch):
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    seen = []
    real = fastpath.quick_submit_row

    def spy(**kwargs):
        row = real(**kwargs)
        seen.append(row)
        return row

    monkeypatch.setattr(fastpath, "quick_submit_row", spy)
    return seen


def form_fields(html):
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def test_a_post_from_the_form_is_stored_in_one_statement(calls):
    invitation, token = make_invitation()
    client = Client()
    html = client.get(reverse("respond", args=[token])).content.decode()
    hidden = form_fields(html)
    assert set(hidden) == {"lang", "v", "st"}
    q1, q2 = invitation.survey.current_version.questions.order_by("position")
    page = client.post(reverse("respond", args=[token]), {**hidden, f"q{q1.pk}": "3", f"q{q2.pk}": "Chậm"})
    assert page.status_code == 302 and "/thanks/" in page["Location"]
    assert len(calls) == 1 and calls[0] is not None
    response = Response.objects.get()
    assert response.invitation_id == invitation.pk and response.version_id == invitation.survey.current_version_id
    assert set(Answer.objects.values_list("number", "text")) == {(None, "Chậm"), (3, "")}
    invitation.refresh_from_db()
    assert invitation.answered_at == response.submitted_at
    # The second post finds the link answered: no statement stores anything, the customer sees the thank-you page.
    again = client.post(reverse("respond", args=[token]), {**hidden, f"q{q1.pk}": "9"})
    assert again.status_code == 302 and calls[-1] is None
    assert Response.objects.count() == 1


def test_an_edit_between_page_and_post_is_caught_and_the_new_questions_apply(calls):
    invitation, token = make_invitation()
    client = Client()
    hidden = form_fields(client.get(reverse("respond", args=[token])).content.decode())
    version = invitation.survey.current_version
    building.question_add(
        version=version, kind="text", text_en="New required", text_vi="Câu mới bắt buộc", required=True
    )
    q1 = version.questions.order_by("position").first()
    page = client.post(reverse("respond", args=[token]), {**hidden, f"q{q1.pk}": "8"})
    assert page.status_code == 400 and "Câu mới bắt buộc" in page.content.decode()
    assert Response.objects.count() == 0


@pytest.mark.parametrize("stamp", ["not a date", "2001-01-01T00:00:00+00:00"])
def test_a_forged_stamp_changes_nothing(calls, stamp):
    invitation, token = make_invitation()
    client = Client()
    hidden = form_fields(client.get(reverse("respond", args=[token])).content.decode())
    q1 = invitation.survey.current_version.questions.order_by("position").first()
    page = client.post(reverse("respond", args=[token]), {**hidden, "st": stamp, f"q{q1.pk}": "10"})
    # Not in the cache under that stamp: the ordinary path stores the answer after its own checks.
    assert page.status_code == 302
    assert Response.objects.count() == 1
