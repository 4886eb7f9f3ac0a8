import email
import re
import smtplib
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from customers.models import Customer
from surveys.campaigns import invitation_email_send, send_chunk
from surveys.campaigns.messages import MessageTemplates
from surveys.models import Invitation, Response
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


@pytest.mark.parametrize(
    ("kind", "language", "ends"),
    [("ces", "vi", ("1 = Rất dễ", "7 = Rất khó")), ("nps", "en", ("0 = Not at all likely", "10 = Extremely likely"))],
)
def test_the_score_buttons_say_which_end_is_which(mailoutbox, kind, language, ends):
    # The buttons were bare numbers. CES runs from easy (1) to difficult (7): a customer who found it easy and
    # tapped 7, as on most scales, came to a page with "very difficult" chosen. The page names both ends; so does
    # the email now, under the buttons, by either way of building it.
    survey = make_survey(kind=kind)
    invitation, token = make_invitation(survey=survey, customer=CustomerFactory(language=language))
    assert invitation_email_send(invitation_id=invitation.pk) == "sent"
    html = mailoutbox[0].alternatives[0][0]
    buttons = html.index("?score=")
    assert buttons < html.index(ends[0]) < html.index(ends[1])
    _sender, wire = MessageTemplates().wire(invitation, token)
    parsed = email.message_from_bytes(wire, policy=policy.default)
    assert all(end in parsed.get_body(("html",)).get_content() for end in ends)


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


