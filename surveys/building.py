"""How a quality manager builds a survey: create, edit questions, version, activate, close.

Every write to a survey's design goes through a function here, so the one rule that matters most — a version that
has responses never changes — is enforced in one place, whatever calls it (web UI, admin, commands).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.trail import audit_record, audit_record_many, audit_snapshot, audit_stored
from surveys.models import Question, Survey, SurveyVersion
from surveys.scoring import (
    CHOICE_KINDS,
    DEFAULT_COMMENT_TEXT,
    DEFAULT_HEADLINE_TEXT,
    FIXED_SCALES,
    RATING_MAX_HIGH,
    RATING_MIN_LOW,
    SCALE_KINDS,
    QuestionKind,
)


class SurveyLocked(ValidationError):
    """The questions of a version that already has responses cannot be changed in place."""


def version_has_responses(version: SurveyVersion) -> bool:
    return version.responses.exists()


def _touched(version: SurveyVersion) -> None:
    # The respondent pages cache a survey's questions keyed on its updated_at: every question change must move it.
    Survey.objects.filter(pk=version.survey_id).update(updated_at=timezone.now())


def _applies_to(survey: Survey, version: SurveyVersion | None = None) -> dict[str, Any]:
    """Document control (ISO 9001 7.5.3): a change after activation names the version it applies to."""
    if survey.status == Survey.Status.DRAFT:
        return {"survey": survey.pk}
    number = version.number if version is not None else getattr(survey.current_version, "number", None)
    return {"survey": survey.pk, "version": number, "after_activation": True}


def _ensure_editable(version: SurveyVersion) -> None:
    if version_has_responses(version):
        raise SurveyLocked(
            _(
                "This version already has responses, so its questions cannot change: the answers must keep "
                "meaning what customers meant. Create a new version to edit the questions."
            )
        )


@transaction.atomic
def survey_create(
    *,
    owner: AbstractBaseUser,
    kind: str,
    title_en: str,
    title_vi: str,
    intro_en: str = "",
    intro_vi: str = "",
    with_comment: bool = True,
    **plan: Any,
) -> Survey:
    """A draft survey with version 1 holding its headline question (and, by default, a comment question)."""
    survey = Survey(
        kind=kind, title_en=title_en, title_vi=title_vi, intro_en=intro_en, intro_vi=intro_vi, owner=owner, **plan
    )
    survey.full_clean(exclude=["current_version"])
    survey.save()
    version = SurveyVersion.objects.create(survey=survey, number=1)
    survey.current_version = version
    survey.save(update_fields=["current_version"])
    audit_record(survey, action="create")
    audit_record(version, action="create")
    headline = DEFAULT_HEADLINE_TEXT[kind]
    question_add(version=version, kind=kind, text_en=headline["en"], text_vi=headline["vi"], required=True)
    if with_comment:
        question_add(
            version=version,
            kind=QuestionKind.TEXT,
            text_en=DEFAULT_COMMENT_TEXT["en"],
            text_vi=DEFAULT_COMMENT_TEXT["vi"],
            required=False,
        )
    return survey


PLAN_FIELDS = (
    "plan_purpose",
    "plan_scope",
    "plan_population",
    "plan_method",
    "plan_frequency",
    "plan_sample_target",
)
SURVEY_EDITABLE = frozenset(
    {
        "title_en",
        "title_vi",
        "intro_en",
        "intro_vi",
        "closed_loop",
        "nps_detractor_max",
        "csat_detractor_max",
        "ces_detractor_min",
        *PLAN_FIELDS,
    }
)


@transaction.atomic
def survey_update(*, survey: Survey, reason: str = "", **fields: Any) -> Survey:
    """Change a survey's wording, closed-loop settings or plan; recorded with the version it applies to."""
    before = audit_stored(survey)
    for name, value in fields.items():
        if name not in SURVEY_EDITABLE:
            # Bandit B608 reads "update ... set" in this message as SQL; it is an exception text.
            raise ValueError(f"survey_update cannot set {name}")  # nosec B608
        setattr(survey, name, value)
    survey.full_clean(exclude=["current_version", "owner"])
    survey.save()
    audit_record(survey, action="update", before=before, reason=reason, context=_applies_to(survey))
    return survey


