"""Comment themes and sentiment (ISO 9001 9.1.3: analyse what is measured).

`Theme` is the quality manager's list. `CommentInsight` is one free-text answer as the worker read it; its
`CommentTheme` rows carry what the dashboard counts (survey, day and headline score are copied onto them when they
are written, so the theme figures are one-table aggregates even at a million responses). A staff correction is kept
in `ThemeCorrection` and wins over the model, now and after every recompute.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.models import Answer, Response, Survey, pick


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class Theme(models.Model):
    key = models.SlugField(_("key"), max_length=50, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    # One phrase a line, in either language: what a customer might write about this theme.
    examples = models.TextField(_("example phrases"), max_length=5000)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["name_en", "id"]

    def __str__(self) -> str:
        return self.name_en or self.name_vi

    def name(self, language: str) -> str:
        return pick(self, "name", language)

    def example_list(self) -> list[str]:
        return [line.strip() for line in self.examples.splitlines() if line.strip()]


class InsightState(models.Model):
    """One row. `revision` moves whenever the theme list changes: comments read under an older one are read
    again. `watermark` is the highest answer id the sweep has examined for good."""

    revision = models.PositiveIntegerField(default=1)
    watermark = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"revision {self.revision}, watermark {self.watermark}"

    @classmethod
    def load(cls) -> InsightState:
        return cls.objects.get_or_create(pk=1)[0]


class CommentInsight(models.Model):
    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="insight")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+", db_index=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    submitted_at = models.DateTimeField()
    # The response's headline score (its first NPS, CSAT or CES answer) and that question's kind.
    score = models.SmallIntegerField(null=True, blank=True)
    score_kind = models.CharField(max_length=10, blank=True)
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices)
    sentiment_confidence = models.FloatField(default=0.0)
    # The theme-list revision this was computed under; staff-corrected comments keep their themes on recompute.
    revision = models.PositiveIntegerField(default=0)
    corrected = models.BooleanField(default=False)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("comment analysis")
        verbose_name_plural = _("comment analyses")
        indexes = [
            models.Index(fields=["survey", "submitted_at"]),
            models.Index(fields=["revision"]),
            models.Index(fields=["response"]),
        ]

    def __str__(self) -> str:
        return f"#{self.answer_id} {self.sentiment}"


class CommentTheme(models.Model):
    class Source(models.TextChoices):
        MODEL = "model", _("Model")
        STAFF = "staff", _("Staff")

    comment = models.ForeignKey(CommentInsight, on_delete=models.CASCADE, related_name="themes")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="mentions")
    confidence = models.FloatField(_("confidence"))
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.MODEL)
    # Copied from the comment, so the dashboard aggregates one table.
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    submitted_at = models.DateTimeField()
    score = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "theme"], name="comment_theme_unique")]
        indexes = [models.Index(fields=["survey", "submitted_at", "theme"])]

    def __str__(self) -> str:
        return f"{self.comment_id} → {self.theme_id}"


class ThemeCorrection(models.Model):
    """A staff member's reading of a comment: kept, applied on every recompute, and used to train the model."""

    comment = models.OneToOneField(CommentInsight, on_delete=models.CASCADE, related_name="correction")
    themes = models.ManyToManyField(Theme, blank=True, related_name="+")
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices, blank=True)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("theme correction")
        verbose_name_plural = _("theme corrections")

    def __str__(self) -> str:
        return f"#{self.comment_id}"


class CommentRollup(models.Model):
    """Per (survey, day, segment): the comments read and their sentiments, and the headline scores of their
    responses. The dashboard's theme figures read these small rows (insight/rollups.py), never the comments."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    # The response's segment as it was when the answer was given (Response.segment), as in the other rollups.
    segment = models.CharField(max_length=100, blank=True)
    comments = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    score_sum = models.BigIntegerField(default=0)
    score_sq = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "day", "segment"], name="comment_rollup_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.day} {self.segment}: {self.comments}"


class ThemeRollup(models.Model):
    """Per (survey, day, segment, theme): the comments that mention the theme, their sentiments and scores."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    segment = models.CharField(max_length=100, blank=True)
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="+")
    mentions = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    score_sum = models.BigIntegerField(default=0)
    score_sq = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "day", "segment", "theme"], name="theme_rollup_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.day} {self.segment} {self.theme_id}: {self.mentions}"


class RollupChange(models.Model):
    """A (survey, day) whose analyses changed: written in the transaction that changed them (a sweep, a recompute,
    a correction, a retired theme, an erasure), consumed by the next rollup refresh. Append-only, so a change
    committed while a refresh runs is never lost: the refresh deletes exactly the rows it read."""

    id = models.BigAutoField(primary_key=True)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()

    def __str__(self) -> str:
        return f"{self.survey_id} {self.day}"


class RollupState(models.Model):
    """One row: locked by a refresh (one at a time); `refreshed_at` keys the dashboard's cached theme figures."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    # The highest RollupChange id consumed so far (for the record: what the rollups are up to date with).
    watermark = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"watermark {self.watermark}"
