"""Public links: one link per survey, for receipts, counters and kiosks, printable as a QR code made here.

Answers through it are anonymous unless the customer leaves an email address. Each client address may answer a
survey a limited number of times per hour, so a kiosk works and a script cannot flood the statistics.
"""

from __future__ import annotations

import secrets

import segno
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.models import Answer, Customer, Question, Response, Survey
from surveys.responding import ParsedAnswers, _announce, _answer_values


def public_link_enable(*, survey: Survey) -> Survey:
    if survey.public_key is None:
        survey.public_key = secrets.token_urlsafe(16)
        survey.save(update_fields=["public_key", "updated_at"])
    return survey


def public_link_disable(*, survey: Survey) -> Survey:
    survey.public_key = None
    survey.save(update_fields=["public_key", "updated_at"])
    return survey


def public_link(survey: Survey) -> str:
    return settings.SITE_URL + reverse("respond_public", args=[survey.public_key])


def qr_svg_data_uri(url: str) -> str:
    # Made on this server (no third-party service sees the link); an SVG prints sharp at any size.
    return segno.make(url, error="m").svg_data_uri(scale=8, border=2)


def over_rate(survey: Survey, client: str) -> bool:
    key = f"public-rate:{survey.pk}:{client}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > settings.PUBLIC_LINK_RATE_PER_HOUR


@transaction.atomic
def response_submit_public(
    *, survey: Survey, questions: list[Question], answers: ParsedAnswers, language: str, email: str = ""
) -> Response:
    """Store an answer given through the public link; linked to a customer only if they gave their email."""
    if not answers.is_valid:
        raise ValueError("response_submit_public needs valid answers")
    if survey.status != Survey.Status.ACTIVE or survey.current_version_id is None:
        raise ValidationError(_("This survey is not open."))
    customer = None
    email = email.strip().lower()
    if email:
        customer = Customer.objects.filter(email__iexact=email, erased_at__isnull=True).order_by("id").first()
        if customer is None:
            customer = Customer.objects.create(name=email, email=email, language=language)
    response = Response.objects.create(
        survey=survey,
        version_id=survey.current_version_id,
        customer=customer,
        language=language,
        submitted_at=timezone.now(),
    )
    by_id = {q.pk: q for q in questions}
    rows = []
    for qid, value in answers.values.items():
        number, text, choices = _answer_values(by_id[qid], value)
        rows.append(
            Answer(
                response=response, question_id=qid, number=number, text=text, choices=None if choices is None else value
            )
        )
    Answer.objects.bulk_create(rows)
    _announce(response, survey, by_id, answers)
    return response
