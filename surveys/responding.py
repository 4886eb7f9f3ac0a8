"""Taking a survey: what a link allows, how answers are validated, and how a response is stored exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from config import formatting
from surveys import fastpath
from surveys.branding import DEFAULT as DEFAULT_BRAND
from surveys.branding import Brand, brand_current
from surveys.models import Answer, Invitation, Question, Response, Survey, SurveyVersion, hash_token
from surveys.scoring import CHOICE_KINDS, SCALE_KINDS, TEXT_MAX_LENGTH, QuestionKind
from surveys.signals import response_submitted

OPEN, ANSWERED, UNAVAILABLE = "open", "answered", "unavailable"

# The respondent path is the hottest of the server when a campaign goes out (see bench/): a link costs one small
# query, the survey's wording comes from a per-process cache keyed on the survey's `updated_at`, and on PostgreSQL
# a submit is one statement. Every edit of a survey's questions touches `updated_at` (building.py), so a stale
# cache entry is never used, in any worker.


@dataclass(frozen=True)
class Link:
    """What the respondent pages need to know about an invitation, read in one query."""

    invitation_id: int
    customer_id: int
    customer_language: str
    answered: bool
    expired: bool
    survey_id: int
    survey_status: str
    version_id: int | None
    survey_stamp: Any  # the survey's updated_at, used only as a cache key
    opened: bool = False
    segment: str = ""  # the customer's segment now: the response keeps it (history never moves)
    emailed: bool = False  # the link was emailed; otherwise it was handed out some other way

    @property
    def channel(self) -> str:
        return Response.Channel.EMAIL if self.emailed else Response.Channel.LINK


def link_for_token(token: str) -> Link | None:
    """The invitation behind a link, or None for any token that is not one of ours."""
    # A real token is 43 characters; refuse absurd input before hashing it.
    if not token or len(token) > 128:
        return None
    row = fastpath.link_row(hash_token(token), timezone.now())
    if row is None:
        return None
    return Link(
        row[0], row[1], row[2], bool(row[3]), bool(row[4]), row[5], row[6], row[7], row[8], bool(row[9]),
        row[10] or "", bool(row[11]),
    )  # fmt: skip


def link_opened(link: Link) -> None:
    """Record the first opening of a link (the campaign funnel's "opened"). Not an answer: nothing else changes."""
    if link.opened:
        return
    sent = (Invitation.Status.QUEUED, Invitation.Status.SENT)
    Invitation.objects.filter(pk=link.invitation_id, opened_at__isnull=True).update(
        opened_at=timezone.now(),
        status=Case(When(status__in=sent, then=Value(Invitation.Status.OPENED)), default=F("status")),
    )


def link_state(link: Link | None) -> str:
    """What a link may do. Unknown, expired and closed collapse into one state so the page cannot tell them apart."""
    if link is None:
        return UNAVAILABLE
    if link.answered:
        return ANSWERED
    if link.survey_status != Survey.Status.ACTIVE or link.expired or link.version_id is None:
        return UNAVAILABLE
    return OPEN


@dataclass(frozen=True)
class SurveySnapshot:
    survey: Survey
    version_id: int
    stamp: str
    questions: list[Question]
    # The organisation's logo and colour, read with the snapshot: a change of them touches every survey.
    brand: Brand = DEFAULT_BRAND


_SNAPSHOTS: dict[tuple[int, str], SurveySnapshot] = {}
_SNAPSHOTS_MAX = 256


def stamp_key(value: Any) -> str:
    """A survey's updated_at as the text the cache, the form's hidden field and PostgreSQL all agree on."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def survey_snapshot(survey_id: int, version_id: int, stamp: Any) -> SurveySnapshot:
    """The survey's wording and one version's questions, cached per process; see the note at the top.

    `stamp` must come from the database (the link's row), never from a request: it is part of the cache key.
    """
    key = (version_id, stamp_key(stamp))
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        survey = Survey.objects.get(pk=survey_id)
        questions = list(Question.objects.filter(version_id=version_id).order_by("position", "id"))
        snapshot = SurveySnapshot(
            survey=survey, version_id=version_id, stamp=key[1], questions=questions, brand=brand_current()
        )
        if len(_SNAPSHOTS) >= _SNAPSHOTS_MAX:
            _SNAPSHOTS.clear()
        _SNAPSHOTS[key] = snapshot
    return snapshot


def snapshot_cache_clear() -> None:
    _SNAPSHOTS.clear()


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
    # Follow-ups that the score calls for but the customer has not seen (scripts off): shown before storing.
    pending: list[int] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors


# The form's "fu" field: "js" when a script showed follow-ups live, else the ids of the follow-ups it showed.
SEEN_FIELD, SEEN_BY_SCRIPT = "fu", "js"


def follow_up_rules(questions: Iterable[Question]) -> dict[int, tuple[int, int, int]]:
    """Per follow-up question: (id of the nearest scale question above it, lowest score, highest score).

    A follow-up with no scale question above it (moved to the top) is asked always, as an ordinary question."""
    rules: dict[int, tuple[int, int, int]] = {}
    above: int | None = None
    for q in questions:
        if above is not None and q.show_if_min is not None and q.show_if_max is not None:
            rules[q.pk] = (above, q.show_if_min, q.show_if_max)
        if q.kind in SCALE_KINDS:
            above = q.pk
    return rules


def follow_up_applies(rule: tuple[int, int, int], values: Mapping[int, Any]) -> bool:
    score = values.get(rule[0])
    return isinstance(score, int) and rule[1] <= score <= rule[2]


def _seen(data: Mapping[str, Any]) -> set[int] | None:
    """Which follow-ups the customer was shown; None means all of them (a script showed them as needed)."""
    raw = str(data.get(SEEN_FIELD, "") or "")
    if raw == SEEN_BY_SCRIPT:
        return None
    return {n for n in (_parse_int(part) for part in raw.split(",")[:50]) if n is not None}


def parse_answers(questions: Iterable[Question], data: Mapping[str, Any]) -> ParsedAnswers:
    """Validate every answer (range, type, required, length). `data` is a QueryDict or a plain dict.

    A follow-up counts only when the score above it calls for it: otherwise whatever was sent for it is ignored.
    One that applies but was never shown (the page had no script and no score yet) goes to `pending`."""
    result = ParsedAnswers()
    getlist = getattr(data, "getlist", None)
    questions = list(questions)
    rules = follow_up_rules(questions)
    seen = _seen(data) if rules else None
    for q in questions:
        name = field_name(q)
        rule = rules.get(q.pk)
        if rule is not None:
            if not follow_up_applies(rule, result.values):
                continue
            if seen is not None and q.pk not in seen and data.get(name) in ("", None):
                result.pending.append(q.pk)
                continue
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
                ) % {"max": formatting.number(TEXT_MAX_LENGTH), "count": formatting.number(len(text))}
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


def _answer_values(question: Question, value: Any) -> tuple[int | None, str, str | None]:
    """(number, text, choices as JSON) for one answer, as the answer table stores them."""
    if question.kind == QuestionKind.MULTI:
        return None, "", json.dumps(value)
    if question.kind in SCALE_KINDS or question.kind in CHOICE_KINDS:
        return value, "", None
    return None, value, None


def answer_rows(by_id: dict[int, Question], answers: ParsedAnswers) -> list[tuple[int, int | None, str, str | None]]:
    """(question id, number, text, choices as JSON) per answer: the one shape every way of storing takes."""
    return [(qid, *_answer_values(by_id[qid], value)) for qid, value in answers.values.items()]


def _insert_orm(
    *,
    survey_id: int,
    version_id: int,
    invitation_id: int | None,
    customer_id: int | None,
    language: str,
    now: datetime,
    rows: list[tuple[int, int | None, str, str | None]],
    segment: str,
    channel: str,
) -> int:
    with transaction.atomic():
        response = Response.objects.create(
            survey_id=survey_id,
            version_id=version_id,
            invitation_id=invitation_id,
            customer_id=customer_id,
            language=language,
            submitted_at=now,
            segment=segment,
            channel=channel,
        )
        Answer.objects.bulk_create(
            Answer(
                response=response,
                question_id=qid,
                number=number,
                text=text,
                choices=None if choices is None else json.loads(choices),
            )
            for qid, number, text, choices in rows
        )
        if invitation_id is not None:
            Invitation.objects.filter(pk=invitation_id).update(answered_at=now, status=Invitation.Status.ANSWERED)
    return response.pk


ORM, STATEMENT = "orm", "statement"


def response_store(
    *,
    survey: Survey,
    version_id: int,
    questions: list[Question],
    answers: ParsedAnswers,
    language: str,
    invitation_id: int | None = None,
    customer_id: int | None = None,
    token_hash: str | None = None,
    stamp: str | None = None,
    method: str | None = None,
    segment: str = "",
    channel: str = Response.Channel.EMAIL,
) -> Response | None:
    """The one function that stores a response, its answers and its invitation's answered time, in one transaction.

    Its variants write the same rows (tests/surveys/test_response_store.py proves it):
    - the ORM, on SQLite (and on request, as the reference the others are tested against);
    - on PostgreSQL, one prepared statement (fastpath.SUBMIT) for a link already checked, or for a public link;
    - with `token_hash` and `stamp`, PostgreSQL's quick statement (fastpath.QUICK), which checks the link itself and
      stores nothing (returns None) unless it is unanswered, unexpired and still at this version and stamp.
    A second response for one invitation raises IntegrityError (the unique index), except in the quick variant.
    `segment` and `channel` are what the analysis groups by, kept as they were when the answer was given (the quick
    statement reads them from the link's rows itself).
    """
    if not answers.is_valid:
        raise ValueError("response_store needs valid answers")
    now = timezone.now()
    by_id = {q.pk: q for q in questions}
    rows = answer_rows(by_id, answers)
    if token_hash is not None:
        try:
            # Inside a caller's transaction a failed statement would poison it: fence it with a savepoint.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                row = fastpath.quick_submit_row(
                    token_hash=token_hash, version_id=version_id, stamp=str(stamp), language=language, now=now,
                    answers=rows,
                )  # fmt: skip
        except (IntegrityError, DataError):
            return None
        if row is None:
            return None
        response_id, survey_id, invitation_id, customer_id, segment, channel = row
    else:
        survey_id = survey.pk
        fields = {
            "survey_id": survey_id,
            "version_id": version_id,
            "invitation_id": invitation_id,
            "customer_id": customer_id,
            "language": language,
            "now": now,
            "segment": segment,
            "channel": channel,
        }
        if (method or (STATEMENT if connection.vendor == "postgresql" else ORM)) == ORM:
            response_id = _insert_orm(**fields, rows=rows)
        elif connection.in_atomic_block:
            # Inside a caller's transaction a failed statement would poison it: fence it with a savepoint.
            with transaction.atomic():
                response_id = fastpath.submit_row(**fields, answers=rows)
        else:
            response_id = fastpath.submit_row(**fields, answers=rows)
    response = Response(
        pk=response_id,
        survey_id=survey_id,
        version_id=version_id,
        invitation_id=invitation_id,
        customer_id=customer_id,
        language=language,
        submitted_at=now,
        segment=segment,
        channel=channel,
    )
    response._state.adding, response._state.db = False, "default"
    _announce(response, survey, by_id, answers)
    return response


def _announce(response: Response, survey: Survey, by_id: dict[int, Question], answers: ParsedAnswers) -> None:
    """Tell other apps, once the transaction commits. `scores` lets a listener decide without a query."""
    scores = [(by_id[qid].kind, value) for qid, value in answers.values.items() if by_id[qid].kind in SCALE_KINDS]
    comments = [value for qid, value in answers.values.items() if by_id[qid].kind == QuestionKind.TEXT]
    transaction.on_commit(
        lambda: response_submitted.send(
            sender=Response, response=response, survey=survey, scores=scores, comments=comments
        )
    )


def response_submit(
    *,
    link: Link,
    survey: Survey,
    questions: list[Question],
    answers: ParsedAnswers,
    language: str,
) -> tuple[Response, bool]:
    """Store one response and its answers in one transaction; (response, created).

    The unique constraint on Response.invitation decides races: the loser of two concurrent posts rolls back and
    gets the winner's response, so the customer sees the thank-you page either way.
    """
    assert link.version_id is not None
    try:
        response = response_store(
            survey=survey,
            version_id=link.version_id,
            questions=questions,
            answers=answers,
            language=language,
            invitation_id=link.invitation_id,
            customer_id=link.customer_id,
            segment=link.segment,
            channel=link.channel,
        )
    except IntegrityError:
        return Response.objects.get(invitation_id=link.invitation_id), False
    assert response is not None
    return response, True


def response_submit_quick(*, token: str, data: Mapping[str, Any]) -> Response | None:
    """PostgreSQL's one-statement submit: the link's checks and the writes together. None: take the full path.

    The form carries the version and the survey's stamp it was built from; when this process has those questions
    cached, the answers are validated against them and one statement checks the link (unanswered, unexpired, survey
    active, same version, same stamp) while it stores the response. Anything unusual — a cold cache, invalid
    answers, an edited survey, a used or bad link — returns None and the caller takes the ordinary path, which
    explains the problem to the customer.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block or not settings.DB_PREPARED_STATEMENTS:
        return None
    version_id = _parse_int(str(data.get("v", "")))
    stamp, language = data.get("st"), data.get("lang")
    if version_id is None or not stamp or language not in ("vi", "en") or not token or len(token) > 128:
        return None
    snapshot = _SNAPSHOTS.get((version_id, str(stamp)))
    if snapshot is None:
        return None
    answers = parse_answers(snapshot.questions, data)
    if not answers.is_valid or answers.pending:
        return None
    return response_store(
        survey=snapshot.survey,
        version_id=version_id,
        questions=snapshot.questions,
        answers=answers,
        language=language,
        token_hash=hash_token(token),
        stamp=str(stamp),
    )
