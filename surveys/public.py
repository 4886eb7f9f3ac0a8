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
from django.utils.translation import gettext as _

from surveys import building
from surveys.customers import customer_for_email
from surveys.models import Question, Response, Survey
from surveys.responding import ParsedAnswers, response_store


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
    email = email.strip().lower()
    customer = customer_for_email(email=email, language=language) if email else None
    response = response_store(
        survey=survey,
        version_id=survey.current_version_id,
        questions=questions,
        answers=answers,
        language=language,
        customer_id=customer.pk if customer else None,
        segment=customer.segment if customer else "",
        channel=Response.Channel.PUBLIC,
    )
    assert response is not None
    return response
