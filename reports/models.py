"""Reports: the daily rollups every figure is computed from, and the state of their incremental refresh."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.models import Question, Survey


class DailyRollup(models.Model):
    """Sufficient statistics of one scored question's answers, per segment and day (in TIME_ZONE).

    Every NPS, CSAT, CES and rating figure, its interval and any week, month or quarter are exact sums of these
    rows, so dashboards never read raw responses. `promoters`/`detractors` follow scoring.py: NPS 9–10 / 0–6,
    CSAT 4–5 / 1–2, CES 1–2 (low effort) / 6–7; `top2` is the two best values of the scale.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10)
    segment = models.CharField(max_length=100, blank=True)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    promoters = models.PositiveIntegerField(default=0)
    passives = models.PositiveIntegerField(default=0)
    detractors = models.PositiveIntegerField(default=0)
    top2 = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    total_sq = models.BigIntegerField(default=0)
    # When the row was last recomputed: rows of a recomputed day that the recompute did not touch are stale.
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(fields=["survey", "question", "segment", "day"], name="rollup_unique"),
        ]
        indexes = [models.Index(fields=["survey", "kind", "day"], name="rollup_survey_kind_day")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.question_id}/{self.segment or '-'}/{self.day}: {self.count}"


class InvitationRollup(models.Model):
    """The response funnel of one survey's invitations created on one day: how many were sent, opened, answered.

    Invitations change state until they expire, so each refresh recomputes the days still inside the longest
    expiry; older days are final.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    invited = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("invitation rollup")
        verbose_name_plural = _("invitation rollups")
        constraints = [models.UniqueConstraint(fields=["survey", "day"], name="invitation_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.day}: {self.answered}/{self.sent}"


class RollupState(models.Model):
    """One row: responses with an id up to `watermark` are in the rollups (see rollup.py)."""

    watermark = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups up to response {self.watermark}"

    @classmethod
    def load(cls) -> RollupState:
        return cls.objects.get_or_create(pk=1)[0]
