"""Emailing one invitation link. Bulk campaigns, reminders and throttling build on this later."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from surveys.customers import unsubscribe_token
from surveys.invitations import invitation_link, new_token
from surveys.models import Invitation, hash_token
from surveys.scoring import FIXED_SCALES


def _one_line(text: str) -> str:
    # Names and titles end up in headers: no CR/LF may reach them (header injection).
    return " ".join(text.split())


def invitation_email_send(*, invitation_id: int) -> str:
    """Send the invitation's link once. Returns what happened: "sent", or why it was skipped.

    The link is only in the email, so sending issues a fresh token; marking `sent_at` in the same transaction that
    stores the token's hash means a re-run task finds it sent and does nothing.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("survey", "customer", "survey__current_version")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None:
            return "missing"
        if invitation.sent_at is not None:
            return "already-sent"
        if invitation.answered_at is not None:
            return "answered"
        if not invitation.customer.email:
            return "no-address"
        if invitation.customer.opted_out_at is not None:
            return "opted-out"
        token = new_token()
        invitation.token_hash = hash_token(token)
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["token_hash", "sent_at"])

    customer, survey = invitation.customer, invitation.survey
    language = customer.language
    headline = survey.current_version.questions.order_by("position").first() if survey.current_version else None
    scale = FIXED_SCALES.get(headline.kind) if headline else None
    with translation.override(language):
        context = {
            "customer_name": customer.name,
            "organisation": settings.ORGANISATION_NAME,
            "survey_title": survey.title(language),
            "question": headline.text(language) if headline else "",
            "link": invitation_link(token),
            "score_links": [(v, invitation_link(token, score=v)) for v in scale.values] if scale else [],
            "expires_at": invitation.expires_at,
            "unsubscribe": settings.SITE_URL + reverse("unsubscribe", args=[unsubscribe_token(customer)]),
        }
        subject = _one_line(render_to_string("surveys/email/invitation_subject.txt", context))
        text = render_to_string("surveys/email/invitation.txt", context)
        html = render_to_string("surveys/email/invitation.html", context)
    unsubscribe = settings.SITE_URL + reverse("unsubscribe", args=[unsubscribe_token(customer)])
    # RFC 2369 / RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this address.
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(subject=subject, body=text, to=[customer.email], headers=headers)
    message.attach_alternative(html, "text/html")
    message.send()
    return "sent"
