"""Emailing an invitation link or a reminder of it; campaigns.py sends many through one connection."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from surveys.customers import unsubscribe_token
from surveys.invitations import invitation_link, invitation_token
from surveys.models import Invitation
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
            .select_related("survey", "customer", "survey__current_version")
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


class MessageTemplates:
    """Builds invitation emails, remembering per survey what every message of a campaign shares."""

    def __init__(self) -> None:
        self._headlines: dict[int, object] = {}

    def _headline(self, survey):  # type: ignore[no-untyped-def]
        if survey.pk not in self._headlines:
            version = survey.current_version
            self._headlines[survey.pk] = version.questions.order_by("position").first() if version else None
        return self._headlines[survey.pk]

    def message(self, invitation: Invitation, token: str, reminder: bool = False) -> EmailMultiAlternatives:
        return _message(invitation, token, reminder, self._headline(invitation.survey))


def _message(invitation: Invitation, token: str, reminder: bool, headline=None) -> EmailMultiAlternatives:  # type: ignore[no-untyped-def]
    customer, survey = invitation.customer, invitation.survey
    language = customer.language
    if headline is None and survey.current_version:
        headline = survey.current_version.questions.order_by("position").first()
    scale = FIXED_SCALES.get(headline.kind) if headline else None
    unsubscribe = settings.SITE_URL + reverse("unsubscribe", args=[unsubscribe_token(customer)])
    with translation.override(language):
        context = {
            "customer_name": customer.name,
            "organisation": settings.ORGANISATION_NAME,
            "survey_title": survey.title(language),
            "question": headline.text(language) if headline else "",
            "link": invitation_link(token),
            "score_links": [(v, invitation_link(token, score=v)) for v in scale.values] if scale else [],
            "expires_at": invitation.expires_at,
            "unsubscribe": unsubscribe,
            "reminder": reminder,
        }
        subject = _one_line(render_to_string("surveys/email/invitation_subject.txt", context))
        text = render_to_string("surveys/email/invitation.txt", context)
        html = render_to_string("surveys/email/invitation.html", context)
    # RFC 2369 / RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this address.
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(subject=subject, body=text, to=[customer.email], headers=headers)
    message.attach_alternative(html, "text/html")
    return message
