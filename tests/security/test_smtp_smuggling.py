"""Item 2: an SMTP smuggling primitive. A name carrying "\\n.\\r\\nMAIL FROM:..." must neither be accepted at input
nor, if already stored, reach an SMTP server as anything but one line of one message, on both sending paths."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers import importing
from customers.models import Customer
from feedback import workflow
from feedback.models import ComplaintCase
from surveys.campaigns import invitation_email_send, send_chunk
from surveys.campaigns.smtp import smtp_data
from tests.factories import CustomerFactory, make_invitation, make_survey
from tests.security.rawsmtp import RawSMTPServer, assert_clean_data

pytestmark = pytest.mark.django_db

SMUGGLED = "Khách\n.\r\nMAIL FROM:<ceo@victim.example>\r\nRCPT TO:<all@victim.example>\r\nDATA\r\nHi\r\n.\r\n"


def test_the_public_complaint_form_refuses_a_multi_line_name(client):
    page = client.post(
        reverse("complaint_form"),
        {"lang": "vi", "name": SMUGGLED, "email": "a@example.com", "description": "Giao trễ"},
    )
    assert page.status_code == 400
    assert "một dòng" in page.content.decode()
    assert not ComplaintCase.objects.exists()


def test_the_csv_import_refuses_control_characters_in_any_cell():
    data = 'name,email,phone\n"Lan\r\n.\r\nMAIL FROM:<x@y.z>",lan@example.com,\nHoa,hoa@example.com,"09\t12"\n'
    parsed = importing.parse(data.encode())
    assert parsed.valid == [] and len(parsed.invalid) == 2
    with pytest.raises(Exception):  # noqa: B017,PT011 - the model refuses it too, whatever path saves it
        CustomerFactory.build(name=SMUGGLED).full_clean()


def test_every_line_of_data_is_crlf_terminated_and_dot_stuffed():
    assert smtp_data(b"a\n.\r\nMAIL FROM:<x>\r\n.\rb\r\n") == b"a\r\n..\r\nMAIL FROM:<x>\r\n..\r\nb\r\n.\r\n"
    assert smtp_data(b".first\r\nlast") == b"..first\r\nlast\r\n.\r\n"


def _hostile_customers(count: int) -> list[Customer]:
    customers = [CustomerFactory(email=f"k{i}@example.com") for i in range(count)]
    # Stored before input was checked (an import of an older version): written around every validator.
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(name=SMUGGLED)
    return list(Customer.objects.filter(pk__in=[c.pk for c in customers]))


def _use(settings, server: RawSMTPServer) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    settings.EMAIL_TIMEOUT = 10


@pytest.mark.parametrize("pipelining", [False, True])
def test_hostile_names_through_the_campaign_courier_make_one_message_each(settings, pipelining):
    survey = make_survey(kind="nps")
    invitations = [make_invitation(survey=survey, customer=c)[0] for c in _hostile_customers(3)]
    with RawSMTPServer(pipelining=pipelining) as server:
        _use(settings, server)
        assert send_chunk([i.pk for i in invitations]) == {"sent": 3}
    assert server.mail_from_count() == 3 and len(server.recording.messages) == 3
    assert b"victim.example" not in b"".join(server.recording.commands)
    for message in server.recording.messages:
        assert_clean_data(message)
        assert b"Kh\xc3\xa1ch . MAIL FROM:<ceo@victim.example> RCPT TO" in message  # folded onto one line


def test_hostile_names_through_djangos_general_path_make_one_message_each(settings):
    customer = _hostile_customers(1)[0]
    invitation, _token = make_invitation(customer=customer)
    case = workflow.case_create(channel="phone", description="x", contact_name="k", contact_email="c@example.com")
    ComplaintCase.objects.filter(pk=case.pk).update(contact_name=SMUGGLED)
    from feedback.notify import send_acknowledgement

    with RawSMTPServer() as server:
        _use(settings, server)
        assert invitation_email_send(invitation_id=invitation.pk) == "sent"  # one message, Django's SMTP backend
        assert send_acknowledgement(case.pk) == "sent"
    assert server.mail_from_count() == 2 and len(server.recording.messages) == 2
    assert b"victim.example" not in b"".join(server.recording.commands)
    for message in server.recording.messages:
        assert_clean_data(message)
