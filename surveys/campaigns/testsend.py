"""A campaign's test email: the quality manager sees the customers' email in their own mailbox before sending."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from customers.models import Customer
from surveys.campaigns import messages as mailing
from surveys.models import Survey

# Stands where a customer's token would be; replaced by the survey's preview, so the test holds no working link.
_TEST_TOKEN = "LnTestSendToken"  # noqa: S105 - a placeholder, not a secret


def campaign_test_send(*, survey: Survey, user: AbstractBaseUser, language: str) -> str:
    """Email the campaign's message to `user`, in `language`. Its links open the survey's preview (staff only),
    so nothing a customer could answer is created and no invitation is counted. Returns the address used."""
    address = (getattr(user, "email", "") or "").strip()
    if not address:
        raise ValidationError(_("Your account has no email address: add one to receive a test email."))
    version = survey.current_version
    headline = version.questions.order_by("position").first() if version else None
    name = getattr(user, "get_full_name", lambda: "")() or getattr(user, "username", "")
    with translation.override(language):
        expires = formats.date_format(timezone.localdate() + timedelta(days=settings.INVITATION_EXPIRY_DAYS))
    subject, text, html = mailing._render(survey, headline, language, False, name, _TEST_TOKEN, "#", expires)
    preview = settings.SITE_URL + reverse("survey_preview", args=[survey.pk]) + f"?lang={language}"
    real = settings.SITE_URL + reverse("respond", args=[_TEST_TOKEN])
    text = text.replace(real + "?score=", preview + "&score=").replace(real, preview)
    html = html.replace(real + "?score=", preview + "&amp;score=").replace(real, preview)
    message = mailing._assemble(
        Customer(name=name, email=address), "[" + pgettext("a test email", "Test") + "] " + subject, text, html, preview
    )
    message.send()
    return address
