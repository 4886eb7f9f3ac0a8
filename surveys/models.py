"""Surveys (with immutable versions once answered), invitations and responses. Customers are in `customers`."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from config.validators import validate_one_line
from customers.models import Customer, Language
from surveys.scoring import QuestionKind, SurveyKind, scale_for


def pick(obj: object, field: str, language: str) -> str:
    """The Vietnamese or English variant of a field, falling back to the other language when one is empty."""
    primary = getattr(obj, f"{field}_{'en' if language == 'en' else 'vi'}")
    return primary or getattr(obj, f"{field}_{'vi' if language == 'en' else 'en'}")


class Survey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    kind = models.CharField(_("kind"), max_length=10, choices=SurveyKind.choices)
    # Titles are the subject of invitation emails: one line (config/validators.py).
    title_en = models.CharField(_("title (English)"), max_length=200, validators=[validate_one_line])
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=200, validators=[validate_one_line])
    intro_en = models.TextField(_("introduction (English)"), blank=True, max_length=2000)
    intro_vi = models.TextField(_("introduction (Vietnamese)"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("owner")
    )
    # Closed loop (ISO 10002): a bad experience opens a complaint case. Thresholds per survey, defaults in scoring.py.
    closed_loop = models.BooleanField(_("open a case for each detractor answer"), default=True)
    nps_detractor_max = models.PositiveSmallIntegerField(_("NPS: detractor up to"), default=6)
    csat_detractor_max = models.PositiveSmallIntegerField(_("CSAT: dissatisfied up to"), default=2)
    ces_detractor_min = models.PositiveSmallIntegerField(_("CES: high effort from"), default=6)
    # The survey's plan (ISO 10004 6.3): why it is asked, of whom, how and how often; its owner is `owner`.
    plan_purpose = models.TextField(_("purpose"), blank=True, max_length=2000)
    plan_scope = models.TextField(_("scope"), blank=True, max_length=2000)
    plan_population = models.TextField(_("target population"), blank=True, max_length=2000)
    plan_method = models.CharField(_("method and channel"), blank=True, max_length=300)
    plan_frequency = models.CharField(_("frequency"), blank=True, max_length=200)
    plan_sample_target = models.PositiveIntegerField(_("sample target (responses)"), null=True, blank=True)
    # A public link (/p/<key>/) for receipts, counters and kiosks; None when the survey has none.
    public_key = models.CharField(max_length=32, unique=True, null=True, blank=True)
    # The version new responses answer. Set when the survey is created and moved by `survey_new_version`.
    current_version = models.ForeignKey(
        "SurveyVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        # In the reader's language wherever a survey is named without one (breadcrumbs, selects, the admin).
        return self.title("en" if (get_language() or "")[:2] == "en" else "vi")

    def title(self, language: str) -> str:
        return pick(self, "title", language)

    def detractor_ranges(self) -> dict[str, tuple[int, int]]:
        return {
            "nps": (0, self.nps_detractor_max),
            "csat": (1, self.csat_detractor_max),
            "ces": (self.ces_detractor_min, 7),
        }

    def intro(self, language: str) -> str:
        return pick(self, "intro", language)


class SurveyVersion(models.Model):
    """A numbered set of questions. Once a response points to it, its questions never change."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("survey version")
        verbose_name_plural = _("survey versions")
        ordering = ["survey", "number"]
        constraints = [models.UniqueConstraint(fields=["survey", "number"], name="survey_version_unique")]

    def __str__(self) -> str:
        return f"{self.survey} v{self.number}"


