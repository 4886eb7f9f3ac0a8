import re

import pytest
from django.test import Client

from surveys.mailing import invitation_email_send
from surveys.models import Response
from tests.factories import CustomerFactory, make_invitation, make_survey

pytestmark = pytest.mark.django_db


def test_invitation_email_in_the_customers_language_with_score_buttons(mailoutbox, settings):
    settings.SITE_URL = "https://survey.example.org"
    invitation, _old_token = make_invitation(customer=CustomerFactory(language="en", name="Sarah Hughes"))
    assert invitation_email_send(invitation_id=invitation.pk) == "sent"
    message = mailoutbox[0]
    assert "Dear Sarah Hughes," in message.body
    html = message.alternatives[0][0]
    links = re.findall(r'href="(https://survey\.example\.org/s/[^"?]+/\?score=(\d+))"', html)
    assert [score for _url, score in links] == [str(v) for v in range(11)]


def test_the_emailed_link_opens_the_survey_and_the_score_is_prefilled(mailoutbox):
    invitation, old_token = make_invitation()
    invitation_email_send(invitation_id=invitation.pk)
    html = mailoutbox[0].alternatives[0][0]
    path = re.search(r'href="http://127\.0\.0\.1:8000(/s/[^"]+\?score=3)"', html).group(1)
    page = Client().get(path.replace("&amp;", "&"))
    assert page.status_code == 200 and 'value="3" checked' in page.content.decode()
    assert "Kính gửi" in mailoutbox[0].body
    # The emailed link is the invitation's one link: the same token, whichever email carries it.
    assert f"/s/{old_token}/" in html
    assert Response.objects.count() == 0


def test_sending_twice_sends_once(mailoutbox):
    invitation, _token = make_invitation()
    assert invitation_email_send(invitation_id=invitation.pk) == "sent"
    assert invitation_email_send(invitation_id=invitation.pk) == "already-sent"
    assert len(mailoutbox) == 1


def test_no_header_injection_through_titles_or_names(mailoutbox):
    survey = make_survey()
    survey.title_vi = "Khảo sát\r\nBcc: victim@example.com"
    survey.save()
    customer = CustomerFactory(name="Evil\nBcc: x@example.com")
    invitation, _token = make_invitation(survey=survey, customer=customer)
    invitation_email_send(invitation_id=invitation.pk)
    message = mailoutbox[0].message()
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and mailoutbox[0].bcc == []


def test_customer_without_address_is_skipped(mailoutbox):
    invitation, _token = make_invitation(customer=CustomerFactory(email=""))
    assert invitation_email_send(invitation_id=invitation.pk) == "no-address"
    assert mailoutbox == []
