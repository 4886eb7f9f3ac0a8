"""Reports: the daily rollups every figure is computed from, their refresh state, and quality objectives."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

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
    # The response's channel (email, link handed out, public link): stored on the response when it was given.
    channel = models.CharField(max_length=6, blank=True, default="")
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
            models.UniqueConstraint(fields=["survey", "question", "segment", "channel", "day"], name="rollup_unique"),
        ]
        indexes = [models.Index(fields=["survey", "kind", "day"], name="rollup_survey_kind_day")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.question_id}/{self.segment or '-'}/{self.day}: {self.count}"


class InvitationRollup(models.Model):
    """The response funnel of one survey's invitations created on one day, per delivery channel.

    `channel` is "email" for invitations that were emailed (delivered = sent) or are still waiting for their
    email, and "link" for links delivered another way (shown once, printed): those count as delivered when made.
    An invitation answered without ever being emailed was delivered by hand, whatever it was meant for. So in
    every row answered <= delivered, by construction (see rollup._funnel).

    Invitations change state until they expire, so each refresh recomputes the days still inside the longest
    expiry; older days are final.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    channel = models.CharField(max_length=5, default="email")
    invited = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)  # email: sent; link: made (handed out)
    opened = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("invitation rollup")
        verbose_name_plural = _("invitation rollups")
        constraints = [models.UniqueConstraint(fields=["survey", "day", "channel"], name="invitation_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.day}/{self.channel}: {self.answered}/{self.delivered}"


class RollupState(models.Model):
    """One row: responses with an id up to `watermark` are in the rollups (see rollup.py)."""

    watermark = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups up to response {self.watermark}"

    @classmethod
    def load(cls) -> RollupState:
        return cls.objects.get_or_create(pk=1)[0]


class Metric(models.TextChoices):
    NPS = "nps", _("NPS")
    # xgettext:no-python-format
    CSAT = "csat", _("CSAT (% satisfied)")
    CES = "ces", _("CES (mean effort)")
    DETRACTOR_SHARE = "detractors", _("Share of detractors (%)")
    RESPONSE_RATE = "response_rate", _("Response rate (%)")
    COMPLAINTS_ON_TIME = "on_time", _("Complaints closed within the time limit (%)")


# Lower is better for these; for the others higher is better.
LOWER_IS_BETTER = frozenset({Metric.CES, Metric.DETRACTOR_SHARE})
SURVEY_METRICS = frozenset({Metric.NPS, Metric.CSAT, Metric.CES, Metric.DETRACTOR_SHARE, Metric.RESPONSE_RATE})
# The range a target of each metric can take.
METRIC_RANGES = {Metric.NPS: (-100, 100), Metric.CES: (1, 7)}


class QualityObjective(models.Model):
    """A measurable quality objective (ISO 9001 6.2): what, how much, by when, who, and how it is evaluated.

    Its progress is computed from the rollups whenever it is shown, never typed in; every change of the
    objective itself is kept (django-simple-history)."""

    title = models.CharField(_("objective"), max_length=200)
    metric = models.CharField(_("measure"), max_length=16, choices=Metric.choices)
    target = models.DecimalField(_("target"), max_digits=6, decimal_places=1)
    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("survey")
    )
    segment = models.CharField(_("segment"), max_length=100, blank=True, help_text=_("Empty: every segment."))
    start = models.DateField(_("measured from"))
    due = models.DateField(_("due by"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    method = models.TextField(
        _("how it is evaluated"),
        max_length=2000,
        help_text=_("For example: NPS of the relationship survey over the period, reviewed monthly."),
    )
    # ISO 9001 6.2.2 c: what will be needed to reach it (people, budget, tools); shown in the management review.
    resources = models.TextField(
        _("resources needed"),
        blank=True,
        max_length=2000,
        help_text=_("People, time, budget or tools the objective needs."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quality objective")
        verbose_name_plural = _("quality objectives")
        ordering = ["-active", "due", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER


class ExportJob(models.Model):
    """An export of responses, written by a worker to a file under VAR_DIR/exports and downloaded when ready."""

    class Format(models.TextChoices):
        CSV = "csv", _("CSV (Excel)")
        XLSX = "xlsx", _("Excel workbook (XLSX)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", verbose_name=_("survey"))
    start = models.DateField()
    end = models.DateField()
    segment = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=2, default="vi")
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    expected_rows = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.start}–{self.end} ({self.format})"

    @property
    def progress(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, round(100 * self.rows / self.expected_rows)) if self.expected_rows else 0


class AlertEvent(models.Model):
    """A signal worth a quality manager's attention, recorded once so that it is emailed once (see alerts.py)."""

    class Kind(models.TextChoices):
        SPECIAL_CAUSE = "rule", _("Special cause on the control chart")
        DROP = "drop", _("Significant drop")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    period_start = models.DateField()
    detail = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [models.UniqueConstraint(fields=["survey", "kind", "period_start"], name="alert_once")]

    def __str__(self) -> str:
        return f"{self.survey_id} {self.kind} {self.period_start}"


class AlertSettings(models.Model):
    """One row: which Western Electric rules send an email. The dashboard always shows every rule; email is for
    what is worth interrupting someone for, and each added rule raises the false alarms on a stable process."""

    email_rules = models.JSONField(_("rules that send an email"), default=list)

    class Meta:
        verbose_name = _("alert settings")
        verbose_name_plural = _("alert settings")

    def __str__(self) -> str:
        return str(_("alert settings"))

    @classmethod
    def load(cls) -> AlertSettings:
        return cls.objects.get_or_create(pk=1, defaults={"email_rules": [1]})[0]


class ManagementReview(models.Model):
    """A management review (ISO 9001 9.3) for a period: the inputs the system holds, the decisions taken, and the
    sign-off that locks it. At sign-off the figures are kept as they were (`snapshot`), so the printed pack and
    its PDF never change afterwards."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed off")

    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    status = models.CharField(_("status"), max_length=6, choices=Status.choices, default=Status.DRAFT)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decisions = models.TextField(
        _("decisions and actions (outputs of the review)"),
        blank=True,
        max_length=20000,
        help_text=_("Opportunities for improvement, changes needed to the quality management system, resources."),
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(null=True, blank=True)
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Who took part (ISO 9001 9.3.1): the chair, a user, and the attendees as written (names and roles).
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("chair"),
    )
    attendees = models.TextField(
        _("attendees"), blank=True, max_length=2000, help_text=_("Names and roles, one a line.")
    )
    # Analysis records (9.1.3) cited as inputs; their figures are copied into the snapshot at sign-off.
    analyses = models.ManyToManyField(
        "reports.AnalysisSnapshot", blank=True, related_name="reviews", verbose_name=_("analyses cited")
    )

    class Meta:
        verbose_name = _("management review")
        verbose_name_plural = _("management reviews")
        ordering = ["-period_end", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def locked(self) -> bool:
        return self.status == self.Status.SIGNED


class ReviewAction(models.Model):
    """An action decided in a review. Open ones are carried to the next review, which reports their status."""

    review = models.ForeignKey(ManagementReview, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(_("action"), max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due = models.DateField(_("due by"))
    done_at = models.DateField(_("done on"), null=True, blank=True)
    carried_from = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The 9.3.3 output it acts on (improvement, QMS change, resources); the kind is copied when it is carried.
    output = models.ForeignKey(
        "reports.ReviewOutput", on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    kind = models.CharField(_("kind"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("review action")
        verbose_name_plural = _("review actions")
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.description


from reports.records import AnalysisSnapshot, ReviewInput, ReviewOutput  # noqa: E402,F401
