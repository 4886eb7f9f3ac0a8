"""The outbox: the database is the queue of record, the broker only a messenger.

`outbox_add` stores a task call in the caller's transaction, so the work exists exactly when the change that causes
it exists. The dispatcher (`outbox_dispatch`, run by beat every few seconds and asked for after each commit, from a
background thread) hands due rows to Celery; a worker runs each one under a lease (`outbox_run`). A message lost with
Redis or a worker is handed out again when its lease ends, so work is delayed, never lost: every task run through
here must be idempotent (at least once). A task that keeps failing is retried with a growing backoff a bounded
number of times, then marked failed with its error, and never holds up the others.

Apps above write rows naming their own tasks; this module imports none of them (it looks the task up by name).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.retention import delete_in_batches, kept_since
from outbox.models import Heartbeat, OutboxMessage

logger = logging.getLogger(__name__)
P = OutboxMessage.State
BATCH = 500


class RunLater(Exception):  # noqa: N818 - a request, not an error
    """Raised by a task run through the outbox that must be tried again at `at` (an SMTP server said "later")."""

    def __init__(self, at: datetime, reason: str) -> None:
        super().__init__(reason)
        self.at, self.reason = at, reason


def outbox_add(*, task: str, args: list[Any] | None = None, available_at: datetime | None = None) -> OutboxMessage:
    """Record that `task(*args)` must run once the current transaction commits (now, in autocommit)."""
    message = OutboxMessage.objects.create(
        task=task, args=list(args or []), available_at=available_at or timezone.now()
    )
    transaction.on_commit(outbox_nudge)
    return message


def outbox_add_many(*, task: str, calls: list[list[Any]]) -> list[OutboxMessage]:
    """`outbox_add` for many calls of one task (one argument list each), in one INSERT."""
    if not calls:
        return []
    now = timezone.now()
    messages = OutboxMessage.objects.bulk_create(
        [OutboxMessage(task=task, args=list(args), available_at=now) for args in calls]
    )
    transaction.on_commit(outbox_nudge)
    return messages


def outbox_nudge() -> None:
    """Ask for a dispatch soon, without waiting on the broker (config/debounce.py); in-process when eager."""
    _nudges().request()


@functools.cache
def _nudges():  # type: ignore[no-untyped-def]
    from config.debounce import Debounced
    from outbox.tasks import outbox_dispatch

    return Debounced(outbox_dispatch, settings.OUTBOX_NUDGE_SECONDS)


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 ... minutes, at most an hour (OUTBOX_RETRY_BASE_SECONDS, OUTBOX_RETRY_MAX_SECONDS)."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def heartbeat(name: str, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": now or timezone.now()})


def outbox_dispatch(now: datetime | None = None) -> int:
    """Hand every due pending row to the broker; returns how many. Safe to run anywhere, any number of times."""
    from config.celery import app
    from outbox.tasks import outbox_run

    now = now or timezone.now()
    eager = app.conf.task_always_eager
    handed = 0
    while True:
        with transaction.atomic():
            rows = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(state=P.PENDING, available_at__lte=now)
                .order_by("available_at", "id")
                .values_list("pk", flat=True)[:BATCH]
            )
            # If no worker starts it within the lease (the message was lost with Redis), it is handed out again.
            OutboxMessage.objects.filter(pk__in=rows).update(
                available_at=now + timedelta(seconds=settings.OUTBOX_DISPATCH_LEASE_SECONDS), dispatched_at=now
            )
        # Published after the claim commits: a worker that starts a row at once must not find it still locked.
        for number, pk in enumerate(rows):
            try:
                outbox_run.delay(pk) if eager else outbox_run.apply_async(args=[pk])
            except Exception:
                if eager:
                    raise
                # The broker is away: what was not handed out is due again at the next run.
                OutboxMessage.objects.filter(pk__in=rows[number:], state=P.PENDING).update(available_at=now)
                raise
        handed += len(rows)
        if len(rows) < BATCH:
            break
    heartbeat("dispatcher", now)
    return handed


def outbox_run(message_id: int) -> str:
    """Run one row's task under a lease; record done, a retry with backoff, or failure after the last attempt."""
    from config.celery import app

    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id, state=P.PENDING).first()
        )
        if message is None or (message.running_until is not None and message.running_until > now):
            return "not-pending"  # done, failed, or another worker is on it (a duplicate message)
        message.attempts += 1
        message.running_until = now + timedelta(seconds=settings.OUTBOX_RUN_LEASE_SECONDS)
        message.save(update_fields=["attempts", "running_until"])
    task = _task(app, message.task)
    error: str
    if task is None:
        return _settle(message, state=P.FAILED, error=f"unknown task {message.task}")
    try:
        task(*message.args)
    except RunLater as later:
        logger.info("outbox %s: %s later: %s", message.pk, message.task, later.reason)
        return _settle(message, available_at=later.at, error=later.reason)
    except Exception as failure:  # noqa: BLE001 - recorded on the row, retried with backoff, then failed
        error = f"{type(failure).__name__}: {failure}"[:500]
        if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            logger.error("outbox %s: %s failed for good: %s", message.pk, message.task, error)
            return _settle(message, state=P.FAILED, error=error)
        logger.warning("outbox %s: %s failed (attempt %s): %s", message.pk, message.task, message.attempts, error)
        return _settle(message, available_at=timezone.now() + backoff(message.attempts), error=error)
    return _settle(message, state=P.DONE)


def _task(app: Any, name: str) -> Any:
    """The registered task of that name; its module is imported first (outside a worker, tasks load lazily)."""
    module = name.rpartition(".")[0]
    try:
        importlib.import_module(module)
    except ImportError:
        return None
    return app.tasks.get(name)


def _settle(
    message: OutboxMessage, *, state: str = P.PENDING, available_at: datetime | None = None, error: str = ""
) -> str:
    now = timezone.now()
    fields: dict[str, Any] = {"state": state, "running_until": None, "last_error": error}
    if state == P.DONE:
        fields["done_at"] = now
    if available_at is not None:
        fields["available_at"] = available_at
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)
    return str(state) if state != P.PENDING else "retry"


def oldest_due_age(now: datetime | None = None) -> float | None:
    """Seconds the oldest due, undispatched row has waited (readiness: is the dispatcher keeping up?)."""
    now = now or timezone.now()
    oldest = (
        OutboxMessage.objects.filter(state=P.PENDING, available_at__lte=now)
        .order_by("available_at")
        .values_list("available_at", flat=True)
        .first()
    )
    return None if oldest is None else max((now - oldest).total_seconds(), 0.0)


def outbox_remove_done(now: datetime | None = None) -> int:
    """Beat, daily: rows whose task ran are kept OUTBOX_KEEP_DAYS after it did, then removed. Pending rows are work
    still to do and failed rows what an operator must look at: both stay."""
    cutoff = kept_since(settings.OUTBOX_KEEP_DAYS, now)
    return delete_in_batches(OutboxMessage.objects.filter(state=P.DONE, done_at__lt=cutoff))


def outbox_redact(rows: Q, redact: Callable[[str], str]) -> int:
    """Rewrite the text arguments and the last error of the rows matching `rows` through `redact` (an erasure: a
    task's argument or a mail server's refusal can hold a customer's words or address); returns how many changed."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    changed = 0
    for message in OutboxMessage.objects.filter(rows).only("pk", "args", "last_error"):
        args, error = clean(message.args), redact(message.last_error)
        if (args, error) != (message.args, message.last_error):
            OutboxMessage.objects.filter(pk=message.pk).update(args=args, last_error=error)
            changed += 1
    return changed