def _clean_question(
    *,
    kind: str,
    text_en: str,
    text_vi: str,
    choices: list[dict[str, str]] | None,
    scale_min: int | None,
    scale_max: int | None,
) -> tuple[list[dict[str, str]], int | None, int | None]:
    errors: dict[str, list[str]] = {}
    if kind not in QuestionKind.values:
        errors["kind"] = [_("Choose a question type.")]
    if not (text_en.strip() or text_vi.strip()):
        errors["text_en"] = [_("Write the question in at least one language.")]
    clean_choices: list[dict[str, str]] = []
    if kind in CHOICE_KINDS:
        clean_choices = [
            {"en": c.get("en", "").strip(), "vi": c.get("vi", "").strip()}
            for c in (choices or [])
            if c.get("en", "").strip() or c.get("vi", "").strip()
        ]
        if len(clean_choices) < 2:
            errors["choices"] = [_("A choice question needs at least two options.")]
    if kind == QuestionKind.RATING:
        lo = RATING_MIN_LOW if scale_min is None else scale_min
        hi = 5 if scale_max is None else scale_max
        if not (RATING_MIN_LOW <= lo < hi <= RATING_MAX_HIGH):
            errors["scale_max"] = [
                _("A rating scale runs from %(low)s to at most %(high)s, lowest value first.")
                % {"low": RATING_MIN_LOW, "high": RATING_MAX_HIGH}
            ]
        scale_min, scale_max = lo, hi
    elif kind in FIXED_SCALES:
        # Fixed scales keep NPS/CSAT/CES comparable; the stored bounds only mirror them for readers of the table.
        scale_min, scale_max = FIXED_SCALES[kind].low, FIXED_SCALES[kind].high
    else:
        scale_min = scale_max = None
    if errors:
        raise ValidationError(errors)
    return clean_choices, scale_min, scale_max


def _clean_follow_up(version: SurveyVersion, position: int, low: int | None, high: int | None) -> None:
    """A follow-up depends on the nearest scale question above it; its range must lie on that scale."""
    if low is None and high is None:
        return
    above = [q for q in version.questions.filter(position__lt=position).order_by("-position") if q.kind in SCALE_KINDS]
    if not above:
        raise ValidationError({"show_if_min": [_("A follow-up needs a score question above it.")]})
    scale = above[0].scale
    if low is None or high is None or not scale.low <= low <= high <= scale.high:
        raise ValidationError(
            {
                "show_if_max": [
                    _("Give both ends of the score range, from %(low)s to %(high)s, lowest first.")
                    % {"low": scale.low, "high": scale.high}
                ]
            }
        )


@transaction.atomic
def question_add(
    *,
    version: SurveyVersion,
    kind: str,
    text_en: str,
    text_vi: str,
    required: bool = True,
    choices: list[dict[str, str]] | None = None,
    scale_min: int | None = None,
    scale_max: int | None = None,
    show_if_min: int | None = None,
    show_if_max: int | None = None,
) -> Question:
    _ensure_editable(version)
    clean_choices, lo, hi = _clean_question(
        kind=kind, text_en=text_en, text_vi=text_vi, choices=choices, scale_min=scale_min, scale_max=scale_max
    )
    last = version.questions.aggregate(m=Max("position"))["m"] or 0
    _clean_follow_up(version, last + 1, show_if_min, show_if_max)
    _touched(version)
    question = Question.objects.create(
        version=version,
        position=last + 1,
        kind=kind,
        text_en=text_en.strip(),
        text_vi=text_vi.strip(),
        required=required,
        choices=clean_choices,
        scale_min=lo,
        scale_max=hi,
        show_if_min=show_if_min,
        show_if_max=show_if_max,
    )
    audit_record(question, action="create", context=_applies_to(version.survey, version))
    return question


