"""Public links: one link per survey, for receipts, counters and kiosks, printable as a QR code made here.

Answers through it are anonymous. An email address left on the page is a claim, not an identity: it is kept beside
the answer as a `ContactClaim` and a confirmation link is mailed to it; only when the address's owner confirms does
the answer join the customer with that address. Until then nothing attaches to, or is mailed about, an existing
customer. Each client address may answer a survey a limited number of times per hour, so a kiosk works and a
script cannot flood the statistics.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.trail import audit_record, audit_snapshot
from config import ratelimit
from config.validators import one_line
from customers.services import customer_for_email
from outbox.dispatch import outbox_add
from surveys import building
from surveys.invitations import new_salt, token_for_salt
from surveys.models import ContactClaim, Question, Response, Survey, hash_token
from surveys.responding import ParsedAnswers, response_store

# Sent after a confirmed claim commits (arguments: response, customer): feedback links the answer's case to them.
contact_confirmed = Signal()


def public_link_enable(*, survey: Survey) -> Survey:
    if survey.public_key is None:
        building.survey_set_public_key(survey=survey, key=secrets.token_urlsafe(16))
    return survey


def public_link_disable(*, survey: Survey) -> Survey:
    return building.survey_set_public_key(survey=survey, key=None)


def public_link(survey: Survey) -> str:
    return settings.SITE_URL + reverse("respond_public", args=[survey.public_key])


def qr_svg_data_uri(url: str) -> str:
    # Made on this server (no third-party service sees the link); an SVG prints sharp at any size.
    return segno.make(url, error="m").svg_data_uri(scale=8, border=2)


def over_rate(survey: Survey, client: str) -> bool:
    # The project's one limiter (config/ratelimit.py): shared by every process, degrades open without its cache.
    return not ratelimit.hit("public-link", f"{survey.pk}:{client}", limit=settings.PUBLIC_LINK_RATE_PER_HOUR)


@transaction.atomic
def response_submit_public(
    *, survey: Survey, questions: list[Question], answers: ParsedAnswers, language: str, email: str = ""
) -> Response:
    """Store an answer given through the public link, anonymous; an email given is a claim to confirm (above).
    ClaimMailRefused, and nothing stored, when that address has had its confirmation mails for today."""
    if not answers.is_valid:
        raise ValueError("response_submit_public needs valid answers")
    if survey.status != Survey.Status.ACTIVE or survey.current_version_id is None:
        raise ValidationError(_("This survey is not open."))
    email = email.strip().lower()
    response = response_store(
        survey=survey,
        version_id=survey.current_version_id,
        questions=questions,
        answers=answers,
        language=language,
        customer_id=None,  # an email typed here is a claim: see contact_claim_create
        segment="",  # anonymous until the address is confirmed; the rollup never moves it
        channel=Response.Channel.PUBLIC,
    )
    assert response is not None
    if email:
        contact_claim_create(response=response, email=email, language=language)
    return response


CLAIM_SALT_TTL_DAYS = 7  # a confirmation link works this long
# Confirmation mails per mailbox per day: a visitor typing someone's address again and again mails them a few
# times at most (each mail only asks; ignoring it changes nothing).
CLAIM_MAILS_PER_DAY = 3


class ClaimMailRefused(ValidationError):
    """The mailbox has had its confirmation mails for today: nothing is stored, the visitor is told why."""


def mailbox(email: str) -> str:
    """The mailbox an address delivers to, as the confirmation-mail limit counts it: lower-case, without a plus-tag
    ("Victim+1@Example.org" is victim@example.org). Varying those gave a fresh count per variant, so the limit did
    not stop anyone mailing a victim. Only for counting: the claim keeps the address it was given."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return domain
    return local.split("+", 1)[0] + "@" + domain


def contact_claim_create(*, response: Response, email: str, language: str) -> ContactClaim:
    """Keep `email` beside the answer as a claim and mail it a confirmation link; ClaimMailRefused (nothing is
    created) when the mailbox has had CLAIM_MAILS_PER_DAY of them already."""
    if not ratelimit.hit("claim-mail", mailbox(email), limit=CLAIM_MAILS_PER_DAY, window=86400):
        raise ClaimMailRefused(
            gettext_lazy(
                "We have already sent this address several confirmation emails today and send no more until "
                "tomorrow. Leave the email empty to send your answer now, or try again tomorrow."
            ),
            code="claim_mail_limit",
        )
    # Like an invitation's: derived from a stored salt and the server key, so that neither the database nor the
    # task message holds a working link.
    salt = new_salt()
    claim = ContactClaim.objects.create(
        response=response, email=email, language=language, token_salt=salt, token_hash=hash_token(_token(salt))
    )
    # Recorded in this transaction and handed to a worker by the dispatcher: no broker call in the request.
    outbox_add(task="surveys.tasks.contact_claim_email", args=[claim.pk])
    return claim


def _token(salt: str) -> str:
    return token_for_salt("claim:" + salt)


def contact_claim_link(token: str) -> str:
    return settings.SITE_URL + reverse("contact_confirm", args=[token])


def contact_claim_email_send(*, claim_id: int) -> str:
    """Mail the confirmation link to the claimed address. Idempotent: a claim is mailed once."""
    with transaction.atomic():
        claim = ContactClaim.objects.select_for_update().filter(pk=claim_id).select_related("response__survey").first()
        if claim is None or claim.mailed_at is not None or claim.confirmed_at is not None:
            return "skipped"
        token = _token(claim.token_salt)
        survey = claim.response.survey
        context = {
            "organisation": settings.ORGANISATION_NAME,
            "survey_title": survey.title(claim.language),
            "link": contact_claim_link(token),
            "days": CLAIM_SALT_TTL_DAYS,
        }
        with translation.override(claim.language):
            subject = one_line(render_to_string("surveys/email/contact_confirm_subject.txt", context))
            body = render_to_string("surveys/email/contact_confirm.txt", context)
        # RFC 3834: written by the system, so auto-replies (an absence message) do not answer it.
        EmailMessage(subject, body, None, [claim.email], headers={"Auto-Submitted": "auto-generated"}).send()
        claim.mailed_at = timezone.now()
        claim.save(update_fields=["mailed_at"])
    return "sent"


def contact_claim_for_token(token: str) -> ContactClaim | None:
    if not token or len(token) > 128:
        return None
    claim = ContactClaim.objects.filter(token_hash=hash_token(token)).select_related("response__survey").first()
    if claim is None or claim.created_at < timezone.now() - timedelta(days=CLAIM_SALT_TTL_DAYS):
        return None
    return claim


@transaction.atomic
def contact_claim_confirm(*, claim: ContactClaim) -> ContactClaim:
    """The address's owner confirmed: the answer joins the customer with that address (made if none). Once."""
    claim = ContactClaim.objects.select_for_update().select_related("response").get(pk=claim.pk)
    if claim.confirmed_at is not None:
        return claim
    customer = customer_for_email(email=claim.email, language=claim.language)
    claim.confirmed_at, claim.customer = timezone.now(), customer
    claim.save(update_fields=["confirmed_at", "customer"])
    response = claim.response
    before = audit_snapshot(response)
    response.customer = customer
    response.save(update_fields=["customer"])
    # On the trail: which claim (and so which confirmed address) joined the answer to the customer, and when; the
    # actor is whoever follows the link (the public page), as the customer record made here says too.
    audit_record(
        response,
        action="link_customer",
        before=before,
        context={"contact_claim": claim.pk},
        extra={"contact_claim": [None, claim.pk]},
    )
    transaction.on_commit(lambda: contact_confirmed.send(sender=ContactClaim, response=response, customer=customer))
    return claim
