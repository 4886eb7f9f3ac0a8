"""Work that must follow a commit, stored in the same transaction as the change that causes it.

The broker (Redis) only carries the news that a row is due; the row is the record. See outbox/dispatch.py.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One call of a Celery task (its registered name and JSON arguments) that must happen at least once."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Not handed to the broker before this: after a failure (backoff), or while a message for it is in flight.
    available_at = models.DateTimeField(_("due"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("last handed to the broker"), null=True, blank=True)
    # A worker is running it until then (a lease): a duplicate message meanwhile does nothing.
    running_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        # The dispatcher reads only pending rows; done ones stay as the record of what was done.
        indexes = [models.Index(fields=["available_at"], condition=Q(state="pending"), name="outbox_pending_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.task}{self.args}"


class Heartbeat(models.Model):
    """The last time a periodic process showed it was alive (the dispatcher, run by beat through a worker)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"
