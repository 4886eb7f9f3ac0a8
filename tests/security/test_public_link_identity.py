"""Item 1: answering the public link as an existing customer by typing their address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from feedback.models import ComplaintCase
from surveys.models import ContactClaim, Response
from surveys.public import public_link_enable
from tests.factories import CustomerFactory, make_survey

pytestmark = pytest.mark.django_db


def test_a_typed_address_neither_attaches_to_nor_mails_the_customer_who_owns_it(
    django_capture_on_commit_callbacks, mailoutbox
):
    victim = CustomerFactory(email="victim@example.com", name="Trần Thị Hoa")
    survey = public_link_enable(survey=make_survey(kind="nps"))
    score, comment = survey.current_version.questions.order_by("position")
    with django_capture_on_commit_callbacks(execute=True):
        page = Client().post(
            reverse("respond_public", args=[survey.public_key]),
            {"lang": "vi", f"q{score.pk}": "0", f"q{comment.pk}": "Tệ nhất", "email": "Victim@Example.com"},
        )
    assert page.status_code == 302
    response = Response.objects.get()
    assert response.customer is None and not victim.responses.exists()
    # The detractor's case is opened, but in nobody's name and with no address to write to.
    case = ComplaintCase.objects.get()
    assert case.customer is None and case.email == "" and not victim.cases.exists()
    # The one mail only asks the address's owner whether it was them; it carries no case and no answer.
    assert len(mailoutbox) == 1
    assert case.reference not in mailoutbox[0].subject + mailoutbox[0].body and "Tệ nhất" not in mailoutbox[0].body
    assert ContactClaim.objects.get().confirmed_at is None


def test_a_guessed_or_reused_confirmation_link_confirms_nothing(django_capture_on_commit_callbacks):
    survey = public_link_enable(survey=make_survey(kind="nps"))
    score = survey.current_version.questions.order_by("position").first()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(
            reverse("respond_public", args=[survey.public_key]),
            {"lang": "vi", f"q{score.pk}": "2", "email": "someone@example.com"},
        )
    claim = ContactClaim.objects.get()
    assert Client().post(reverse("contact_confirm", args=["x" * 43])).status_code == 404
    assert Client().post(reverse("contact_confirm", args=[claim.token_hash])).status_code == 404  # the stored hash
    claim.refresh_from_db()
    assert claim.confirmed_at is None and Response.objects.get().customer is None
