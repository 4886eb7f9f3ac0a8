"""API keys, the log of every call made with one, and the idempotency records of invitation requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.validators import validate_one_line
from surveys.models import Invitation


class ApiKey(models.Model):
    """One integration's key (a CRM, a helpdesk, a shop). Only the SHA-256 of the secret is kept: the secret is
    shown once, when the key is made, and a lost one is replaced, not recovered."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    name = models.CharField(_("integration"), max_length=100, validators=[validate_one_line])
    # The secret's first characters, shown in lists and logs so that a key can be recognised without the secret.
    prefix = models.CharField(_("key starts with"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=5, choices=Scope.choices, default=Scope.READ)
    # The quality manager who made it: writes through the key are attributed to them, through the door "api".
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiCall(models.Model):
    """One request to /api/v1/: which key (none when it had no valid one), what, the answer and how long it took."""

    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="calls")
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    method = models.CharField(_("method"), max_length=10)
    # The route (/api/v1/customers/{id}/), never the concrete path: paths can carry external ids (personal data).
    endpoint = models.CharField(_("endpoint"), max_length=200)
    status = models.PositiveSmallIntegerField(_("status"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["key", "at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} {self.status}"


class IdempotencyRecord(models.Model):
    """An `Idempotency-Key` a key has used for an invitation request: the same key and body give the same
    invitation, another body is refused. The unique constraint makes two concurrent requests one: the second waits
    on the index until the first commits, then finds its record."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "idempotency_key"], name="api_idempotency_unique"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key
