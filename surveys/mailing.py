"""Emailing an invitation link or a reminder of it; campaigns.py sends many through one connection."""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formatdate, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import DNS_NAME, sanitize_address
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape

from config.validators import one_line
from surveys.branding import brand_current
from surveys.customers import unsubscribe_token
from surveys.invitations import invitation_link, invitation_token
from surveys.models import Customer, Invitation, Survey
from surveys.scoring import FIXED_SCALES


def _one_line(text: str) -> str:
    # Names and titles end up in headers and the SMTP stream: no CR/LF or other control character may reach them
    # (header injection, SMTP smuggling). Input refuses them (config/validators.py); this folds older values.
    return one_line(text)


def invitation_email_send(*, invitation_id: int, reminder: bool = False, connection=None) -> str:  # type: ignore[no-untyped-def]
    """Send the invitation's link (or a reminder of it). Returns what happened: "sent", or why not.

    Idempotent: the invitation's state is checked and moved under a row lock, so a re-run task or a second worker
    never sends it twice. `connection` lets a campaign's chunk reuse one SMTP connection for many messages.
    """
    now = timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("survey", "customer", "survey__current_version", "campaign")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None:
            return "missing"
        first = (Invitation.Status.QUEUED, Invitation.Status.DEFERRED)
        expected = (Invitation.Status.SENT, Invitation.Status.OPENED) if reminder else first
        if invitation.answered_at is not None:
            return "answered"
        if invitation.status not in expected:
            return "already-sent" if not reminder else "not-remindable"
        if reminder and not _reminder_due(invitation, now):
            return "not-due"  # another run reminded it first
        customer = invitation.customer
        if customer.opted_out_at is not None:
            invitation.status, invitation.status_reason = Invitation.Status.SKIPPED, Invitation.Skip.OPTED_OUT
            invitation.save(update_fields=["status", "status_reason"])
            return "opted-out"
        if not customer.email:
            invitation.status, invitation.status_reason = Invitation.Status.SKIPPED, Invitation.Skip.INVALID_ADDRESS
            invitation.save(update_fields=["status", "status_reason"])
            return "no-address"
        token = invitation_token(invitation)
        message = _message(invitation, token, reminder)
        try:
            message.send() if connection is None else connection.send_messages([message])
        except Exception as error:  # noqa: BLE001 - any refusal by the mail server is recorded on the invitation
            if reminder:
                if smtp_temporary(error):
                    return "deferred"  # the next reminder run tries again: reminders_sent did not move
                invitation.status, invitation.status_reason = Invitation.Status.FAILED, smtp_words(error)
                invitation.save(update_fields=["status", "status_reason"])
                return "failed"
            return _first_send_failed(invitation, error, now)
        if reminder:
            invitation.reminders_sent += 1
        else:
            invitation.status, invitation.sent_at, invitation.status_reason = Invitation.Status.SENT, now, ""
            invitation.attempts += 1
        invitation.last_sent_at = now
        invitation.save(
            update_fields=["status", "sent_at", "reminders_sent", "last_sent_at", "status_reason", "attempts"]
        )
    return "sent"


def retry_delay(attempts: int) -> timedelta:
    """After the n-th temporary refusal: 1, 2, 4 ... minutes, then hourly (INVITATION_RETRY_* settings)."""
    seconds = settings.INVITATION_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.INVITATION_RETRY_MAX_SECONDS))


def _first_send_failed(invitation: Invitation, error: Exception, now) -> str:  # type: ignore[no-untyped-def]
    """One invitation's first email refused: deferred with its next attempt (temporary), or failed (permanent, or
    deferred too many times), with the server's words. The task (surveys/tasks.py) asks the outbox to run it
    again at the next attempt."""
    invitation.attempts += 1
    invitation.status_reason = smtp_words(error)
    if smtp_temporary(error) and invitation.attempts < settings.INVITATION_MAX_ATTEMPTS:
        invitation.status = Invitation.Status.DEFERRED
        invitation.next_attempt_at = now + retry_delay(invitation.attempts)
        invitation.save(update_fields=["status", "status_reason", "attempts", "next_attempt_at"])
        return "deferred"
    invitation.status = Invitation.Status.FAILED
    invitation.save(update_fields=["status", "status_reason", "attempts"])
    return "failed"


