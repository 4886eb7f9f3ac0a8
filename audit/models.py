"""The audit trail (ISO 9001 7.5.3, 10.2.2): one append-only table of every change to a quality record.

Each entry carries the SHA-256 of the entry before it and of its own content, so altering, inserting or removing an
entry anywhere breaks the chain from that point (`manage.py audit_verify`). On PostgreSQL a trigger refuses UPDATE
and DELETE of entries (migration 0001). Responses are not in the trail: a response is its own immutable row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    # Position in the chain, 1, 2, 3…: unique, so two writers can never both append entry n.
    seq = models.BigIntegerField(_("number"), unique=True)
    at = models.DateTimeField(_("when"))
    # No database constraint and no cascade: an entry is never rewritten, not even when a user is deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # The actor's name as it was: the entry reads the same after the account is renamed or removed.
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    # How the change came in: web, admin, command, task, import, public or system.
    via = models.CharField(_("through"), max_length=10, blank=True)
    record_type = models.CharField(_("record type"), max_length=60)
    record_id = models.CharField(_("record"), max_length=40)
    record_label = models.CharField(_("record"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=20)
    # {field: [before, after]} with values as JSON (ids for links, ISO 8601 for dates and times).
    changes = models.JSONField(_("changes"), default=dict)
    reason = models.TextField(_("reason"), blank=True)
    # What the change applies to beyond the record itself, e.g. {"version": 3} for a survey after activation.
    context = models.JSONField(_("context"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["record_type", "record_id", "seq"], name="audit_record_seq"),
            models.Index(fields=["at"], name="audit_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.record_type}:{self.record_id} {self.action}"


class AuditHead(models.Model):
    """One row: the last entry's number and hash. Locked by each append, so concurrent writers queue, never fork."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
