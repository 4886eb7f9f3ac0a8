"""Webhook endpoints, the events they receive, and every delivery attempt (the record of what was sent).

An event is stored once; each subscribed endpoint gets one delivery with its own `webhook-id` (the same on every
retry, so a receiver can drop duplicates). Deliveries are their own queue of record, like invitations: pending with
the next attempt time (a lease while a worker sends it), delivered, or failed after a day of retries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    RESPONSE_SUBMITTED = "response.submitted", _("Response submitted")
    RESPONSE_DETRACTOR = "response.detractor", _("Detractor response")
    CASE_OPENED = "case.opened", _("Case opened")
    CASE_STATUS_CHANGED = "case.status_changed", _("Case status changed")
    CASE_CLOSED = "case.closed", _("Case closed")
    CAMPAIGN_FINISHED = "campaign.finished", _("Campaign finished")


class WebhookEndpoint(models.Model):
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # "whsec_" + base64 of 24 random bytes (Standard Webhooks); shown once, when created or rolled.
    secret = models.CharField(max_length=100)
    active = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    # Disabled by the system because every attempt failed for a day (the page says so in the reader's language).
    auto_disabled = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The start of the current run of failed attempts (none since the last success); a day of it disables.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def event_labels(self) -> list[str]:
        return [str(EventType(e).label) for e in self.events if e in EventType.values]


class WebhookEvent(models.Model):
    type = models.CharField(_("event"), max_length=30, choices=EventType.choices)
    # What it is about, e.g. "response:123": an event is made once however often a sweep looks at its source.
    subject = models.CharField(max_length=80)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [models.UniqueConstraint(fields=["type", "subject"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.type} {self.subject}"


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Due then; while a worker sends it, pushed forward by the lease, so a crashed worker's deliveries come back.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Retried until then (a day after it was made, or after a re-send from the page), then failed.
    give_up_at = models.DateTimeField(_("retried until"))
    last_status_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return self.message_id


class WebhookAttempt(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", _("Delivered")
        HTTP_ERROR = "http", _("Refused by the receiver")
        TIMEOUT = "timeout", _("Timed out")
        UNREACHABLE = "unreachable", _("Could not connect")
        REFUSED_TARGET = "target", _("Address not allowed")

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("time"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    excerpt = models.CharField(_("response"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.outcome} {self.status_code or ''}"


class WebhookSettings(models.Model):
    """One row: how far the sweep has looked for new responses and finished campaigns."""

    # Every response up to here has been examined, late commits included (the full sweep, run by beat).
    response_watermark = models.BigIntegerField(default=0)
    # The newest response a quick sweep (asked for after submits) has examined: it looks only past this.
    response_examined = models.BigIntegerField(default=0)
    campaign_watermark = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"responses examined to #{self.response_examined}"

    @classmethod
    def load(cls) -> WebhookSettings:
        return cls.objects.get_or_create(pk=1)[0]