def _reminder_due(invitation: Invitation, now) -> bool:  # type: ignore[no-untyped-def]
    campaign = invitation.campaign
    if campaign is None or campaign.remind_after_days is None or invitation.last_sent_at is None:
        return False
    waited = invitation.last_sent_at <= now - timedelta(days=campaign.remind_after_days)
    return waited and invitation.reminders_sent < campaign.max_reminders and invitation.expires_at > now


# Markers for what differs per message. Plain ASCII letters, so they pass URL quoting, HTML escaping and MIME
# generation unchanged and can be replaced in a rendered message's bytes too.
NAME, TOKEN, UNSUB, EXPIRES = "LnNameMarker2d4e", "LnTokenMarker7f3a9c", "LnUnsubMarker81b6", "LnExpiresMarker5c0f"
HTML_NAME, TO, DATE, MESSAGE_ID = "LnHtmlNameMarker9e1a", "ln-to-marker@marker.invalid", "LnDateMarker", "LnMsgIdMarker"
LINE_LIMIT = 998  # RFC 5322: a line of a message may hold at most 998 characters
_MARKERS = re.compile(
    b"("
    + b"|".join(re.escape(m.encode()) for m in (HTML_NAME, NAME, TOKEN, UNSUB, EXPIRES, TO, DATE, MESSAGE_ID))
    + b")"
)


@dataclass(frozen=True)
class Wire:
    """A message as its bytes on the wire, with markers; see MessageTemplates.wire."""

    sender: str
    # The message cut at its markers: literal bytes at even positions, marker names at odd ones, so that a
    # message is one join (eight replace() passes over the whole message cost more).
    pieces: tuple[bytes | str, ...]
    boundary: bytes
    name_room: int  # how many bytes a name may take before its line would grow past LINE_LIMIT