@transaction.atomic
def question_update(
    *,
    question: Question,
    kind: str,
    text_en: str,
    text_vi: str,
    required: bool,
    choices: list[dict[str, str]] | None = None,
    scale_min: int | None = None,
    scale_max: int | None = None,
    show_if_min: int | None = None,
    show_if_max: int | None = None,
) -> Question:
    _ensure_editable(question.version)
    clean_choices, lo, hi = _clean_question(
        kind=kind, text_en=text_en, text_vi=text_vi, choices=choices, scale_min=scale_min, scale_max=scale_max
    )
    before = audit_snapshot(question)
    _clean_follow_up(question.version, question.position, show_if_min, show_if_max)
    question.show_if_min, question.show_if_max = show_if_min, show_if_max
    question.kind = kind
    question.text_en, question.text_vi = text_en.strip(), text_vi.strip()
    question.required = required
    question.choices, question.scale_min, question.scale_max = clean_choices, lo, hi
    question.save()
    _touched(question.version)
    audit_record(
        question, action="update", before=before, context=_applies_to(question.version.survey, question.version)
    )
    return question


@transaction.atomic
def question_delete(*, question: Question) -> None:
    version = question.version
    _ensure_editable(version)
    if version.questions.count() <= 1 and version.survey.status != Survey.Status.DRAFT:
        raise ValidationError(_("A survey that is live needs at least one question."))
    # Only a version nobody has answered loses a question; the trail keeps what the question said.
    audit_record(
        question, action="delete", before=audit_snapshot(question), context=_applies_to(version.survey, version)
    )
    question.delete()
    _renumber(version)
    _touched(version)


@transaction.atomic
def question_move(*, question: Question, direction: str) -> None:
    """Swap a question with its neighbour above ("up") or below ("down")."""
    version = question.version
    _ensure_editable(version)
    ordered = list(version.questions.order_by("position", "id"))
    index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(version, ordered)
    _touched(version)


def _renumber(version: SurveyVersion, ordered: list[Question] | None = None) -> None:
    if ordered is None:
        ordered = list(version.questions.order_by("position", "id"))
    context = _applies_to(version.survey, version)
    for position, q in enumerate(ordered, start=1):
        if q.position != position:
            before = audit_snapshot(q)
            q.position = position
            q.save(update_fields=["position"])
            audit_record(q, action="update", before=before, context=context)


def _copy_questions(*, from_version_id: int, to: SurveyVersion) -> None:
    """Every question of one version, in order, into another (a new version, or a duplicated survey)."""
    Question.objects.bulk_create(
        Question(
            version=to,
            position=q.position,
            kind=q.kind,
            text_en=q.text_en,
            text_vi=q.text_vi,
            required=q.required,
            choices=q.choices,
            scale_min=q.scale_min,
            scale_max=q.scale_max,
            show_if_min=q.show_if_min,
            show_if_max=q.show_if_max,
            headline=q.headline,
        )
        for q in Question.objects.filter(version_id=from_version_id).order_by("position", "id")
    )