def _parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def test_prepared_bytes_make_the_same_email_as_the_general_path(settings):
    settings.SITE_URL = "https://survey.example.org"
    customer = CustomerFactory(language="vi", name='Trần "Ánh" <Bảo & Co>')
    invitation, token = make_invitation(customer=customer)
    templates = MessageTemplates()
    sender, data = templates.wire(invitation, token)
    wire, general = _parsed(data), _parsed(templates.message(invitation, token).message().as_bytes(linesep="\r\n"))
    assert sender == "no-reply@localhost"
    for header in ("Subject", "From", "To", "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert wire[header] == general[header].strip(), header  # the general path may fold a long header
    for kind in ("plain", "html"):
        assert (
            wire.get_body(preferencelist=(kind,)).get_content()
            == general.get_body(preferencelist=(kind,)).get_content()
        )
    html = wire.get_body(preferencelist=("html",)).get_content()
    assert "Trần &quot;Ánh&quot; &lt;Bảo &amp; Co&gt;" in html and f"/s/{token}/?score=10" in html
    assert 'Kính gửi Trần "Ánh" <Bảo & Co>,' in wire.get_body(preferencelist=("plain",)).get_content()
    assert wire["Date"] and wire["Message-ID"] != _parsed(templates.wire(invitation, token)[1])["Message-ID"]
    assert wire["List-Unsubscribe"].startswith("<https://survey.example.org/u/")


@pytest.mark.parametrize(
    "name, address",
    [("A" * 10, "ánh@ví-dụ.vn"), ("&" * 200, "k@example.com"), ("Bcc\r\n--===", "a@b.c\r\nBcc: x@y.z")],
)
def test_what_the_bytes_path_cannot_carry_takes_the_general_path(name, address):
    customer = CustomerFactory(name=name)
    Customer.objects.filter(pk=customer.pk).update(email=address)
    invitation, token = make_invitation(customer=Customer.objects.get(pk=customer.pk))
    assert MessageTemplates().wire(invitation, token) is None


class Server:
    """A local SMTP server (aiosmtpd) that keeps what it accepted and refuses the addresses in `refuse`."""

    def __init__(
        self, *, pipelining: bool = False, refuse: tuple[str, ...] = (), refuse_data: str = "", hang_up_on: str = ""
    ) -> None:
        self.inbox: list[tuple[list[str], email.message.EmailMessage]] = []
        self.pipelining, self.refuse, self.hang_up_on = pipelining, refuse, hang_up_on
        self.refuse_data = refuse_data

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hooks
        session.host_name = hostname
        # Real servers (Postfix by default) offer RFC 2920 pipelining; aiosmtpd reads pipelined commands in order.
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.hang_up_on in envelope.rcpt_tos:
            self.hang_up_on = ""  # once: the retry finds the server back
            server.transport.close()
            return "421 Closing"
        if self.refuse_data in envelope.rcpt_tos:
            return "554 5.7.1 Message rejected as spam"
        self.inbox.append((envelope.rcpt_tos, _parsed(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    def start(**options):
        server = Server(**options)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(server, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
        return server

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


@pytest.mark.parametrize("pipelining", [False, True])
def test_a_refused_address_is_recorded_and_the_rest_of_the_chunk_still_goes(smtp_server, pipelining, monkeypatch):
    server = smtp_server(pipelining=pipelining, refuse=("gone@example.com",))
    writes: list[bytes] = []
    original = smtplib.SMTP.send
    monkeypatch.setattr(
        smtplib.SMTP,
        "send",
        lambda smtp, data: (writes.append(data if isinstance(data, bytes) else data.encode()), original(smtp, data))[1],
    )
    survey = make_survey(kind="csat")
    invitations = [
        make_invitation(survey=survey, customer=CustomerFactory(email=address))[0]
        for address in ("first@example.com", "gone@example.com", "last@example.com")
    ]
    assert send_chunk([i.pk for i in invitations]) == {"sent": 2, "failed": 1}
    assert sorted(rcpt[0] for rcpt, _message in server.inbox) == ["first@example.com", "last@example.com"]
    refused = Invitation.objects.get(pk=invitations[1].pk)
    assert refused.status == Invitation.Status.FAILED and "No such mailbox here" in refused.status_reason
    # With pipelining the envelope of a message goes in one write; without, a write per command.
    envelopes = [w for w in writes if w.startswith(b"MAIL FROM")]
    assert len(envelopes) == 3
    assert all(b"RCPT TO" in w and w.endswith(b"DATA\r\n") for w in envelopes) is pipelining


def test_a_chunk_over_smtp_arrives_whole_by_either_path(smtp_server):
    server = smtp_server()
    inbox = server.inbox
    survey = make_survey(kind="nps")
    plain = make_invitation(survey=survey, customer=CustomerFactory(name="Lê Văn Tám", email="tam@example.com"))[0]
    long_name = make_invitation(survey=survey, customer=CustomerFactory(name="<" * 200, email="dai@example.com"))[0]
    outcome = send_chunk([plain.pk, long_name.pk])
    assert outcome == {"sent": 2}
    received = {tuple(rcpt): message for rcpt, message in inbox}
    assert set(received) == {("tam@example.com",), ("dai@example.com",)}
    assert "Lê Văn Tám" in received[("tam@example.com",)].get_body(preferencelist=("plain",)).get_content()
    assert "&lt;" * 200 in received[("dai@example.com",)].get_body(preferencelist=("html",)).get_content()
    assert set(Invitation.objects.values_list("status", flat=True)) == {Invitation.Status.SENT}


@pytest.mark.parametrize("pipelining", [False, True])
def test_a_dropped_connection_puts_the_unsent_back_and_the_retry_sends_each_once(smtp_server, pipelining):
    # With pipelining the third message's answer is read with the fourth's envelope: both go back in the queue.
    server = smtp_server(pipelining=pipelining, hang_up_on="third@example.com")
    survey = make_survey(kind="nps")
    ids = [
        make_invitation(survey=survey, customer=CustomerFactory(email=f"{n}@example.com"))[0].pk
        for n in ("first", "second", "third", "fourth")
    ]
    assert send_chunk(ids) == {"sent": 2, "deferred": 2}  # recorded, not raised: nothing for a task to retry
    rows = {i.customer.email: (i.status, i.status_reason) for i in Invitation.objects.select_related("customer")}
    assert rows == {
        "first@example.com": ("sent", ""),
        "second@example.com": ("sent", ""),
        "third@example.com": ("deferred", "smtp-closed"),
        "fourth@example.com": ("deferred", "smtp-closed"),
    }
    assert not Invitation.objects.filter(status="deferred", next_attempt_at__isnull=True).exists()
    # When their next attempt comes, the dispatcher queues them again (campaigns.invitations_dispatch).
    Invitation.objects.filter(status="deferred").update(status="queued")
    assert send_chunk(ids) == {"already-sent": 2, "sent": 2}
    assert sorted(rcpt[0] for rcpt, _message in server.inbox) == [
        f"{n}@example.com" for n in ("first", "fourth", "second", "third")
    ]


@pytest.mark.parametrize("pipelining", [False, True])
def test_a_message_refused_after_its_content_fails_alone(smtp_server, pipelining, monkeypatch):
    server = smtp_server(pipelining=pipelining, refuse_data="spam@example.com")
    order: list[str] = []
    original_send, original_reply = smtplib.SMTP.send, smtplib.SMTP.getreply
    monkeypatch.setattr(
        smtplib.SMTP,
        "send",
        lambda smtp, data: (
            order.append("end" if isinstance(data, bytes) and data.endswith(b"\r\n.\r\n") else "write"),
            original_send(smtp, data),
        )[1],
    )
    monkeypatch.setattr(
        smtplib.SMTP, "getreply", lambda smtp: (reply := original_reply(smtp), order.append(f"{reply[0]}"))[0]
    )
    survey = make_survey(kind="nps")
    ids = [
        make_invitation(survey=survey, customer=CustomerFactory(email=f"{n}@example.com"))[0].pk
        for n in ("first", "spam", "last")
    ]
    assert send_chunk(ids) == {"sent": 2, "failed": 1}
    statuses = {i.customer.email: (i.status, i.status_reason) for i in Invitation.objects.select_related("customer")}
    assert statuses["first@example.com"] == ("sent", "") and statuses["last@example.com"] == ("sent", "")
    assert statuses["spam@example.com"][0] == "failed" and "rejected as spam" in statuses["spam@example.com"][1]
    assert sorted(rcpt[0] for rcpt, _message in server.inbox) == ["first@example.com", "last@example.com"]
    # Pipelined, the answer to a message's content is read after the next envelope is written, not before.
    first_end = order.index("end")
    assert (order[first_end + 1] == "write") is pipelining


def test_an_unreachable_server_defers_the_chunk(settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    invitation, _token = make_invitation()
    assert send_chunk([invitation.pk]) == {"deferred": 1}
    invitation.refresh_from_db()
    assert (invitation.status, invitation.status_reason, invitation.attempts) == ("deferred", "smtp-refused", 1)
    assert invitation.next_attempt_at is not None and invitation.lease_until is None