class MessageTemplates:
    """Builds a campaign's emails: the templates are rendered once per survey, language and kind of email, with
    markers where each customer's name, link, unsubscribe link and expiry date go; each message then only fills
    them in. Rendering three templates per message was most of a campaign's CPU time (bench/campaign.py)."""

    def __init__(self) -> None:
        self._headlines: dict[tuple[object, ...], object] = {}
        self.settings = (settings.SITE_URL, settings.ORGANISATION_NAME, settings.DEFAULT_FROM_EMAIL)
        self._parts: dict[tuple[object, ...], tuple[str, str, str]] = {}
        self._dates: dict[tuple[str, object], str] = {}
        self._wires: dict[tuple[object, ...], Wire | None] = {}
        # reverse() took a fifth of a message's CPU time; the URL differs only by its token.
        prefix, _token, suffix = (settings.SITE_URL + reverse("unsubscribe", args=[TOKEN])).partition(TOKEN)
        self._unsubscribe_around = (prefix.encode(), suffix.encode())

    def _headline(self, survey):  # type: ignore[no-untyped-def]
        key = (survey.pk, survey.current_version_id)
        if key not in self._headlines:
            version = survey.current_version
            self._headlines[key] = version.questions.order_by("position").first() if version else None
        return self._headlines[key]

    @staticmethod
    def _key(survey: Survey, language: str, reminder: bool) -> tuple[object, ...]:
        # A survey edited (title, version) mid-campaign gets new templates: its updated_at moves.
        return (survey.pk, survey.updated_at, survey.current_version_id, language, reminder)

    def _rendered(self, survey: Survey, language: str, reminder: bool) -> tuple[str, str, str]:
        key = self._key(survey, language, reminder)
        if key not in self._parts:
            self._parts[key] = _render(survey, self._headline(survey), language, reminder, NAME, TOKEN, UNSUB, EXPIRES)
        return self._parts[key]

    def _date(self, language: str, when) -> str:  # type: ignore[no-untyped-def]
        key = (language, timezone.localdate(when))
        if key not in self._dates:
            with translation.override(language):
                self._dates[key] = formats.date_format(key[1], "DATE_FORMAT")
        return self._dates[key]

    def message(self, invitation: Invitation, token: str, reminder: bool = False) -> EmailMultiAlternatives:
        customer = invitation.customer
        subject, text, html = self._rendered(invitation.survey, customer.language, reminder)
        unsubscribe = _unsubscribe_url(customer)
        expires = self._date(customer.language, invitation.expires_at)

        def fill(part: str, name: str) -> str:
            return part.replace(NAME, name).replace(TOKEN, token).replace(UNSUB, unsubscribe).replace(EXPIRES, expires)

        name = _one_line(customer.name)
        return _assemble(customer, fill(subject, ""), fill(text, name), fill(html, escape(name)), unsubscribe)

    def wire(self, invitation: Invitation, token: str, reminder: bool = False) -> tuple[str, bytes] | None:
        """The same email as `message`, as (envelope sender, bytes) ready for SMTP, or None when only the
        general path can build it safely (an address that needs encoding, a name too long for one line).

        Generating the MIME message took most of a campaign's per-message CPU (about 0.6 ms of 0.9 ms): it is
        generated once per survey, language and kind, with 8-bit parts so that each message only replaces
        markers in bytes. tests/surveys/test_mailing.py checks that both paths produce the same email.
        """
        customer = invitation.customer
        key = self._key(invitation.survey, customer.language, reminder)
        if key not in self._wires:
            self._wires[key] = self._wire(invitation.survey, customer.language, reminder)
        wire, address = self._wires[key], customer.email
        if wire is None or not address.isascii() or any(c in address for c in ' ,<>"\\\r\n\t') or "@" not in address:
            return None
        folded = _one_line(customer.name)
        name, html_name = folded.encode(), escape(folded).encode()
        if max(len(name), len(html_name)) > wire.name_room or wire.boundary in name or wire.boundary in html_name:
            return None
        values = {
            NAME: name,
            HTML_NAME: html_name,
            TOKEN: token.encode(),
            UNSUB: unsubscribe_token(customer).encode().join(self._unsubscribe_around),
            EXPIRES: self._date(customer.language, invitation.expires_at).encode(),
            TO: address.encode(),
            DATE: formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode(),
            MESSAGE_ID: make_msgid(domain=DNS_NAME).encode(),
        }
        pieces = wire.pieces
        return wire.sender, b"".join([piece if i % 2 == 0 else values[piece] for i, piece in enumerate(pieces)])

    def _wire(self, survey: Survey, language: str, reminder: bool) -> Wire | None:
        subject, text, html = self._rendered(survey, language, reminder)
        stub = Customer(name="", email=TO)
        message = _assemble(stub, subject.replace(NAME, ""), text, html.replace(NAME, HTML_NAME), UNSUB)
        message.extra_headers.update({"Date": DATE, "Message-ID": MESSAGE_ID})
        mime = message.message()
        parts = [part for part in mime.walk() if not part.is_multipart()]
        if any(part["Content-Transfer-Encoding"] != "8bit" for part in parts):
            return None  # quoted-printable or base64 bodies cannot take replacements in their bytes
        data = mime.as_bytes(linesep="\r\n")
        if any(marker.encode() not in data for marker in (TO, DATE, MESSAGE_ID, UNSUB)):
            return None  # a header was encoded or folded around its marker
        name_lines = [line for line in data.split(b"\r\n") if NAME.encode() in line or HTML_NAME.encode() in line]
        longest = max((len(line) for line in name_lines), default=0)
        pieces = _MARKERS.split(data)
        pieces[1::2] = [piece.decode() for piece in pieces[1::2]]
        return Wire(
            sender=parseaddr(sanitize_address(message.from_email, message.encoding or settings.DEFAULT_CHARSET))[1],
            pieces=tuple(pieces),
            boundary=mime.get_boundary().encode(),
            # Less the markers' own length, plus a margin for a date or link sharing the line.
            name_room=LINE_LIMIT - longest - 100,
        )


