"""Emailing an invitation link or a reminder of it; campaigns.py sends many through one connection."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape

from surveys.customers import unsubscribe_token
from surveys.invitations import invitation_link, invitation_token
from surveys.models import Invitation, Survey
from surveys.scoring import FIXED_SCALES


def _one_line(text: str) -> str:
    # Names and titles end up in headers: no CR/LF may reach them (header injection).
    return " ".join(text.split())


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
        expected = (Invitation.Status.SENT, Invitation.Status.OPENED) if reminder else (Invitation.Status.QUEUED,)
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
            invitation.status, invitation.status_reason = Invitation.Status.FAILED, str(error)[:300]
            invitation.save(update_fields=["status", "status_reason"])
            return "failed"
        if reminder:
            invitation.reminders_sent += 1
        else:
            invitation.status, invitation.sent_at = Invitation.Status.SENT, now
        invitation.last_sent_at = now
        invitation.save(update_fields=["status", "sent_at", "reminders_sent", "last_sent_at"])
    return "sent"


def _reminder_due(invitation: Invitation, now) -> bool:  # type: ignore[no-untyped-def]
    campaign = invitation.campaign
    if campaign is None or campaign.remind_after_days is None or invitation.last_sent_at is None:
        return False
    waited = invitation.last_sent_at <= now - timedelta(days=campaign.remind_after_days)
    return waited and invitation.reminders_sent < campaign.max_reminders and invitation.expires_at > now


# Markers for what differs per message; the token one must survive URL quoting, so it is plain letters.
NAME, TOKEN, UNSUB, EXPIRES = "\x00name\x00", "LnTokenMarker7f3a9c", "\x00unsubscribe\x00", "\x00expires\x00"


class MessageTemplates:
    """Builds a campaign's emails: the templates are rendered once per survey, language and kind of email, with
    markers where each customer's name, link, unsubscribe link and expiry date go; each message then only fills
    them in. Rendering three templates per message was most of a campaign's CPU time (bench/campaign.py)."""

    def __init__(self) -> None:
        self._headlines: dict[int, object] = {}
        self._parts: dict[tuple[int, str, bool], tuple[str, str, str]] = {}
        self._dates: dict[tuple[str, object], str] = {}

    def _headline(self, survey):  # type: ignore[no-untyped-def]
        if survey.pk not in self._headlines:
            version = survey.current_version
            self._headlines[survey.pk] = version.questions.order_by("position").first() if version else None
        return self._headlines[survey.pk]

    def _rendered(self, survey: Survey, language: str, reminder: bool) -> tuple[str, str, str]:
        key = (survey.pk, language, reminder)
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

        return _assemble(
            customer, fill(subject, ""), fill(text, customer.name), fill(html, escape(customer.name)), unsubscribe
        )


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