class Question(models.Model):
    version = models.ForeignKey(SurveyVersion, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("type"), max_length=10, choices=QuestionKind.choices)
    text_en = models.CharField(_("question (English)"), max_length=500)
    text_vi = models.CharField(_("question (Vietnamese)"), max_length=500)
    required = models.BooleanField(_("required"), default=True)
    # For single/multiple choice: a list of {"en": ..., "vi": ...}; answers store the option's index.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # For a rating question only; NPS/CSAT/CES scales are fixed in scoring.py.
    scale_min = models.SmallIntegerField(_("lowest value"), null=True, blank=True)
    scale_max = models.SmallIntegerField(_("highest value"), null=True, blank=True)
    # A follow-up: shown only when the nearest scale question above it was answered within [show_if_min,
    # show_if_max] (e.g. "What should we improve?" for NPS 0–6). Both empty: always shown.
    show_if_min = models.SmallIntegerField(_("show only after a score from"), null=True, blank=True)
    show_if_max = models.SmallIntegerField(_("to"), null=True, blank=True)
    # The version's headline question: the one figure the dashboard, objectives and alerts report. At most one
    # per version; when none is marked, the first question of the survey's kind is (see building.headline_of).
    headline = models.BooleanField(_("headline question"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "position", "id"]

    def __str__(self) -> str:
        return self.text_en or self.text_vi

    def text(self, language: str) -> str:
        return pick(self, "text", language)

    @property
    def scale(self):  # -> Scale | None
        return scale_for(self.kind, self.scale_min, self.scale_max)

    @property
    def is_follow_up(self) -> bool:
        return self.show_if_min is not None and self.show_if_max is not None

    def choice_labels(self, language: str) -> list[str]:
        key, other = ("en", "vi") if language == "en" else ("vi", "en")
        return [c.get(key) or c.get(other, "") for c in self.choices]


class Branding(models.Model):
    """The organisation's logo and colour on the respondent pages and in the emails: one row (pk 1)."""

    DEFAULT_COLOUR = "#0b4f6c"

    colour = models.CharField(_("colour"), max_length=7, default=DEFAULT_COLOUR)
    # Stored in the database and served by the app (no media storage to set up); a few hundred KB at most.
    logo = models.BinaryField(_("logo"), blank=True, default=b"")
    logo_type = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("logo and colour")
        verbose_name_plural = _("logo and colour")

    def __str__(self) -> str:
        return self.colour


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Invitation(models.Model):
    """One customer's right to answer one survey once, through /s/<token>/.

    The token is derived from a random salt and the server's key (invitations.invitation_token), so every email
    about the invitation (first send, reminders) carries the same link; the database holds only the salt and the
    token's SHA-256 hash, which together with a leaked database still give nobody a working link.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DEFERRED = "deferred", _("Deferred")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        OPENED = "opened", _("Opened")
        ANSWERED = "answered", _("Answered")
        EXPIRED = "expired", _("Expired")
        SKIPPED = "skipped", _("Skipped")

    class Channel(models.TextChoices):
        # How the link was meant to reach the customer. A link handed out by hand (shown once, printed) is
        # delivered when it is made; an email link only once it was sent (sent_at).
        EMAIL = "email", _("Email")
        LINK = "link", _("Link handed out")

    class Skip(models.TextChoices):
        OPTED_OUT = "opted_out", _("Opted out")
        THROTTLED = "throttled", _("Asked recently")
        INVALID_ADDRESS = "invalid_address", _("No valid email address")
        DUPLICATE = "duplicate", _("Already invited to this survey")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    campaign = models.ForeignKey(
        "Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # A database default too: campaigns and benchmarks insert invitations with their own SQL.
    channel = models.CharField(
        _("channel"), max_length=5, choices=Channel.choices, default=Channel.EMAIL, db_default=Channel.EMAIL
    )
    token_salt = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Why it was skipped (a Skip value) or why sending failed (the server's words).
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # Delivery (campaigns/delivery.py): when a worker claimed it (queued → sending), until when the claim (or the
    # message that carries it to a worker) holds, when a deferred one is tried next, and how many tries were made.
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, db_default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"))
    sent_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        # No index may include a column the submit updates (status, answered_at, opened_at): PostgreSQL then
        # updates the row in place (HOT), which keeps the respondent path fast. The campaign's FK index serves
        # the funnel's counts.
        # created_at is never updated, so indexing it keeps the submit's invitation update in place (HOT); the
        # reports' funnel reads the invitations of recent days through it.
        indexes = [models.Index(fields=["customer", "created_at"]), models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.survey} → {self.customer}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Campaign(models.Model):
    """A send of one survey to an audience, now or at a set time, with an expiry and a reminder policy."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("survey"))
    name = models.CharField(_("name"), max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The audience: customers matching these filters (empty = any), or the listed emails / external IDs.
    segment = models.CharField(_("segment"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    customer_type = models.CharField(_("type"), max_length=10, choices=Customer.Type.choices, blank=True)
    audience_list = models.TextField(_("list of customers"), blank=True)
    send_at = models.DateTimeField(_("send at"))
    expiry_days = models.PositiveSmallIntegerField(_("links valid for (days)"), default=30)
    remind_after_days = models.PositiveSmallIntegerField(_("remind non-responders after (days)"), null=True, blank=True)
    max_reminders = models.PositiveSmallIntegerField(_("at most (reminders)"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Response(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        LINK = "link", _("Link handed out")
        PUBLIC = "public", _("Public link or QR code")

    # Indexes are few on purpose: every one is paid on each submit. (survey, submitted_at) covers survey lookups.
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses", db_index=False)
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="responses")
    # Unique: a double click, a retry or two concurrent posts cannot make a second response for one invitation.
    invitation = models.OneToOneField(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="response"
    )
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses")
    language = models.CharField(max_length=2, choices=Language.choices)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    # What the analysis groups by, as it was when the answer was given: a later change of the customer's segment
    # (an edit, a re-import, an erasure) must not move history (ISO 10004: comparable over time).
    segment = models.CharField(_("segment"), max_length=100, blank=True, default="", db_default="")
    channel = models.CharField(
        _("channel"), max_length=6, choices=Channel.choices, default=Channel.EMAIL, db_default=Channel.EMAIL
    )

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["survey", "submitted_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.survey}"


class Answer(models.Model):
    # Covered by the unique (response, question) index.
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers", db_index=False)
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    # A scale score, or the index of the chosen option of a single-choice question.
    number = models.SmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    # The indexes of the chosen options of a multiple-choice question.
    choices = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_unique")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.number if self.number is not None else self.text[:40]}"


class ContactClaim(models.Model):
    """An email address typed on a public page: a claim, not an identity (anyone can type anyone's address).

    The answer stays anonymous until the address's owner opens the link mailed to it and confirms; only then does
    the answer join the customer with that address (or a new one). Its link is derived from a salt and the server key;
    only the link's SHA-256 hash is stored."""

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="contact_claim")
    email = models.EmailField(_("email"))
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.VI)
    token_salt = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    mailed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("unconfirmed contact")
        verbose_name_plural = _("unconfirmed contacts")
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"#{self.response_id} {'confirmed' if self.confirmed_at else 'unconfirmed'}"
