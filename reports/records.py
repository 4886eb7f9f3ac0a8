"""The review's own records: written inputs (ISO 9001 9.3.2), outputs (9.3.3), and analysis snapshots (9.1.3).

Imported by reports.models, so that Django finds them; kept apart to keep each module short.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InputTopic(models.TextChoices):
    """The 9.3.2 inputs the system does not hold: written by their owner."""

    ISSUES = "issues", _("(b) Changes in external and internal issues")
    PROCESS = "process", _("(c) Process performance and conformity of products and services")
    AUDITS = "audits", _("(c) Audit results")
    PROVIDERS = "providers", _("(c) Performance of external providers")
    RESOURCES = "resources", _("(d) Adequacy of resources")
    RISKS = "risks", _("(e) Effectiveness of actions taken on risks and opportunities")
    IMPROVEMENT = "improvement", _("(f) Opportunities for improvement")


class OutputKind(models.TextChoices):
    """The 9.3.3 outputs of a review."""

    IMPROVEMENT = "improvement", _("Opportunity for improvement")
    QMS_CHANGE = "qms_change", _("Change needed to the quality management system")
    RESOURCES = "resources", _("Resource need")


class ReviewInput(models.Model):
    review = models.ForeignKey("reports.ManagementReview", on_delete=models.PROTECT, related_name="inputs")
    topic = models.CharField(_("input"), max_length=12, choices=InputTopic.choices)
    text = models.TextField(_("what was found"), max_length=5000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("review input")
        verbose_name_plural = _("review inputs")
        ordering = ["topic", "id"]

    def __str__(self) -> str:
        return f"{self.topic}: {self.text[:40]}"


class ReviewOutput(models.Model):
    review = models.ForeignKey("reports.ManagementReview", on_delete=models.PROTECT, related_name="outputs")
    kind = models.CharField(_("kind"), max_length=12, choices=OutputKind.choices)
    description = models.TextField(_("output"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("review output")
        verbose_name_plural = _("review outputs")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.description[:40]}"


class AnalysisSnapshot(models.Model):
    """A dashboard view kept as a record: its filters, its figures as they were, and the conclusion drawn.

    Never changed after it is saved (the figures are those of the moment); cited by management reviews."""

    title = models.CharField(_("title"), max_length=200)
    survey = models.ForeignKey("surveys.Survey", on_delete=models.PROTECT, related_name="+", verbose_name=_("survey"))
    filters = models.JSONField(default=dict)
    figures = models.JSONField(default=dict)
    conclusion = models.TextField(_("conclusion"), max_length=5000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("analysis snapshot")
        verbose_name_plural = _("analysis snapshots")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
