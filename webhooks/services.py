"""Every change to a webhook endpoint goes through here, and leaves an audit entry in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_stored
from outbox.dispatch import outbox_add
from webhooks import signing
from webhooks.events import responses_listened_from_now, subscribers_changed
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from webhooks.targets import TargetRefused, target_check

D = WebhookDelivery.State


def _changed() -> None:
    # This process forgets its cached answer now and again once the change commits (another may have read it
    # meanwhile); other processes within events.SUBSCRIBERS_TTL.
    subscribers_changed()
    transaction.on_commit(subscribers_changed)


def _clean(url: str, events: list[str], description: str) -> tuple[str, list[str], str]:
    url = url.strip()
    try:
        target_check(url)
    except TargetRefused as refused:
        raise ValidationError({"url": str(refused)}) from refused
    chosen = [e for e in EventType.values if e in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        raise ValidationError({"events": _("Choose at least one event.")})
    if any(ord(c) < 32 for c in description):
        raise ValidationError({"description": _("Write the description on one line.")})
    return url, chosen, description.strip()


@transaction.atomic
def endpoint_create(*, url: str, events: list[str], description: str = "", actor: Any) -> WebhookEndpoint:
    """Register a receiver; its secret is returned on the object, to be shown once."""
    url, events, description = _clean(url, events, description)
    endpoint = WebhookEndpoint(
        url=url, events=events, description=description, secret=signing.secret_new(), created_by=actor
    )
    endpoint.full_clean()
    endpoint.save()
    responses_listened_from_now(endpoint)
    audit_record(endpoint, action="create", actor=actor)
    _changed()
    return endpoint


@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: list[str], description: str, actor: Any
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = audit_stored(endpoint)
    endpoint.url, endpoint.events, endpoint.description = _clean(url, events, description)
    endpoint.full_clean()
    endpoint.save(update_fields=["url", "events", "description"])
    responses_listened_from_now(endpoint)
    audit_record(endpoint, action="update", before=before, actor=actor)
    _changed()
    return endpoint


@transaction.atomic
def endpoint_roll_secret(*, endpoint: WebhookEndpoint, actor: Any) -> WebhookEndpoint:
    """A new secret, effective for every delivery from now on (retries included); the old one stops working."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = signing.secret_new()
    endpoint.save(update_fields=["secret"])
    audit_record(endpoint, action="roll_secret", actor=actor, extra={"secret": [None, "rolled"]})
    return endpoint


@transaction.atomic
def endpoint_disable(
    *, endpoint: WebhookEndpoint, actor: Any, reason: str = "", via: str | None = None, automatic: bool = False
) -> bool:
    """Stop sending (this is also how an endpoint is removed: its deliveries stay as the record)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        return False
    before = audit_stored(endpoint)
    endpoint.active, endpoint.disabled_at, endpoint.auto_disabled = False, timezone.now(), automatic
    endpoint.disabled_reason = reason.strip()[:300]
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "auto_disabled"])
    audit_record(endpoint, action="disable", before=before, actor=actor, via=via, reason=reason)
    _changed()
    return True


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint, actor: Any) -> bool:
    """Send again; what waited meanwhile is retried for another day."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.active:
        return False
    before = audit_stored(endpoint)
    now = timezone.now()
    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
    endpoint.failing_since, endpoint.auto_disabled = None, False
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "failing_since", "auto_disabled"])
    responses_listened_from_now(endpoint)
    endpoint.deliveries.filter(state=D.PENDING).update(
        next_attempt_at=now, give_up_at=now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    )
    audit_record(endpoint, action="enable", before=before, actor=actor)
    _changed()
    outbox_add(task="webhooks.tasks.webhooks_send")
    return True


def endpoint_disable_failing(*, endpoint_id: int) -> bool:
    """Every attempt failed for a day: disable it, and tell the quality managers by email (through the outbox)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        hours = settings.WEBHOOK_DISABLE_AFTER_HOURS
        # The page says why in the reader's language (auto_disabled); the trail keeps a plain record.
        disabled = endpoint_disable(
            endpoint=endpoint, actor=None, via="task", reason=f"every attempt failed for {hours} hours", automatic=True
        )
        if disabled:
            outbox_add(task="webhooks.tasks.send_endpoint_disabled", args=[endpoint_id])
    return disabled


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery, actor: Any) -> WebhookDelivery:
    """Send a delivery again (same webhook-id, so a receiver that has it can tell), retried for another day."""
    delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.active:
        raise ValidationError(_("Enable the endpoint first: a disabled endpoint receives nothing."))
    now = timezone.now()
    delivery.state, delivery.next_attempt_at = D.PENDING, now
    delivery.give_up_at = now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    delivery.save(update_fields=["state", "next_attempt_at", "give_up_at"])
    audit_record(delivery.endpoint, action="resend", actor=actor, extra={"delivery": [None, delivery.message_id]})
    outbox_add(task="webhooks.tasks.webhooks_send")
    return delivery
