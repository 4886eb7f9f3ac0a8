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


@pytest.fixture
def _fresh_counts():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("_fresh_counts")
def test_a_victim_gets_a_few_confirmation_mails_however_the_address_is_spelled(
    settings, django_capture_on_commit_callbacks, mailoutbox
):
    """Varying the case or the plus-tag reaches the same mailbox: it is one count, and the visitor is told why."""
    from surveys.public import CLAIM_MAILS_PER_DAY

    settings.PUBLIC_LINK_RATE_PER_HOUR = 100
    survey = public_link_enable(survey=make_survey(kind="csat"))
    score = survey.current_version.questions.order_by("position").first()
    spellings = ["victim@example.org", "VICTIM@Example.org", "victim+1@example.org", "Victim+news@EXAMPLE.ORG"]

    def answer(email: str, lang: str = "vi"):
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(
                reverse("respond_public", args=[survey.public_key]), {"lang": lang, f"q{score.pk}": "4", "email": email}
            )

    assert [answer(e).status_code for e in spellings[:CLAIM_MAILS_PER_DAY]] == [302] * CLAIM_MAILS_PER_DAY
    assert len(mailoutbox) == CLAIM_MAILS_PER_DAY
    stored = (Response.objects.count(), ContactClaim.objects.count())
    page = answer(spellings[CLAIM_MAILS_PER_DAY])
    assert page.status_code == 429
    html = page.content.decode()
    assert "Chúng tôi đã gửi nhiều email xác nhận tới địa chỉ này hôm nay" in html
    assert 'value="Victim+news@EXAMPLE.ORG"' in html  # the page keeps what was typed, to correct it
    page = answer("victim+2@example.org", lang="en")
    assert "We have already sent this address several confirmation emails today" in page.content.decode()
    # Nothing was stored or mailed for the refused ones.
    assert (Response.objects.count(), ContactClaim.objects.count()) == stored and len(mailoutbox) == CLAIM_MAILS_PER_DAY
    # Without the address the answer goes through; another mailbox still gets its confirmation.
    assert answer("").status_code == 302 and Response.objects.count() == stored[0] + 1
    assert answer("victim2@example.org").status_code == 302 and len(mailoutbox) == CLAIM_MAILS_PER_DAY + 1


def test_the_mailbox_counted_is_lower_case_without_the_plus_tag():
    from surveys.public import mailbox

    assert mailbox(" Victim+Tag+More@Example.ORG ") == "victim@example.org"
    assert mailbox("victim@example.org") == mailbox("VICTIM@example.org") == mailbox("victim+@example.org")
    assert mailbox('"a@b"@example.org') == '"a@b"@example.org'
    assert mailbox("victim2@example.org") != mailbox("victim@example.org")
