"""Complaint cases (ISO 10002) and corrective actions (ISO 9001 10.2). Nothing here is ever hard-deleted."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.validators import validate_one_line
from customers.models import Customer
from surveys.models import Language, Response, Survey

USER = settings.AUTH_USER_MODEL


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Impact(models.TextChoices):
    ONE = "one", _("One customer")
    SEVERAL = "several", _("Several customers")
    MANY = "many", _("Many customers or a whole service")


class Complexity(models.TextChoices):
    SIMPLE = "simple", _("Simple: the handler can resolve it")
    MODERATE = "moderate", _("Moderate: needs another team")
    COMPLEX = "complex", _("Complex: needs an investigation")


class Priority(models.TextChoices):
    P1 = "p1", _("P1 — urgent")
    P2 = "p2", _("P2 — high")
    P3 = "p3", _("P3 — normal")
    P4 = "p4", _("P4 — low")


class Channel(models.TextChoices):
    SURVEY = "survey", _("Survey answer")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    IN_PERSON = "in_person", _("In person")
    WEB_FORM = "web_form", _("Web form")


class CaseStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Investigating")
    RESPONDED = "responded", _("Responded")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    REOPENED = "reopened", _("Reopened")


class EscalationLevel(models.IntegerChoices):
    """Who has been told that a case is past its time limit (ISO 10002 escalation), one level at a time."""

    NONE = 0, _("Not escalated")
    ASSIGNEE = 1, _("Assignee")
    QUALITY_MANAGERS = 2, _("Quality managers")
    TOP_MANAGEMENT = 3, _("Top management")


OVERDUE_STEP_LABELS = {
    "acknowledge": _("Acknowledgement overdue"),
    "respond": _("Response overdue"),
    "close": _("Closing overdue"),
}


EMAIL_LABELS = {
    "acknowledgement": _("acknowledgement"),
    "message": _("message"),
    "recourse": _("recourse offered"),
    "handling survey": _("complaint-handling survey"),
    "escalation": _("escalation"),
}


def _channel_label(text: str) -> str:
    if text in Channel.values:
        return str(Channel(text).label)
    # Events written before channels were stored as codes hold the label in the language of the day.
    for value, label in Channel.choices:
        for language in ("vi", "en"):
            with override(language):
                matches = str(label) == text
            if matches:
                return str(Channel(value).label)
    return text


class Category(models.Model):
    """A configurable complaint category (e.g. delivery, billing), named in both languages."""

    name_vi = models.CharField(_("name (Vietnamese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name_vi", "id"]

    def __str__(self) -> str:
        # In the reader's language: str() runs when a page is drawn, under that page's language.
        return self.name((get_language() or "vi")[:2])

    def name(self, language: str) -> str:
        return (self.name_en or self.name_vi) if language == "en" else (self.name_vi or self.name_en)


class TimeLimit(models.Model):
    """Hours allowed from receipt to each step, per severity (ISO 10002 asks for defined response times)."""

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, unique=True)
    acknowledge_hours = models.PositiveIntegerField(_("acknowledge within (hours)"))
    respond_hours = models.PositiveIntegerField(_("respond within (hours)"))
    close_hours = models.PositiveIntegerField(_("close within (hours)"))

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")

    def __str__(self) -> str:
        return str(self.get_severity_display())


class ReferenceCounter(models.Model):
    """Per-prefix, per-year counters for human references such as CMP-2026-000123."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="reference_counter_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class ComplaintCase(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("customer")
    )
    # Names and phones reach email headers and bodies: one line (config/validators.py).
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True, validators=[validate_one_line])
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True, validators=[validate_one_line])
    language = models.CharField(_("customer's language"), max_length=2, choices=Language.choices, default=Language.VI)
    product = models.CharField(_("product or service"), max_length=200, blank=True, validators=[validate_one_line])
    description = models.TextField(_("description"), max_length=10000)
    remedy_sought = models.TextField(_("remedy sought"), blank=True, max_length=5000)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("category")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices, default=Impact.ONE)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices, default=Priority.P3)
    # The initial assessment (ISO 10002 8.4): how severe, complex and wide the complaint is, and whether something
    # must be done at once; who judged it and when.
    complexity = models.CharField(_("complexity"), max_length=10, choices=Complexity.choices, blank=True)
    immediate_action_needed = models.BooleanField(_("immediate action needed"), null=True, blank=True)
    immediate_action = models.TextField(_("immediate action"), blank=True, max_length=5000)
    assessed_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("assessed by")
    )
    assessed_at = models.DateTimeField(_("assessed"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=14, choices=CaseStatus.choices, default=CaseStatus.RECEIVED)
    assignee = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("assignee")
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The survey answer that opened the case (closed loop): at most one case per response.
    response = models.OneToOneField(
        Response, on_delete=models.PROTECT, null=True, blank=True, related_name="complaint_case"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    acknowledge_due = models.DateTimeField(_("acknowledge by"))
    respond_due = models.DateTimeField(_("respond by"))
    close_due = models.DateTimeField(_("close by"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    resolution = models.TextField(_("resolution"), blank=True, max_length=5000)
    # The complaint-handling survey sent after closing (ISO 10002 8.8 / 9.3): its answer is read per category and
    # handler. The invitation belongs to surveys, which knows nothing of cases, so the link is kept here.
    handling_invitation = models.OneToOneField(
        "surveys.Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handled_case",
        verbose_name=_("complaint-handling survey invitation"),
    )
    customer_accepted = models.BooleanField(_("customer accepted the resolution"), null=True, blank=True)
    # ISO 10002 8.6 / ISO 10003: a customer who does not accept the decision is offered recourse, and the case
    # stays open for the internal review.
    non_acceptance_reason = models.TextField(_("why the customer does not accept"), blank=True, max_length=5000)
    recourse_offered_at = models.DateTimeField(_("recourse offered"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("complaint case")
        verbose_name_plural = _("complaint cases")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "assignee"]), models.Index(fields=["category", "received_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def contact_label(self) -> str:
        if self.customer_id:
            return str(self.customer)
        return self.contact_name or self.contact_email or self.contact_phone or "—"

    @property
    def email(self) -> str:
        return (self.customer.email if self.customer_id else "") or self.contact_email


class CaseEvent(models.Model):
    """One line of a case's timeline: who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Case received")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        EDITED = "edited", _("Details edited")
        NOTE = "note", _("Internal note")
        MESSAGE = "message", _("Message to the customer")
        ESCALATED = "escalated", _("Escalated: time limit passed")
        EMAIL = "email", _("Email sent")
        ASSESSED = "assessed", _("Initial assessment")
        NOT_ACCEPTED = "declined", _("Customer does not accept the decision")

    case = models.ForeignKey(ComplaintCase, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField(blank=True)
    from_status = models.CharField(max_length=14, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=CaseStatus.choices, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.case} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    @property
    def display_text(self) -> str:
        """The event's text in the reader's language: what the system wrote is stored as a code and drawn here."""
        if self.kind == self.Kind.ESCALATED:
            return self.escalation_text
        if self.kind == self.Kind.CREATED:
            return _channel_label(self.text)
        if self.kind == self.Kind.EMAIL:
            what, arrow, to = self.text.partition(" → ")
            if not arrow:
                what, arrow, to = self.text.partition("→ ")
            what = what.strip()
            if what.startswith("message #"):  # "message #12": which message was emailed
                what = "message"
            level = ""
            if what.startswith("escalation"):
                number = what.removeprefix("escalation").strip()
                what = "escalation"
                if number.isdigit() and int(number) in EscalationLevel.values:
                    level = f" ({EscalationLevel(int(number)).label})"
            label = EMAIL_LABELS.get(what)
            return f"{label}{level} → {to.strip()}" if label and arrow else self.text
        return self.text

    @property
    def escalation_text(self) -> str:
        """ "respond:2" → "Response overdue → Quality managers", in the reader's language (older events: "respond")."""
        step, _sep, level = self.text.partition(":")
        label = str(OVERDUE_STEP_LABELS.get(step, OVERDUE_STEP_LABELS["close"]))
        if level.isdigit() and int(level) in EscalationLevel.values:
            return f"{label} → {EscalationLevel(int(level)).label}"
        return label


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Nonconformity recorded")
    CONTAINED = "contained", _("Correction made")
    DECIDED = "decided", _("Decision recorded")
    ANALYSED = "analysed", _("Root cause found")
    IMPLEMENTING = "implementing", _("Actions under way")
    REVIEW = "review", _("Effectiveness review")
    CLOSED = "closed", _("Closed: effective")
    NOT_NEEDED = "not_needed", _("Closed: no action needed")


class RootCauseMethod(models.TextChoices):
    FIVE_WHYS = "5why", _("5 whys")
    FISHBONE = "fishbone", _("Fishbone (Ishikawa)")
    EIGHT_D = "8d", _("8D")
    OTHER = "other", _("Other")


class CorrectiveAction(models.Model):
    """ISO 9001 10.2: react, evaluate the need for action, find the cause, act, review effectiveness."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    nonconformity = models.TextField(_("nonconformity"), max_length=10000)
    cases = models.ManyToManyField(
        ComplaintCase, blank=True, related_name="corrective_actions", verbose_name=_("complaint cases")
    )
    # The comment themes the action addresses: their share of comments is compared before and after it.
    themes = models.ManyToManyField(
        "insight.Theme", blank=True, related_name="corrective_actions", verbose_name=_("themes addressed")
    )
    owner = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="corrective_actions", verbose_name=_("owner")
    )
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    # What the effectiveness figures compare: complaints of a category, or detractors of a survey (and segment).
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("category"))
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("survey"))
    segment = models.CharField(_("segment"), max_length=100, blank=True)
    effective_from = models.DateField(_("action in effect from"), null=True, blank=True)
    containment = models.TextField(_("correction or containment"), blank=True, max_length=5000)
    contained_at = models.DateTimeField(_("corrected"), null=True, blank=True)
    action_needed = models.BooleanField(_("is action needed to remove the cause?"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True, max_length=5000)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True, max_length=10000)
    root_cause_method = models.CharField(_("method"), max_length=10, choices=RootCauseMethod.choices, blank=True)
    # ISO 9001 10.2.1 b 3: whether similar nonconformities exist or could occur elsewhere must be answered (yes or
    # no) before the root cause is recorded; a "yes" says where.
    similar_possible = models.BooleanField(_("could similar nonconformities occur elsewhere?"), null=True, blank=True)
    similar_nonconformities = models.TextField(
        _("similar nonconformities that exist or could occur"), blank=True, max_length=5000
    )
    # The chosen method's own structured record (feedback/rootcause.py checks its shape): the why → because chain,
    # the fishbone's causes per category, or the 8D disciplines.
    root_cause_analysis = models.JSONField(_("analysis"), default=dict, blank=True)
    analysed_at = models.DateTimeField(_("cause found"), null=True, blank=True)
    update_risks = models.BooleanField(_("update risks and opportunities"), default=False)
    qms_change = models.BooleanField(_("change to the quality management system needed"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[cases])

    class Meta:
        verbose_name = _("corrective action")
        verbose_name_plural = _("corrective actions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    action = models.ForeignKey(CorrectiveAction, on_delete=models.PROTECT, related_name="items")
    description = models.CharField(_("action"), max_length=500)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="action_items", verbose_name=_("owner"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_date < timezone.localdate()


class EffectivenessReview(models.Model):
    class Result(models.TextChoices):
        EFFECTIVE = "effective", _("Effective")
        INEFFECTIVE = "ineffective", _("Not effective")

    action = models.ForeignKey(CorrectiveAction, on_delete=models.PROTECT, related_name="reviews")
    method = models.CharField(_("how effectiveness was checked"), max_length=300)
    evidence = models.TextField(_("evidence"), max_length=10000)
    reviewer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewer"))
    reviewed_on = models.DateField(_("review date"))
    result = models.CharField(_("result"), max_length=12, choices=Result.choices)
    # What the data said when the review was recorded (effectiveness.Verdict), and, when the result goes against
    # it, the reviewer's written reason: an auditor reads both together (ISO 9001 10.2.2 retains the evidence).
    data_verdict = models.CharField(_("verdict of the data"), max_length=12, blank=True)
    justification = models.TextField(_("justification"), blank=True, max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("effectiveness review")
        verbose_name_plural = _("effectiveness reviews")
        ordering = ["reviewed_on", "id"]

    def __str__(self) -> str:
        return f"{self.action.reference} {self.reviewed_on}: {self.result}"


def evidence_path(instance: ActionEvidence, filename: str) -> str:
    """Where a file is stored: under the action, with a random name (never the uploader's, which may hold a path or
    markup), keeping only the checked extension."""
    import uuid

    return f"evidence/{instance.action.reference}/{uuid.uuid4().hex}.{instance.extension}"


class ActionEvidence(models.Model):
    """A file kept with a corrective action as evidence (ISO 9001 10.2.2: retain documented information). Never
    deleted; read through the action's page, which checks who asks."""

    class Step(models.TextChoices):
        INVESTIGATION = "investigation", _("Investigation")
        EFFECTIVENESS = "effectiveness", _("Effectiveness")

    action = models.ForeignKey(CorrectiveAction, on_delete=models.PROTECT, related_name="evidence")
    step = models.CharField(_("step"), max_length=14, choices=Step.choices)
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200, validators=[validate_one_line])
    extension = models.CharField(max_length=5)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True, validators=[validate_one_line])
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.action.reference} {self.name}"


class ComplaintSettings(models.Model):
    """One row: the survey sent to customers after their complaint is closed (ISO 10002 asks how it was handled)."""

    handling_survey = models.ForeignKey(
        Survey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("complaint-handling survey"),
    )
    # The closed loop's sweep has examined every response up to this id (feedback/loop.py).
    loop_watermark = models.BigIntegerField(default=0)
    # The newest response a sweep has examined: a quick sweep (asked for after answers) starts past it, a full one
    # (beat) from the settled watermark, to catch answers that committed late with a smaller id.
    loop_examined = models.BigIntegerField(default=0)
    # The business calendar the time limits run on (feedback/calendar.py); holidays are PublicHoliday rows.
    work_start = models.TimeField(_("working day starts"), default=datetime.time(8, 0))
    work_end = models.TimeField(_("working day ends"), default=datetime.time(17, 0))
    working_days = models.CharField(_("working days"), max_length=7, default="12345")
    # Escalation (ISO 10002): past a time limit the assignee is told; this many working hours later the quality
    # managers; later still top management.
    escalate_managers_after = models.PositiveIntegerField(
        _("escalate to quality managers after (working hours overdue)"), default=4
    )
    escalate_top_after = models.PositiveIntegerField(
        _("escalate to top management after (working hours overdue)"), default=16
    )

    class Meta:
        verbose_name = _("complaint settings")
        verbose_name_plural = _("complaint settings")

    def __str__(self) -> str:
        return str(_("complaint settings"))

    @classmethod
    def load(cls) -> ComplaintSettings:
        return cls.objects.get_or_create(pk=1)[0]


class PublicHoliday(models.Model):
    """A day on which complaint time limits do not run. Seeded with Vietnam's holidays; quality managers edit them."""

    date = models.DateField(_("date"), unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)

    class Meta:
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name_vi}"

    def name(self, language: str) -> str:
        return (self.name_en or self.name_vi) if language == "en" else (self.name_vi or self.name_en)
