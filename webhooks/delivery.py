"""Sending due deliveries: signed POSTs, each attempt recorded, retried with backoff for a day, then failed.

A send round claims a batch of due deliveries under a lease (SELECT ... FOR UPDATE SKIP LOCKED, then the next
attempt time pushed past the lease), so any number of workers share the queue and a crashed worker's batch comes
back. Each endpoint's URL is checked once per round (targets.py) and its deliveries go over one kept-alive
connection to the checked address. When an endpoint cannot be reached, its other deliveries in the round wait for
the next attempt without being tried, so a dead receiver costs one attempt per round, not one per delivery.
An endpoint whose every attempt has failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled, and quality managers told.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from config.retention import delete_in_batches, kept_since
from webhooks import signing
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.targets import TargetRefused, target_check
from webhooks.transport import Result, Sender

D = WebhookDelivery.State
O = WebhookAttempt.Outcome  # noqa: E741 - read as "outcome"
BATCH = 200
# A round stops claiming after this long, leaving the worker to other tasks (beat and nudges start the next one).
ROUND_SECONDS = 30.0
_rng = random.SystemRandom()


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 ... minutes, at most an hour, each ±25 % (jitter: retries of many deliveries spread out)."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds * _rng.uniform(0.75, 1.25))


def body_of(event: WebhookEvent) -> bytes:
    payload = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def claim(now: datetime, limit: int = BATCH) -> list[WebhookDelivery]:
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=D.PENDING, next_attempt_at__lte=now, endpoint__active=True)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        lease = now + timedelta(seconds=settings.WEBHOOK_SEND_LEASE_SECONDS)
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=lease)
    return list(WebhookDelivery.objects.filter(pk__in=ids).select_related("event", "endpoint").order_by("id"))


def webhooks_send(now: datetime | None = None) -> int:
    """Send every due delivery, batch after batch, for at most ROUND_SECONDS; returns how many were attempted."""
    started = time.monotonic()
    sender = Sender(settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT)
    attempted = 0
    try:
        while time.monotonic() - started < ROUND_SECONDS:
            batch = claim(now or timezone.now())
            attempted += send_batch(batch, sender)
            if len(batch) < BATCH:
                break
    finally:
        sender.close()
    return attempted


def send_batch(batch: list[WebhookDelivery], sender: Sender) -> int:
    by_endpoint: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in batch:
        by_endpoint[delivery.endpoint_id].append(delivery)
    attempts: list[WebhookAttempt] = []
    for deliveries in by_endpoint.values():
        attempts += _send_to(deliveries[0].endpoint, deliveries, sender)
    WebhookAttempt.objects.bulk_create(attempts)
    _record(batch)
    return len(attempts)


def _record(batch: list[WebhookDelivery]) -> None:
    """Write the round's outcome to the deliveries. Those delivered (nearly all, usually) take one UPDATE whose
    time and status code are read from their attempt row; Django's bulk_update, which builds a CASE per row and
    field in Python, cost more than the HTTP posts themselves. The rest (retries, waits) are few."""
    delivered = [d.pk for d in batch if d.state == D.DELIVERED]  # claimed pending: delivered in this round
    if delivered:
        ok = WebhookAttempt.objects.filter(delivery=OuterRef("pk"), outcome=O.OK).order_by("-at", "-id")
        WebhookDelivery.objects.filter(pk__in=delivered, state=D.PENDING).update(
            state=D.DELIVERED,
            attempts=F("attempts") + 1,
            last_status_code=Subquery(ok.values("status_code")[:1]),
            delivered_at=Subquery(ok.values("at")[:1]),
        )
    done = set(delivered)
    others = [d for d in batch if d.pk not in done]
    if others:
        WebhookDelivery.objects.bulk_update(
            others, ["state", "next_attempt_at", "attempts", "last_status_code", "delivered_at"]
        )


def _send_to(endpoint: WebhookEndpoint, deliveries: list[WebhookDelivery], sender: Sender) -> list[WebhookAttempt]:
    now = timezone.now()
    try:
        target = target_check(endpoint.url)
    except TargetRefused as refused:
        attempt = _attempt(deliveries[0], Result(None, str(refused)[:200], 0), O.REFUSED_TARGET, now)
        _wait(deliveries[1:], deliveries[0].next_attempt_at)
        _endpoint_result(endpoint, ok=False, now=now)
        return [attempt]
    attempts = []
    bodies: dict[int, bytes] = {}
    any_ok = False
    for number, delivery in enumerate(deliveries):
        body = bodies.get(delivery.event_id) or bodies.setdefault(delivery.event_id, body_of(delivery.event))
        stamp = int(timezone.now().timestamp())
        result = sender.post(target, body, signing.headers(endpoint.secret, delivery.message_id, stamp, body))
        attempts.append(_attempt(delivery, result, _outcome(result), timezone.now()))
        any_ok = any_ok or result.ok
        if result.status is None:
            # Nobody answered: the rest of this endpoint's deliveries wait for the same next attempt, untried.
            _wait(deliveries[number + 1 :], delivery.next_attempt_at)
            break
    # A delivery that gave up this round was due from give_up_at less the retry window (its event, a re-send or
    # the endpoint enabled again): with no success since then, the endpoint has failed for that long.
    gave_up = [d.give_up_at - timedelta(hours=settings.WEBHOOK_RETRY_HOURS) for d in deliveries if d.state == D.FAILED]
    _endpoint_result(endpoint, ok=any_ok, now=now, failing_from=min(gave_up, default=None))
    return attempts


def _outcome(result: Result) -> str:
    if result.ok:
        return O.OK
    if result.status:
        return O.HTTP_ERROR
    return O.TIMEOUT if result.timed_out else O.UNREACHABLE


def _attempt(delivery: WebhookDelivery, result: Result, outcome: str, at: datetime) -> WebhookAttempt:
    delivery.attempts += 1
    delivery.last_status_code = result.status
    if result.ok:
        delivery.state, delivery.delivered_at = D.DELIVERED, at
    elif at >= delivery.give_up_at:
        delivery.state = D.FAILED
    else:
        # The last retry falls on the give-up time, so a delivery is tried for a whole day, not less.
        delivery.next_attempt_at = min(at + backoff(delivery.attempts), delivery.give_up_at)
    excerpt = result.excerpt if result.status else (result.excerpt or result.error)
    return WebhookAttempt(
        delivery=delivery,
        at=at,
        outcome=outcome,
        status_code=result.status,
        duration_ms=result.duration_ms,
        excerpt=" ".join(excerpt.split())[:200],
    )


def _wait(deliveries: list[WebhookDelivery], until: datetime) -> None:
    for delivery in deliveries:
        delivery.next_attempt_at = until


def _endpoint_result(
    endpoint: WebhookEndpoint, *, ok: bool, now: datetime, failing_from: datetime | None = None
) -> None:
    from webhooks.services import endpoint_disable_failing

    if ok:
        if endpoint.failing_since is not None or endpoint.last_success_at is None or _stale(endpoint, now):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None, last_success_at=now)
        return
    since = endpoint.failing_since
    if since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        since = now
    # The clock starts at the first failed attempt, which comes a moment after the event: a lone event's last
    # retry (at its give-up time, a day after the event) fell just short of a day, and the endpoint stayed on.
    if failing_from is not None and (endpoint.last_success_at is None or endpoint.last_success_at < failing_from):
        since = min(since, failing_from)
    if now - since >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
        endpoint_disable_failing(endpoint_id=endpoint.pk)


def _stale(endpoint: WebhookEndpoint, now: datetime) -> bool:
    # last_success_at is shown on the page: refresh it at most once a minute, not on every batch.
    return endpoint.last_success_at is not None and now - endpoint.last_success_at > timedelta(minutes=1)


def webhooks_remove_old(now: datetime | None = None) -> int:
    """Beat, daily: deliveries whose retrying ended (delivered or failed, including after a re-send) more than
    WEBHOOK_KEEP_DAYS ago go with their attempts, then the events left with no delivery; returns how many rows went.
    Waiting deliveries stay, and so do their events. The sweeps never make an event again for a removed subject:
    they look only past their watermarks, and a case's events are made in its own transaction with new ids."""
    cutoff = kept_since(settings.WEBHOOK_KEEP_DAYS, now)
    removed = delete_in_batches(WebhookDelivery.objects.exclude(state=D.PENDING).filter(give_up_at__lt=cutoff))
    return removed + delete_in_batches(WebhookEvent.objects.filter(created_at__lt=cutoff, deliveries__isnull=True))
