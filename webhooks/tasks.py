"""Thin tasks: the sweep (responses, campaigns), a send round, the email when an endpoint is disabled, and the
daily removal of old deliveries."""

from __future__ import annotations

from celery import shared_task

from webhooks import delivery, events, notify


@shared_task
def webhooks_sweep(full: bool = False) -> int:
    return events.sweep(full=full, send=True)


@shared_task
def webhooks_send() -> int:
    return delivery.webhooks_send()


@shared_task(bind=True, max_retries=5, retry_backoff=True, autoretry_for=(OSError,))
def send_endpoint_disabled(self, endpoint_id: int) -> int:  # type: ignore[no-untyped-def]
    return notify.send_endpoint_disabled(endpoint_id)


@shared_task
def webhooks_remove_old() -> int:
    return delivery.webhooks_remove_old()
