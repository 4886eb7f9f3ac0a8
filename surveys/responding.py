"""Taking a survey: what a link allows, how answers are validated, and how a response is stored exactly once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.models import Answer, Invitation, Question, Response, Survey, SurveyVersion
from surveys.scoring import CHOICE_KINDS, SCALE_KINDS, TEXT_MAX_LENGTH, QuestionKind
from surveys.signals import response_submitted

OPEN, ANSWERED, UNAVAILABLE = "open", "answered", "unavailable"


def link_state(invitation: Invitation | None) -> str:
    """What a link may do. Unknown, expired and closed collapse into one state so the page cannot tell them apart."""
    if invitation is None:
        return UNAVAILABLE
    if invitation.answered_at is not None:
        return ANSWERED
    survey = invitation.survey
    if survey.status != Survey.Status.ACTIVE or invitation.is_expired or survey.current_version_id is None:
        return UNAVAILABLE
    return OPEN


def questions_of(version: SurveyVersion) -> list[Question]:
    return list(version.questions.order_by("position", "id"))


def field_name(question: Question) -> str:
    return f"q{question.pk}"


def _parse_int(raw: str) -> int | None:
    try:
        return int(raw.strip())
    except (TypeError, ValueError, AttributeError):
        return None


@dataclass
class ParsedAnswers:
    # What the customer sent, per question id, kept to re-show the form: an int, a list of ints, or text.
    values: dict[int, Any] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def parse_answers(questions: Iterable[Question], data: Mapping[str, Any]) -> ParsedAnswers:
    """Validate every answer (range, type, required, length). `data` is a QueryDict or a plain dict."""
    result = ParsedAnswers()
    getlist = getattr(data, "getlist", None)
    for q in questions:
        name = field_name(q)
        if q.kind in SCALE_KINDS or q.kind == QuestionKind.SINGLE:
            raw = data.get(name, "")
            if raw in ("", None):
                if q.required:
                    result.errors[q.pk] = _("Please answer this question.")
                continue
            number = _parse_int(raw)
            if q.kind == QuestionKind.SINGLE:
                if number is None or not 0 <= number < len(q.choices):
                    result.errors[q.pk] = _("Choose one of the options.")
                    continue
            else:
                scale = q.scale
                if number is None or not scale.low <= number <= scale.high:
                    result.errors[q.pk] = _("Choose a value from %(low)s to %(high)s.") % {
                        "low": scale.low,
                        "high": scale.high,
                    }
                    continue
            result.values[q.pk] = number
        elif q.kind == QuestionKind.MULTI:
            raws = getlist(name) if getlist else data.get(name, [])
            if isinstance(raws, str):
                raws = [raws]
            numbers = [_parse_int(r) for r in raws]
            if any(n is None or not 0 <= n < len(q.choices) for n in numbers):
                result.errors[q.pk] = _("Choose from the options shown.")
                continue
            chosen = sorted(set(n for n in numbers if n is not None))
            if not chosen:
                if q.required:
                    result.errors[q.pk] = _("Please choose at least one option.")
                continue
            result.values[q.pk] = chosen
        else:
            text = str(data.get(name, "") or "").replace("\r\n", "\n").strip()
            if len(text) > TEXT_MAX_LENGTH:
                result.values[q.pk] = text
                result.errors[q.pk] = _(
                    "Please shorten your answer to at most %(max)s characters (it has %(count)s)."
                ) % {"max": f"{TEXT_MAX_LENGTH:,}", "count": f"{len(text):,}"}
                continue
            if "\x00" in text:
                result.errors[q.pk] = _("Your answer contains a character that cannot be stored.")
                continue
            if not text:
                if q.required:
                    result.errors[q.pk] = _("Please answer this question.")
                continue
            result.values[q.pk] = text
    return result


def prefill_score(questions: Iterable[Question], raw: str | None) -> dict[int, int]:
    """`?score=N` from an email's score buttons pre-fills the first scale question when N is on its scale."""
    score = _parse_int(raw) if raw else None
    if score is None:
        return {}
    for q in questions:
        if q.kind in SCALE_KINDS:
            scale = q.scale
            return {q.pk: score} if scale.low <= score <= scale.high else {}
    return {}


def _answer_row(response: Response, question: Question, value: Any) -> Answer:
    if question.kind == QuestionKind.MULTI:
        return Answer(response=response, question=question, choices=value)
    if question.kind in SCALE_KINDS or question.kind in CHOICE_KINDS:
        return Answer(response=response, question=question, number=value)
    return Answer(response=response, question=question, text=value)


def response_submit(
    *,
    invitation: Invitation,
    questions: list[Question],
    answers: ParsedAnswers,
    language: str,
) -> tuple[Response, bool]:
    """Store one response and its answers in one transaction; (response, created).

    The unique constraint on Response.invitation decides races: the loser of two concurrent posts rolls back and
    gets the winner's response, so the customer sees the thank-you page either way.
    """
    if not answers.is_valid:
        raise ValueError("response_submit needs valid answers")
    now = timezone.now()
    survey = invitation.survey
    try:
        with transaction.atomic():
            response = Response.objects.create(
                survey_id=survey.pk,
                version_id=survey.current_version_id,
                invitation=invitation,
                customer_id=invitation.customer_id,
                language=language,
                submitted_at=now,
            )
            by_id = {q.pk: q for q in questions}
            Answer.objects.bulk_create(
                [_answer_row(response, by_id[qid], value) for qid, value in answers.values.items()]
            )
            Invitation.objects.filter(pk=invitation.pk).update(answered_at=now)
    except IntegrityError:
        return Response.objects.get(invitation_id=invitation.pk), False
    invitation.answered_at = now
    transaction.on_commit(lambda: response_submitted.send(sender=Response, response=response))
    return response, True