@transaction.atomic
def survey_new_version(*, survey: Survey) -> SurveyVersion:
    """Copy the current questions into a new version, which new responses will answer from now on."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    current = survey.current_version
    number = (survey.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    before = audit_snapshot(survey)
    version = SurveyVersion.objects.create(survey=survey, number=number)
    audit_record(version, action="create")
    if current is not None:
        _copy_questions(from_version_id=current.pk, to=version)
        audit_record_many(version.questions.all(), action="create", context=_applies_to(survey, version))
    survey.current_version = version
    survey.save(update_fields=["current_version", "updated_at"])
    audit_record(survey, action="new_version", before=before, context=_applies_to(survey, version))
    return version


@transaction.atomic
def survey_activate(*, survey: Survey) -> Survey:
    if survey.current_version is None or not survey.current_version.questions.exists():
        raise ValidationError(_("Add at least one question before activating the survey."))
    before = audit_snapshot(survey)
    survey.status = Survey.Status.ACTIVE
    survey.save(update_fields=["status", "updated_at"])
    audit_record(survey, action="activate", before=before, context=_applies_to(survey))
    return survey


@transaction.atomic
def survey_close(*, survey: Survey) -> Survey:
    if survey.status != Survey.Status.ACTIVE:
        raise ValidationError(_("Only an active survey can be closed."))
    before = audit_snapshot(survey)
    survey.status = Survey.Status.CLOSED
    survey.save(update_fields=["status", "updated_at"])
    audit_record(survey, action="close", before=before, context=_applies_to(survey))
    return survey


@transaction.atomic
def survey_set_public_key(*, survey: Survey, key: str | None) -> Survey:
    """Give the survey a public link (a new key) or take it away (None); the old link stops working."""
    before = audit_snapshot(survey)
    survey.public_key = key
    survey.save(update_fields=["public_key", "updated_at"])
    audit_record(survey, action="update", before=before, context=_applies_to(survey))
    return survey


@transaction.atomic
def survey_duplicate(*, survey: Survey, owner: AbstractBaseUser) -> Survey:
    """A new draft with the survey's wording, settings and current questions; responses, links and campaigns stay
    with the original."""
    copy = Survey(
        kind=survey.kind,
        owner=owner,
        intro_en=survey.intro_en,
        intro_vi=survey.intro_vi,
        closed_loop=survey.closed_loop,
        nps_detractor_max=survey.nps_detractor_max,
        csat_detractor_max=survey.csat_detractor_max,
        ces_detractor_min=survey.ces_detractor_min,
        **{name: getattr(survey, name) for name in PLAN_FIELDS},
    )
    for language in ("en", "vi"):
        with translation.override(language):
            title = _("%(title)s (copy)") % {"title": getattr(survey, f"title_{language}")}
        setattr(copy, f"title_{language}", title[:200])
    copy.full_clean(exclude=["current_version"])
    copy.save()
    version = SurveyVersion.objects.create(survey=copy, number=1)
    copy.current_version = version
    copy.save(update_fields=["current_version"])
    audit_record(copy, action="create", context={"duplicate_of": survey.pk})
    audit_record(version, action="create")
    if survey.current_version_id is not None:
        _copy_questions(from_version_id=survey.current_version_id, to=version)
        audit_record_many(version.questions.all(), action="create", context=_applies_to(copy, version))
    return copy


@transaction.atomic
def question_set_headline(*, question: Question) -> None:
    """Make this question its version's headline: the one figure the dashboard, objectives and alerts report.

    Only a question of the survey's own kind can be: an NPS survey's headline is an NPS question. A version with
    responses keeps its headline, like its questions, so that figures already reported never change."""
    version = question.version
    _ensure_editable(version)
    if question.kind != version.survey.kind:
        raise ValidationError(_("Only a question of the survey's own type can be its headline."))
    context = _applies_to(version.survey, version)
    for previous in version.questions.exclude(pk=question.pk).filter(headline=True):
        before = audit_snapshot(previous)
        previous.headline = False
        previous.save(update_fields=["headline"])
        audit_record(previous, action="update", before=before, context=context)
    if not question.headline:
        before = audit_snapshot(question)
        question.headline = True
        question.save(update_fields=["headline"])
        audit_record(question, action="update", before=before, context=context)
    _touched(version)


def headline_of(questions: list[Question], kind: str) -> Question | None:
    """The headline among one version's questions: the one marked, else the first of the survey's kind."""
    of_kind = sorted((q for q in questions if q.kind == kind), key=lambda q: (q.position, q.pk))
    return next((q for q in of_kind if q.headline), of_kind[0] if of_kind else None)


def headline_question_ids(survey: Survey) -> list[int]:
    """The headline question of each of the survey's versions (one query): what its headline figure counts."""
    by_version: dict[int, list[Question]] = {}
    for q in Question.objects.filter(version__survey_id=survey.pk, kind=survey.kind).only(
        "id", "version_id", "kind", "position", "headline"
    ):
        by_version.setdefault(q.version_id, []).append(q)
    return sorted(h.pk for qs in by_version.values() if (h := headline_of(qs, survey.kind)) is not None)