_shared: MessageTemplates | None = None


def campaign_templates() -> MessageTemplates:
    """One set per worker process, so that a campaign's chunks share their rendered templates (building them
    took ~6 ms per survey and language, per chunk). Keys follow the survey's state; the set starts afresh when the
    settings it was built with change or when it grows past a few hundred templates."""
    global _shared
    current = (settings.SITE_URL, settings.ORGANISATION_NAME, settings.DEFAULT_FROM_EMAIL)
    if _shared is None or _shared.settings != current or len(_shared._wires) + len(_shared._parts) > 400:
        _shared = MessageTemplates()
    return _shared


class Courier:
    """Hands prepared messages to an SMTP server over one open connection, as smtplib's sendmail does but for plain
    addresses already checked (it parses both again for every message).

    When the server offers RFC 2920 pipelining, MAIL, RCPT and DATA go in one write, and the server's reply to a
    message's end of data is read only with the next message's envelope: the end of data opens the next group.
    The caller prepares the next message while the server is still taking in the last one, and each message costs
    one network round trip instead of four. Refusals are recorded in `outcomes` as (key, error) — error None when
    the server took the message; a dropped connection raises, leaving `pending` (a key, or None) unsettled.
    """

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        smtp.ehlo_or_helo_if_needed()
        self.pipelining = smtp.has_extn("pipelining")
        self.pending: int | None = None
        self.outcomes: list[tuple[int, smtplib.SMTPException | None]] = []

    def send(self, key: int, sender: str, recipient: str, data: bytes) -> None:
        commands = [f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA"]
        if self.pipelining:
            self.smtp.send("".join(f"{command}\r\n" for command in commands))
            self.finish()
            replies = [self.smtp.getreply() for _command in commands]
        else:
            replies = []
            for command in commands:
                self.smtp.putcmd(command)
                replies.append(self.smtp.getreply())
                if replies[-1][0] not in (250, 251, 354):
                    break
        refusal = self._refusal(replies, sender, recipient)
        if refusal is not None:
            self.outcomes.append((key, refusal))
            return
        self.smtp.send(smtp_data(data))
        self.pending = key
        if not self.pipelining:
            self.finish()

    def finish(self) -> None:
        """Read the reply to the message still waiting for one."""
        if self.pending is None:
            return
        code, reply = self.smtp.getreply()
        key, self.pending = self.pending, None
        self.outcomes.append((key, None if code == 250 else smtplib.SMTPDataError(code, reply)))

    def settled(self) -> list[tuple[int, smtplib.SMTPException | None]]:
        outcomes, self.outcomes = self.outcomes, []
        return outcomes

    def _refusal(self, replies: list[tuple[int, bytes]], sender: str, recipient: str) -> smtplib.SMTPException | None:
        (mail_code, mail_reply), *rest = replies
        # A pipelined DATA that the server accepted after refusing MAIL or RCPT must be ended before RSET.
        accepted_data = len(replies) == 3 and replies[2][0] == 354
        if mail_code != 250:
            self._reset(accepted_data)
            return smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
        if rest[0][0] not in (250, 251):
            self._reset(accepted_data)
            return smtplib.SMTPRecipientsRefused({recipient: rest[0]})
        if rest[1][0] != 354:
            self._reset(False)
            return smtplib.SMTPDataError(*rest[1])
        return None

    def _reset(self, end_data: bool) -> None:
        if end_data:
            self.smtp.send(b".\r\n")
            self.smtp.getreply()
        self.smtp.rset()


def courier_for(connection) -> Courier | None:  # type: ignore[no-untyped-def]
    """A courier for an open SMTP backend connection; None for the file and test backends."""
    if isinstance(connection, SMTPBackend) and connection.connection:
        return Courier(connection.connection)
    return None


_LINE_END = re.compile(rb"\r\n|\r|\n")
_DOT_AT_LINE_START = re.compile(rb"^\.", re.MULTILINE)


def smtp_data(data: bytes) -> bytes:
    """A message as the DATA of an SMTP transaction, ended: RFC 5321 2.3.8 and 4.5.2.

    Every line end becomes CRLF (a bare CR or LF is how "end of data" is smuggled past one server and not another),
    every line that starts with a dot gets a second one, and the message ends with CRLF "." CRLF. After the first
    pass every line ends in CRLF, so the multiline ^ of the second marks exactly the starts of lines."""
    data = _LINE_END.sub(b"\r\n", data)
    data = _DOT_AT_LINE_START.sub(b"..", data)
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def _unsubscribe_url(customer) -> str:  # type: ignore[no-untyped-def]
    return settings.SITE_URL + reverse("unsubscribe", args=[unsubscribe_token(customer)])


def _render(survey, headline, language, reminder, name, token, unsubscribe, expires):  # type: ignore[no-untyped-def]
    scale = FIXED_SCALES.get(headline.kind) if headline else None
    with translation.override(language):
        context = {
            "customer_name": name,
            "organisation": settings.ORGANISATION_NAME,
            "survey_title": survey.title(language),
            "question": headline.text(language) if headline else "",
            "link": invitation_link(token),
            "score_links": [(v, invitation_link(token, score=v)) for v in scale.values] if scale else [],
            "expires_text": expires,
            "unsubscribe": unsubscribe,
            "reminder": reminder,
            "brand": brand_current(),
            "site_url": settings.SITE_URL,
        }
        subject = _one_line(render_to_string("surveys/email/invitation_subject.txt", context))
        text = render_to_string("surveys/email/invitation.txt", context)
        html = render_to_string("surveys/email/invitation.html", context)
    return subject, text, html


def _assemble(customer, subject: str, text: str, html: str, unsubscribe: str) -> EmailMultiAlternatives:  # type: ignore[no-untyped-def]
    # RFC 2369 / RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this address.
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(subject=subject, body=text, to=[customer.email], headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def _message(invitation: Invitation, token: str, reminder: bool) -> EmailMultiAlternatives:
    """One email, rendered on its own (single sends and reminders)."""
    return MessageTemplates().message(invitation, token, reminder)


# --- What an SMTP failure means for delivery (surveys/campaigns.py's state machine) ------------------------------


def smtp_temporary(error: BaseException) -> bool:
    """A refusal worth trying again later: a 4xx reply (RFC 5321 §4.2.1), a refused or dropped connection, a
    timeout. A 5xx reply is permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (smtplib.SMTPServerDisconnected, OSError))


def smtp_words(error: BaseException) -> str:
    """The server's words, as a person reads them ("451 4.3.0 Try again later"), not a Python repr."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
        if replies:
            code, reply = replies[0]
            return _reply_text(code, reply)
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply_text(error.smtp_code, error.smtp_error)
    # No reply to quote: a key that the campaign page shows in the reader's language (campaigns.reason_text).
    if isinstance(error, TimeoutError):
        return SMTP_TIMEOUT
    if isinstance(error, ConnectionRefusedError):
        return SMTP_REFUSED
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SMTP_CLOSED
    return f"{type(error).__name__}: {error}"[:300]


SMTP_TIMEOUT, SMTP_REFUSED, SMTP_CLOSED = "smtp-timeout", "smtp-refused", "smtp-closed"


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"[:300]
