"""The invitation and reminder emails: rendered once per survey and language (per worker process), then filled
in per customer. Lines stay within RFC 5322's limit; names and titles are folded to one line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formatdate, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import DNS_NAME, sanitize_address
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape

from config.validators import one_line
from customers.models import Customer
from customers.services import unsubscribe_token
from surveys.branding import brand_current
from surveys.invitations import invitation_link
from surveys.models import Invitation, Survey
from surveys.scoring import FIXED_SCALES


def _one_line(text: str) -> str:
    # Names and titles end up in headers and the SMTP stream: no CR/LF or other control character may reach them
    # (header injection, SMTP smuggling). Input refuses them (config/validators.py); this folds older values.
    return one_line(text)


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
            # Which end is which, as on the page: CES runs from easy to difficult, against most scales' habit.
            "scale_ends": ((scale.low, str(scale.low_label)), (scale.high, str(scale.high_label))) if scale else (),
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


def invitation_message(invitation: Invitation, token: str, reminder: bool) -> EmailMultiAlternatives:
    """One email, rendered on its own (single sends and reminders)."""
    return MessageTemplates().message(invitation, token, reminder)
