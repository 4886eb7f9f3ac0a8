"""The email that tells quality managers an endpoint was disabled, one per reader in that reader's language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.roles import QUALITY_MANAGER
from webhooks.models import WebhookEndpoint


def reader_language(user: object) -> str:
    # Staff accounts keep no language of their own yet: the site's language, as for escalations and alerts.
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def send_endpoint_disabled(endpoint_id: int) -> int:
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    readers = (
        get_user_model()
        .objects.filter(Q(groups__name=QUALITY_MANAGER) | Q(is_superuser=True), is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    context = {
        "endpoint": endpoint,
        "hours": settings.WEBHOOK_DISABLE_AFTER_HOURS,
        "link": settings.SITE_URL + reverse("webhook_detail", args=[endpoint.pk]),
    }
    sent = 0
    for reader in readers:
        with translation.override(reader_language(reader)):
            subject = " ".join(render_to_string("webhooks/email/disabled_subject.txt", context).split())
            body = render_to_string("webhooks/email/disabled.txt", context)
        sent += send_mail(subject, body, None, [reader.email])
    return sent
